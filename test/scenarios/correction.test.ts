/**
 * Coordinated omission: the latency correction must see a stall that the
 * uncorrected figure hides, and an injected fixed delay must be measured as
 * that delay. Real server and load processes; faults injected through LAB_FAULT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { push, PUSH_DEFAULTS } from '../../scenarios/push/index.ts';
import type { RunContext } from '../../scenarios/contract.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };

async function withFault<T>(fault: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env['LAB_FAULT'];
  process.env['LAB_FAULT'] = fault;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env['LAB_FAULT'];
    else process.env['LAB_FAULT'] = before;
  }
}

test('a 500 ms server stall shows in the corrected p99 and not in the uncorrected one', async () => {
  const row = await withFault('ws:stall=500@800', () => push.run('ws', { ...PUSH_DEFAULTS, clients: 2, rate: 200, durationMs: 2500 }, ctx));
  assert.equal(row.state, 'completed');
  assert.equal(row.messages!.lost, 0);
  const corrected = row.latencyMs!;
  const uncorrected = row.latencyMsUncorrected!;
  // 100 of 500 messages fell due during the stall: the corrected tail holds them.
  assert.ok(corrected.p99 >= 350, `corrected p99 ${corrected.p99} ms should reflect the 500 ms stall`);
  assert.ok(corrected.max >= 450, `corrected max ${corrected.max} ms`);
  assert.ok(uncorrected.p99 < 100, `uncorrected p99 ${uncorrected.p99} ms should not see the stall`);
  assert.ok(corrected.p99 > 5 * uncorrected.p99);
});

test('a fixed 40 ms delay is measured as 40 ms, corrected and uncorrected alike', async () => {
  const row = await withFault('sse:delay=40', () => push.run('sse', { ...PUSH_DEFAULTS, clients: 2, rate: 100, durationMs: 1500 }, ctx));
  assert.equal(row.state, 'completed');
  assert.equal(row.messages!.lost, 0);
  for (const [name, l] of [
    ['corrected', row.latencyMs!],
    ['uncorrected', row.latencyMsUncorrected!],
  ] as const) {
    assert.ok(l.p50 >= 40 && l.p50 <= 50, `${name} p50 ${l.p50} ms should be 40 ms plus a little transport time`);
    assert.ok(l.p99 >= 40, `${name} p99 ${l.p99} ms is below the injected delay`);
  }
  // No stall, so nothing fell due unsent: the correction adds nothing of its own. (An absolute
  // bound on p99 would measure the machine's load, not the correction.)
  const added = row.latencyMs!.p99 - row.latencyMsUncorrected!.p99;
  assert.ok(added >= 0 && added <= 5, `the correction moved p99 by ${added.toFixed(2)} ms`);
});
