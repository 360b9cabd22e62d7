import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportResult } from '../../metrics/results.ts';
import { compareTrials, trialRange } from '../../report-model/trials.ts';

const range = (median: number, min: number, max: number, trials = 3) => ({ median, min, max, trials });

describe("compareTrials: one transport beats another only beyond the trials' spread", () => {
  it("non-overlapping ranges name the better side in the figure's direction", () => {
    assert.equal(compareTrials(range(10, 9, 11), range(20, 18, 22), 'lower').winner, 'a');
    assert.equal(compareTrials(range(10, 9, 11), range(20, 18, 22), 'higher').winner, 'b');
    assert.equal(compareTrials(range(30, 25, 31), range(20, 18, 22), 'higher').winner, 'a');
  });
  it('overlapping ranges are a tie, however far apart the medians', () => {
    const v = compareTrials(range(10, 9, 19), range(20, 18, 22), 'lower');
    assert.equal(v.winner, 'tie');
    assert.equal(v.ratio, 0.5);
    assert.equal(compareTrials(range(10, 9, 18), range(20, 18, 22), 'lower').winner, 'tie', 'touching ranges overlap');
  });
  it('one trial on either side gives no verdict', () => {
    assert.equal(compareTrials(range(10, 10, 10, 1), range(20, 18, 22), 'lower').winner, 'single');
    assert.equal(compareTrials(range(10, 9, 11), range(20, 20, 20, 1), 'lower').winner, 'single');
  });
  it('trialRange reads the median and the spread a repeated row kept', () => {
    const row = {
      transport: 'ws',
      state: 'completed',
      server: { cpuMs: 100, rssMaxBytes: 1, cpuUsPerMessage: 20 },
      extra: { trials: 3, completedTrials: 3, spread: { 'server.cpuUsPerMessage': { min: 18, max: 25 } } },
    } as unknown as TransportResult;
    assert.deepEqual(
      trialRange(row, 'server.cpuUsPerMessage', (r) => r.server?.['cpuUsPerMessage'] as number),
      { median: 20, min: 18, max: 25, trials: 3 },
    );
    const single = { ...row, extra: {} } as TransportResult;
    assert.deepEqual(
      trialRange(single, 'server.cpuUsPerMessage', (r) => r.server?.['cpuUsPerMessage'] as number),
      { median: 20, min: 20, max: 20, trials: 1 },
    );
  });
});

describe('combineTrials: a saturation search keeps the trial of its median sustained rate', () => {
  it('bracket, steps and rate come from one trial, the median one, with the rates spread', async () => {
    const { combineTrials } = await import('../../runner/repeat.ts');
    const trial = (sustainedRate: number, failedRate: number, p50: number) =>
      ({
        transport: 'ws',
        state: 'completed',
        latencyMs: { p50, p90: p50, p99: p50, p999: p50, max: p50, mean: p50 },
        throughput: { messagesPerSec: sustainedRate * 10, payloadBytesPerSec: 1 },
        extra: { sustainedRate, failedRate, steps: [{ rate: failedRate, sustained: false }] },
      }) as unknown as TransportResult;
    // The median p50 (45 ms) belongs to the slowest trial; the median rate (13,000) to another.
    const row = combineTrials([trial(13_000, 14_000, 50), trial(16_000, 17_000, 40), trial(11_000, 12_000, 45)]);
    assert.equal(row.extra?.['sustainedRate'], 13_000);
    assert.equal(row.extra?.['failedRate'], 14_000, 'the bracket is one trial’s');
    assert.deepEqual((row.extra!['spread'] as Record<string, unknown>)['extra.sustainedRate'], { min: 11_000, max: 16_000 });
    assert.equal(row.throughput?.messagesPerSec, 130_000, 'the median of the trials');
  });
});

describe('combineTrials: the fixed-rate latency is read from the trials pooled', () => {
  it('p50 and p99 of all round trips together, inside the trials’ range, which the spread keeps', async () => {
    const { combineTrials } = await import('../../runner/repeat.ts');
    const { encodeHistogram, histogramOf, summarize } = await import('../../metrics/latency.ts');
    const ms = (x: number) => x * 1e6;
    // Two quiet trials (1,000 round trips of 1–2 ms) and one with a 2 % tail at 40 ms.
    const quiet = Array.from({ length: 1000 }, (_, i) => ms(1 + i / 1000));
    const stalled = quiet.map((v, i) => (i < 20 ? ms(40) : v));
    const trial = (samples: number[]) => {
      const s = summarize(histogramOf(samples))!;
      return {
        transport: 'ws',
        state: 'completed',
        latencyMs: { p50: 5, p90: 5, p99: 5, p999: 5, max: 5, mean: 5 },
        extra: {
          fixedP50Ms: s.p50,
          fixedP99Ms: s.p99,
          fixedLoad: { latencyMs: { p50: s.p50, p99: s.p99, p999: s.p999 }, histogram: encodeHistogram(histogramOf(samples)) },
        },
      } as unknown as TransportResult;
    };
    const trials = [trial(quiet), trial(stalled), trial(quiet)];
    const row = combineTrials(trials);
    const pooled = summarize(histogramOf([...quiet, ...stalled, ...quiet]))!;
    const spread = (row.extra!['spread'] as Record<string, { min: number; max: number }>)['extra.fixedP99Ms']!;
    assert.equal(row.extra?.['fixedP99Ms'], pooled.p99);
    assert.equal(row.extra?.['fixedP50Ms'], pooled.p50);
    // The stalled trial's p99 is 40 ms, the quiet ones' about 2 ms: pooled, its 20 slow round trips are under 1 % of 3,000.
    assert.ok(spread.max >= 39 && spread.min < 2.1, JSON.stringify(spread));
    assert.ok(pooled.p99 >= spread.min && pooled.p99 <= spread.max && pooled.p99 < 2.1, `pooled p99 ${pooled.p99}`);
  });

  it('without every trial’s histogram the median of the trials stays', async () => {
    const { combineTrials } = await import('../../runner/repeat.ts');
    const trial = (p99: number) =>
      ({ transport: 'ws', state: 'completed', extra: { fixedP50Ms: 1, fixedP99Ms: p99, fixedLoad: {} } }) as unknown as TransportResult;
    assert.equal(combineTrials([trial(2), trial(9), trial(3)]).extra?.['fixedP99Ms'], 3);
  });
});
