/**
 * A trial whose load was the limit runs again with more load processes while the load's CPUs
 * allow; one still bound at the most it may have keeps its figures, marked as a floor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../runner/bench.ts';
import { measuredRow, type Scenario } from '../../scenarios/contract.ts';

/** A scenario whose load is bound below `enough` load processes; records the counts it was run with. */
function boundBelow(enough: number, calls: number[]): Scenario<{ loadProcesses: number }> {
  return {
    name: 'bound',
    summary: 'bound below a number of load processes',
    facet: {},
    params: () => ({ loadProcesses: 1 }),
    plannedMs: () => 0,
    run: async (t, p) => {
      calls.push(p.loadProcesses);
      return measuredRow(t, { client: { cpuMs: 1, cpuPct: 99, processes: p.loadProcesses, clientBound: p.loadProcesses < enough } });
    },
  };
}

/** Runs the scenario on one transport with `loadCores` CPUs for the load; its row and the process counts tried (noise reruns folded). */
async function run(enough: number, loadCores: number) {
  const calls: number[] = [];
  const { results } = await runBench({
    scenarios: [{ scenario: boundBelow(enough, calls), params: { loadProcesses: 1 } }],
    transports: ['ws'],
    command: 'test',
    log: () => {},
    run: { wsClient: 'own', cpus: { server: [0], load: Array.from({ length: loadCores }, (_, i) => i + 1) } },
  });
  // A trial rerun for noise starts again from one process: the counts are read from the last rerun.
  const tried = calls.slice(calls.lastIndexOf(1));
  return { row: results.scenarios[0]!.results[0]!, tried };
}

test('a bound load doubles its processes until it is not bound', async () => {
  const { row, tried } = await run(4, 4);
  assert.deepEqual(tried, [1, 2, 4]);
  assert.equal(row.client?.clientBound, false);
  assert.equal(row.extra?.['floor'], undefined);
});

test('a load still bound with every load CPU in use keeps its figures as a floor', async () => {
  const { row, tried } = await run(8, 2);
  assert.deepEqual(tried, [1, 2]);
  assert.equal(row.client?.clientBound, true);
  assert.equal(row.extra?.['floor'], true);
});
