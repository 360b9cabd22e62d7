/** dead-peer for real at a tiny scale: a frozen peer is dropped by the WebSocket heartbeats, kept by SSE and HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadPeer, type DeadPeerParams, type DeadPeerRowExtra } from '../../scenarios/dead-peer/index.ts';
import { liveChildren } from '../../runner/session.ts';
import { readDeadPeer } from '../../scenarios/dead-peer/schema.ts';
import type { TransportName } from '../../metrics/results.ts';
import type { RunContext } from '../../scenarios/contract.ts';
import { assertRowAgrees } from './row-check.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };
const P: DeadPeerParams = { heartbeatIntervalMs: 500, maxMissed: 2, capMs: 4000, pollIntervalMs: 200, longPollTimeoutMs: 1000 };
const SLACK_MS = 600;

async function run(t: TransportName): Promise<DeadPeerRowExtra> {
  const r = await deadPeer.run(t, P, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  assertRowAgrees(r);
  assert.equal(liveChildren.size, 0, 'every child process is gone after the run');
  const x = r.extra as unknown as DeadPeerRowExtra;
  assert.equal(x.capMs, P.capMs);
  assert.ok(x.before.connectionsOpen >= 1, 'the peer was connected before the freeze');
  assert.ok(x.mechanism.length > 20);
  return x;
}

for (const t of ['ws', 'websocket'] as const) {
  test(`${t}: a frozen peer is dropped within heartbeat × (missed + 1)`, { timeout: 20_000 }, async () => {
    const x = await run(t);
    assert.equal(x.detected, true);
    const bound = P.heartbeatIntervalMs * (P.maxMissed + 1) + SLACK_MS;
    assert.ok(x.detectMs! >= P.heartbeatIntervalMs * (P.maxMissed - 1) && x.detectMs! <= bound, `detectMs ${x.detectMs} within ${bound}`);
    assert.deepEqual(x.heartbeat, { intervalMs: 500, maxMissed: 2 });
    assert.equal(x.heartbeatKind, 'ping-pong');
    assert.equal(readDeadPeer(x)?.detectMs, x.detectMs, 'the report reads it');
  });
}

test('sse: one-way comment heartbeats never notice a frozen peer', { timeout: 20_000 }, async () => {
  const x = await run('sse');
  assert.equal(x.detected, false);
  assert.equal(x.detectMs, undefined);
  assert.equal(x.heartbeatKind, 'one-way comment');
  assert.equal(x.expectedMs, null);
  assert.equal(x.timeline.length, 1, 'the server never changed its view of the peer');
});

test('long-polling: the held poll is answered, the keep-alive socket stays', { timeout: 20_000 }, async () => {
  const x = await run('long-polling');
  assert.equal(x.detected, false);
  assert.ok(x.heldPollAnsweredMs !== undefined && x.heldPollAnsweredMs <= P.longPollTimeoutMs + SLACK_MS, `held poll answered at ${x.heldPollAnsweredMs}`);
  assert.equal(x.expectedMs, P.longPollTimeoutMs + 65_000);
  assert.ok(x.timeline.at(-1)!.connectionsOpen >= 1);
});
