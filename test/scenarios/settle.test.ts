/**
 * Senders that fell behind settle before the next ramp step: `settle` reports the sends still out
 * and waits for them, so a step can reuse its senders instead of forking a new load process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../runner/session.ts';

// Short polling sends each message as a POST that is out until the server answers it: a stopped
// server holds every send, a resumed one answers them all.
test('settle waits for open-loop sends still out, and says how many it gave up on', { timeout: 60_000 }, async () => {
  const s = new Session('polling', { echo: false }, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ clients: 2, processes: 1, pollIntervalMs: 1000, headers: 'minimal', mode: 'echo' });
    const load = s.loads[0]!;
    const pid = s.server.proc.pid!;
    process.kill(pid, 'SIGSTOP');
    let sent: { sent: number };
    try {
      sent = await load.ask({ type: 'send', ratePerClient: 50, size: 64, durationMs: 200, maxInflight: 64 }, 10_000);
      assert.ok(sent.sent >= 10, `sent ${sent.sent}`);
      const held = await load.ask({ type: 'settle', timeoutMs: 300 }, 10_000);
      assert.equal(held.pending, sent.sent, 'every POST is still out while the server is stopped');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const after = await load.ask({ type: 'settle', timeoutMs: 10_000 }, 20_000);
    assert.equal(after.pending, 0, 'all answered once the server runs again');
    assert.equal((await s.counters()).messagesIn - (s.baseCounters?.messagesIn ?? 0), sent.sent, 'the server received each send once');
  } finally {
    await s.close();
  }
});
