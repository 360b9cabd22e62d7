/**
 * Who was the limit of a throughput ramp: the load's share at the step that failed decides
 * whether the figure is a floor, and the quick and full profiles' step counts reach a limit
 * above what one load process can send upward.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportResult } from '../../metrics/results.ts';
import { limitedBy } from '../../scenarios/throughput/steps.ts';
import type { ThroughputStep } from '../../scenarios/throughput/schema.ts';
import { bracketOf, nextRate, type Tried } from '../../scenarios/throughput/search.ts';

const row = (loadPct: number): TransportResult =>
  ({
    transport: 'websocket',
    state: 'completed',
    error: null,
    client: { cpuMs: 500, cpuPct: loadPct, processes: 1, clientBound: loadPct >= 90 },
  }) as TransportResult;

const step = (rate: number, sustained: boolean, serverCpuPct: number, loadCpuPct: number): ThroughputStep => ({
  rate,
  deliveredPerSec: rate,
  p99Ms: null,
  sustained,
  serverCpuPct,
  loadCpuPct,
});

describe('a ramp is a floor when its load was at 90 % of its core where it failed', () => {
  it('a load that held at 60 % and failed at 97 % makes a floor, with the failed step’s share', () => {
    const out = limitedBy(row(60), [step(100_000, true, 40, 60), step(200_000, false, 50, 97)], 200_000);
    assert.equal(out.client?.clientBound, true);
    assert.equal(out.client?.cpuPct, 97);
  });
  it('a server at its core with the load below 90 % at the failed step is no floor, even if the load was busy at the held one', () => {
    const out = limitedBy(row(92), [step(100_000, true, 70, 92), step(150_000, false, 99, 80)], 150_000);
    assert.equal(out.client?.clientBound, false);
    assert.equal(out.client?.cpuPct, 80);
  });
  it('the last try of a rate tried twice decides; without a failed step the row stays as measured', () => {
    const steps = [step(100_000, true, 40, 60), step(200_000, false, 50, 95), step(150_000, true, 45, 70), step(200_000, false, 50, 85)];
    assert.equal(limitedBy(row(60), steps, 200_000).client?.clientBound, false);
    assert.equal(limitedBy(row(60), [step(100_000, true, 40, 60)], undefined).client?.clientBound, false);
    assert.equal(limitedBy(row(95), [step(100_000, true, 40, 95)], undefined).client?.clientBound, true);
  });
});

/** Runs the search against an oracle that sustains every rate below `limit`. */
function search(limit: number, start: number, resolution: number, maxSteps: number): Tried[] {
  const tried: Tried[] = [];
  for (let r = nextRate(start, tried, resolution, maxSteps); r !== undefined; r = nextRate(start, tried, resolution, maxSteps)) {
    tried.push({ rate: r, sustained: r < limit });
  }
  return tried;
}

describe('the profiles’ step counts end at a failed step above 640,000 msg/s', () => {
  for (const [profile, start, resolution, steps] of [
    ['quick', 10_000, 0.25, 10],
    ['full', 2000, 0.05, 20],
  ] as const) {
    it(`${profile}: a limit of 1,000,000 msg/s is bracketed within ${resolution * 100} %`, () => {
      const b = bracketOf(search(1_000_000, start, resolution, steps));
      assert.ok(b.failed !== undefined && b.sustained !== undefined && b.resolution! <= resolution, JSON.stringify(b));
    });
  }
});
