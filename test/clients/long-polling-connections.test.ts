/** A long-polling client that only subscribes holds one connection to the server, as a browser's page does, not two. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../runner/session.ts';

test('long polling: 50 subscribers hold 50 server connections through polls answered and re-sent', { timeout: 60_000 }, async (t) => {
  const s = new Session('long-polling', { longPollTimeoutMs: 25_000 }, { wsClient: 'own' });
  t.after(() => s.close());
  await s.startServer();
  await s.startLoad({ clients: 50, processes: 1, pollIntervalMs: 1000, headers: 'minimal' });
  await s.measure(1);
  // Every message answers every held poll, and each client polls again at once.
  await s.publish({ rate: 20, size: 64, durationMs: 500 });
  await s.drain(50 * 10, 5000);
  const { counters } = await s.usage();
  assert.ok((await s.delivered()) >= 50 * 10, 'the polls were answered');
  assert.equal(counters.connectionsOpen, 50);
});
