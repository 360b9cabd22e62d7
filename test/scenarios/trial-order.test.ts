/** With --repeat, trials take turns across transports, so drift during a scenario weighs on every transport alike. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../runner/bench.ts';
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
