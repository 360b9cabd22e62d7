/**
 * A message that reaches a load process before the `measure` that opens its phase is kept when
 * the phase was armed first, and forgotten when it was not: the race that made a push lose the
 * latency of its first message now and then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeEncoded } from '../../metrics/latency.ts';
import { Session } from '../../runner/session.ts';

async function firstMessageBeforeMeasure(arm: boolean): Promise<{ delivered: number; recorded: number }> {
  const s = new Session('websocket', {}, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ clients: 1, processes: 1, pollIntervalMs: 1000, headers: 'minimal' });
    if (arm) await s.arm(1);
    // Five messages published and delivered before the measured phase is opened.
    const early = await s.server.ask({ type: 'publish', rate: 100, size: 64, durationMs: 50 }, 10_000);
    // Progress events begin with the measured phase, so wait on snapshots here.
    for (let i = 0; i < 100 && (await s.loads[0]!.ask({ type: 'snapshot' }, 5000)).delivered < early.last; i++) await new Promise((r) => setTimeout(r, 20));
    await s.measure(1);
    const later = await s.server.ask({ type: 'publish', rate: 100, size: 64, durationMs: 50, firstSeq: early.last + 1 }, 10_000);
    await s.drain(later.last - early.last, 5000);
    const [r] = await Promise.all(s.loads.map((l) => l.ask({ type: 'finish', first: 1, last: later.last }, 10_000)));
    return { delivered: r!.delivered, recorded: mergeEncoded([r!.histograms.corrected]).totalCount };
  } finally {
    await s.close();
  }
}

test('armed: the messages that arrive before measure are counted and their latency recorded', { timeout: 30_000 }, async () => {
  const r = await firstMessageBeforeMeasure(true);
  assert.ok(r.delivered >= 6, `delivered ${r.delivered}`);
  assert.equal(r.recorded, r.delivered);
});

test('not armed: measure forgets the latencies recorded before it, which is why push arms first', { timeout: 30_000 }, async () => {
  const r = await firstMessageBeforeMeasure(false);
  assert.ok(r.delivered >= 6, `delivered ${r.delivered}`);
  assert.ok(r.recorded < r.delivered, `recorded ${r.recorded} of ${r.delivered}`);
});
