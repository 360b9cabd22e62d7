/**
 * The results file's schemas: a scenario's extras read through its own schema
 * (what does not parse is skipped, never fatal), the runner writes `summary`
 * and `n/a` rows, and a version 1 file is migrated on load.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_VERSION, upgradeResults, type Results } from '../../metrics/results.ts';
import { validateResults, ReportInputError } from '../../reports/validate.ts';
import { runBench } from '../../runner/bench.ts';
import { measuredRow, type Scenario } from '../../scenarios/contract.ts';
import { readFanOutCapacity, readFanOutSteps } from '../../scenarios/fan-out/schema.ts';
import { readDeadPeer } from '../../scenarios/dead-peer/schema.ts';
import { readThroughputExtra } from '../../scenarios/throughput/schema.ts';
import { readHttpSaturation, readSaturationVariants } from '../../scenarios/http-saturation/schema.ts';
import { readOverheadSummary } from '../../scenarios/overhead/schema.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely to build malformed files
const load = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

describe('scenario extras through their schemas', () => {
  test('a well-formed extra parses', () => {
    const steps = readFanOutSteps({
      steps: [
        { n: 100, p50: 2, p99: 9, delivered: 1000, lost: 0 },
        { n: 10, p50: 1, p99: 3, delivered: 100, lost: 0 },
      ],
    });
    assert.deepEqual(
      steps?.map((s) => s.n),
      [10, 100],
      'sorted by N',
    );
    const dp = readDeadPeer({
      detected: true,
      detectMs: 2100,
      capMs: 6000,
      heartbeat: { intervalMs: 1000, maxMissed: 2 },
      heartbeatKind: 'ping-pong',
      expectedMs: 3000,
      mechanism: 'ping',
    });
    assert.deepEqual(dp, {
      detected: true,
      detectMs: 2100,
      capMs: 6000,
      heartbeat: { intervalMs: 1000, maxMissed: 2 },
      heartbeatKind: 'ping-pong',
      expectedMs: 3000,
      mechanism: 'ping',
    });
    const th = readThroughputExtra({ direction: 'down', steps: [{ rate: 500, deliveredPerSec: 499, p99Ms: 3, sustained: true }], sustainedRate: 500 });
    assert.equal(th?.steps?.[0]?.rate, 500);
    assert.equal(th?.sustainedRate, 500);
  });

  test('a malformed extra is skipped, not fatal: bad elements and fields drop, the rest stays', () => {
    // A step whose p99 was NaN (written as null) is dropped; the good one stays.
    assert.deepEqual(
      readFanOutSteps({ steps: [{ n: 5, p50: null, p99: null, delivered: 0, lost: 0 }, { n: 1, p50: 1, p99: 2, delivered: 10, lost: 0 }, 'x'] })?.map(
        (s) => s.n,
      ),
      [1],
    );
    for (const bad of [undefined, null, 'steps', 42, [], { steps: 'none' }, { steps: [{ n: 'ten' }] }])
      assert.equal(readFanOutSteps(bad), undefined, JSON.stringify(bad));
    // Detected without a time, or not detected without the cap waited, says nothing.
    assert.equal(readDeadPeer({ detected: true }), undefined);
    assert.equal(readDeadPeer({ detected: false }), undefined);
    // A bad optional field drops alone.
    assert.deepEqual(readDeadPeer({ detectMs: 900, heartbeat: { intervalMs: 'often' }, mechanism: 7 }), { detected: true, detectMs: 900 });
    assert.deepEqual(readHttpSaturation({ requestsPerSec: 100, latencyMs: { p50: 'fast', p99: 4 } }), { requestsPerSec: 100, latencyMs: { p99: 4 } });
    assert.deepEqual(readSaturationVariants({ variants: [{ name: 'empty' }, { name: 'message', requestsPerSec: 9, server: { cpuPct: 'hot' } }] }), [
      { name: 'message', requestsPerSec: 9, latencyMs: {} },
    ]);
    // A ramp rung without a latency upward reads as null, not as a dropped rung.
    assert.equal(readThroughputExtra({ steps: [{ rate: 1, deliveredPerSec: 1, sustained: true }] })?.steps?.[0]?.p99Ms, null);
    assert.deepEqual(readFanOutCapacity({ capacity: { limitMs: 50, largestN: { sse: 100, ws: 'many' } } })?.largestN, { sse: 100 });
    assert.equal(readFanOutCapacity({ capacity: { largestN: {} } }), undefined);
    // A crossover naming neither line as the cheaper one keeps the crossing, not the claim.
    assert.equal(
      readOverheadSummary({ crossovers: [{ a: 'sse', b: 'ws', sizeBytes: 64, ratePerClient: 3, cheaperBelow: 'polling' }] })?.crossovers?.[0]?.cheaperBelow,
      undefined,
    );
  });
});

describe('results version 1 → 2', () => {
  test('the recorded v1 run migrates to the v2 fixture', () => {
    const v1 = load('results-real-v1.json');
    assert.equal(v1['meta'].version, 1);
    const fan = v1['scenarios'].find((s: { name: string }) => s.name === 'fan-out');
    const capacity = structuredClone(fan.params.capacity);
    const v2 = upgradeResults(v1) as Results;
    assert.deepEqual(v2, load('results-real.json'));
    assert.equal(v2.meta.version, RESULTS_VERSION);
    // Cross-transport results leave params; fan-out's flag comes back from the result.
    const f2 = v2.scenarios.find((s) => s.name === 'fan-out')!;
    assert.deepEqual(f2.summary?.['capacity'], capacity);
    assert.equal(f2.params['capacity'], capacity.searched);
    const o2 = v2.scenarios.find((s) => s.name === 'overhead')!;
    assert.ok(Array.isArray(o2.summary?.['crossovers']) && Array.isArray(o2.summary?.['extrapolated']));
    assert.ok(!('crossovers' in o2.params) && !('extrapolated' in o2.params));
    assert.ok(
      v2.scenarios.filter((s) => s.name.startsWith('throughput')).every((s) => s.summary?.['sustainedRate'] !== undefined && !('sustainedRate' in s.params)),
    );
    // Skipped rows become n/a rows with the bare reason.
    const na = v2.scenarios.find((s) => s.name === 'http-saturation')!.results.filter((r) => r.state === 'n/a');
    assert.deepEqual(
      na.map((r) => r.transport),
      ['sse', 'websocket', 'ws'],
    );
    assert.match(na[0]!.error!, /^SSE holds one streaming response/);
    assert.ok(na.every((r) => r.extra === undefined));
  });

  test('a v2 file, or something else, is left as it is', () => {
    const v2 = load('results-full.json');
    assert.deepEqual(upgradeResults(structuredClone(v2)), v2);
    for (const other of [null, 'x', { meta: { version: 7 }, scenarios: [] }]) assert.deepEqual(upgradeResults(structuredClone(other)), other);
  });

  test('validation reads a v1 file as v2 and names the file and place of a problem in one line', () => {
    const r = validateResults(load('results-real-v1.json'), 'old.json');
    assert.equal(r.meta.version, RESULTS_VERSION);
    const bad = load('results-full.json');
    bad['scenarios'][2].results[1].state = 'skipped';
    assert.throws(
      () => validateResults(bad, 'x.json'),
      (e: Error) => e instanceof ReportInputError && e.message === 'x.json: scenarios[2].results[1].state is "skipped", not one of completed, errored, n/a',
    );
    const badNum = load('results-full.json');
    badNum['scenarios'][0].results[0].latencyMs.p99 = 'slow';
    assert.throws(() => validateResults(badNum, 'y.json'), /^ReportInputError: y\.json: scenarios\[0\]\.results\[0\]\.latencyMs\.p99 is not a finite number$/);
    const noParams = load('results-full.json');
    delete noParams['scenarios'][1].params;
    assert.throws(() => validateResults(noParams, 'z.json'), /z\.json: scenarios\[1\]\.params is missing \(scenario "echo"\)/);
    assert.throws(
      () => validateResults({ ...load('results-full.json'), meta: { ...load('results-full.json')['meta'], version: 3 } }, 'n.json'),
      /n\.json: results version 3, but this report reads version 2/,
    );
  });
});

test('the runner writes a summary and n/a rows', async () => {
  const fake: Scenario = {
    name: 'fake',
    summary: 'a scenario that measures nothing',
    facet: {},
    plannedMs: () => 0,
    params: () => ({}),
    skipReason: (t) => (t.traits.delivery === 'stream' ? 'SSE has nothing to do here' : null),
    run: async (t) => measuredRow(t, { extra: { n: 1 } }),
    summarize: (sr) => ({ rows: sr.results.filter((r) => r.state === 'completed').length }),
  };
  const { results } = await runBench({
    scenarios: [{ scenario: fake, params: {} }],
    transports: ['sse', 'ws'],
    command: 'test',
    log: () => {},
    run: { wsClient: 'own' },
  });
  const s = results.scenarios[0]!;
  assert.deepEqual(s.summary, { rows: 1 });
  assert.deepEqual(s.params, {});
  const na = s.results.find((r) => r.transport === 'sse')!;
  assert.equal(na.state, 'n/a');
  assert.equal(na.error, 'SSE has nothing to do here');
  assert.equal(results.meta.version, RESULTS_VERSION);
  assert.equal(validateResults(structuredClone(results)).scenarios[0]!.results.length, 2);
});
