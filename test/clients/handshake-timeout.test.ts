/**
 * Both WebSocket clients give up on an opening handshake the server never answers after the same
 * time, so a failover row of the engine and one of `ws` wait alike for a connection a balancer
 * accepted and never served.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { HANDSHAKE_TIMEOUT_MS } from '../../protocol/index.ts';
import { createClientFor } from '../../transports/load.ts';

test('websocket and ws: a handshake never answered fails after HANDSHAKE_TIMEOUT_MS, not sooner and not never', { timeout: 60_000 }, async (t) => {
  // Accepts, reads the upgrade request, never answers.
  const held: Socket[] = [];
  const silent = createServer((s) => {
    held.push(s);
    s.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of held) s.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const tries = ['websocket', 'ws'].map(async (row) => {
    const client = await createClientFor(row, { baseUrl: `http://127.0.0.1:${port}`, clientId: `h-${row}`, onMessage: () => {} });
    const t0 = performance.now();
    await assert.rejects(client.start(), `${row}: the handshake fails`);
    return { row, ms: performance.now() - t0 };
  });
  for (const { row, ms } of await Promise.all(tries)) {
    assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 50 && ms < HANDSHAKE_TIMEOUT_MS + 3000, `${row} gave up after ${ms.toFixed(0)} ms`);
  }
});
