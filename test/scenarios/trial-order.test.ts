/** With --repeat, trials take turns across transports, so drift during a scenario weighs on every transport alike. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownTrials, runBench } from '../../runner/bench.ts';
import { push } from '../../scenarios/push/index.ts';
import { readFlags, SHARED_FLAGS } from '../../runner/flags.ts';
import { transport } from '../../transports/index.ts';
import { measuredRow, type Scenario } from '../../scenarios/contract.ts';

test('trials interleave across transports; each transport still gets its trials combined', async () => {
  const calls: string[] = [];
  const fake: Scenario = {
    name: 'fake',
    summary: 'records the order it is run in',
    facet: {},
    params: () => ({}),
    plannedMs: () => 0,
    skipReason: (t) => (t.traits.delivery === 'stream' ? 'not for SSE' : null),
    run: async (t, _p, ctx) => {
      calls.push(`${t}#${ctx.trial}`);
      return measuredRow(t, { extra: { n: 1 } });
    },
  };
  const { results } = await runBench({
    scenarios: [{ scenario: fake, params: {} }],
    transports: ['ws', 'sse', 'websocket'],
    repeat: 3,
    command: 'test',
    log: () => {},
    run: { wsClient: 'own' },
  });
  // A trial rerun for noise repeats itself at once: the order is read without those repeats.
  const order = calls.filter((c, i) => c !== calls[i - 1]);
  assert.deepEqual(order, ['ws#1', 'websocket#1', 'ws#2', 'websocket#2', 'ws#3', 'websocket#3']);
  const rows = results.scenarios[0]!.results;
  assert.deepEqual(
    rows.map((r) => `${r.transport} ${r.state}`),
    ['ws completed', 'sse n/a', 'websocket completed'],
    'rows keep the transports order',
  );
  for (const r of rows.filter((x) => x.state === 'completed')) assert.equal(r.extra?.['trials'], 3);
});

test('a scenario with trials of its own runs them beside scenarios that take the run’s, and the plan counts them', async () => {
  const calls: string[] = [];
  const lines: string[] = [];
  const fake = (name: string): Scenario => ({
    name,
    summary: 'records the order it is run in',
    facet: {},
    params: () => ({}),
    plannedMs: () => 0,
    run: async (t, _p, ctx) => {
      calls.push(`${name} ${t}#${ctx.trial}`);
      if (ctx.quickTrials !== (name === 'three' ? true : undefined)) throw new Error(`${name}: told quickTrials ${ctx.quickTrials}`);
      return measuredRow(t, { latencyMs: { p50: ctx.trial!, p90: 1, p99: ctx.trial!, p999: 1, max: 1, mean: 1, count: 1 } });
    },
  });
  const { results } = await runBench({
    scenarios: [
      { scenario: fake('three'), params: {}, repeat: 3 },
      { scenario: fake('one'), params: {} },
    ],
    transports: ['websocket', 'ws'],
    command: 'test',
    log: (l) => lines.push(l),
    run: { wsClient: 'own' },
  });
  assert.match(lines[0]!, /^progress: 0\/8 runs/, 'three trials of two rows and one of two rows');
  const order = calls.filter((c, i) => c !== calls[i - 1]);
  assert.deepEqual(order, [
    'three websocket#1',
    'three ws#1',
    'three websocket#2',
    'three ws#2',
    'three websocket#3',
    'three ws#3',
    'one websocket#1',
    'one ws#1',
  ]);
  const [three, one] = results.scenarios;
  for (const r of three!.results) {
    assert.equal(r.extra?.['trials'], 3);
    assert.deepEqual((r.extra!['spread'] as Record<string, unknown>)['latencyMs.p99'], { min: 1, max: 3 });
  }
  for (const r of one!.results) assert.equal(r.extra?.['trials'], undefined);
});

test('the quick profile gives a scenario the trials it asks for unless --repeat is given; the full profile keeps the run’s', () => {
  assert.equal(push.quickTrials !== undefined && push.quickTrials >= 3, true, 'push answers the matrix’s latency column');
  assert.equal(ownTrials(push, 'quick', false), push.quickTrials);
  assert.equal(ownTrials(push, 'quick', true), undefined);
  assert.equal(ownTrials(push, 'full', false), undefined);
  assert.equal(ownTrials({}, 'quick', false), undefined);
  // The ETA plans the quick trials as they run: the fixed-load phase in the first only.
  const p = push.params(readFlags({ ...SHARED_FLAGS }, {}, 'quick'), 'quick');
  const ws = transport('ws');
  const first = push.plannedMs(p, ws, { index: 1, quickTrials: true });
  const second = push.plannedMs(p, ws, { index: 2, quickTrials: true });
  assert.ok(first > second, `${first} ms then ${second} ms`);
  assert.equal(push.plannedMs(p, ws, { index: 2, quickTrials: false }), first, 'with --repeat every trial has the phase');
  assert.equal(
    push.plannedMs(p, transport('sse'), { index: 1, quickTrials: true }),
    push.plannedMs(p, transport('sse'), { index: 2, quickTrials: true }),
    'no phase on SSE',
  );
});
