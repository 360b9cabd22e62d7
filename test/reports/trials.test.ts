import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportResult } from '../../metrics/results.ts';
import { compareTrials, pairedRatio, trialRange } from '../../report-model/trials.ts';

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

// Five trials of a fixed-rate cost, µs per message, while the machine slowed down: both rows
// drifted up together, so their ranges overlap though every pair says the same.
const engine = [14.49, 13.5, 17.31, 19.39, 20.3];
const reference = [18.2, 22.2, 27.19, 33.5, 31.99];
const withValues = (values: number[]) => ({
  ...range([...values].sort((x, y) => x - y)[2]!, Math.min(...values), Math.max(...values), values.length),
  values,
});

describe('compareTrials: trial k of one row against trial k of the other', () => {
  it('pairedRatio is the t interval of the mean log ratio, taken back to a ratio', () => {
    const p = pairedRatio(engine, reference)!;
    const logs = engine.map((v, i) => Math.log(v / reference[i]!));
    const mean = logs.reduce((a, b) => a + b) / 5;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    assert.equal(p.pairs, 5);
    assert.ok(Math.abs(p.low - Math.exp(mean - (2.776 * sd) / Math.sqrt(5))) < 1e-12, `low ${p.low}`);
    assert.ok(Math.abs(p.high - Math.exp(mean + (2.776 * sd) / Math.sqrt(5))) < 1e-12, `high ${p.high}`);
    // Every pair is 0.58–0.80: the interval lies inside what the pairs span, well clear of 1.
    assert.ok(p.low > 0.5 && p.high < 0.8, JSON.stringify(p));
    const same = pairedRatio([2, 4, 6], [4, 8, 12])!;
    assert.ok(Math.abs(same.low - 0.5) < 1e-12 && Math.abs(same.high - 0.5) < 1e-12, 'equal ratios leave no width');
  });

  it('pairedRatio needs three pairs of positive values, as many on each side', () => {
    assert.equal(pairedRatio([1, 2], [2, 3]), undefined);
    assert.equal(pairedRatio([1, 2, 3], [2, 3]), undefined);
    assert.equal(pairedRatio([1, 0, 3], [2, 3, 4]), undefined);
    assert.equal(pairedRatio(undefined, [2, 3, 4]), undefined);
  });

  it('overlapping ranges with pairs more than 10 % from 1 name the winner, by the pairs', () => {
    const a = withValues(engine);
    const b = withValues(reference);
    assert.ok(a.max > b.min, 'the ranges overlap');
    const v = compareTrials(a, b, 'lower');
    assert.equal(v.winner, 'a');
    assert.equal(v.by, 'pairs');
    assert.equal(compareTrials(b, a, 'lower').winner, 'b');
    // Higher is better (messages per CPU second): the same pairs name the other side.
    assert.equal(compareTrials(a, b, 'higher').winner, 'b');
  });

  it('pairs that take in 1 leave a tie, and say so', () => {
    const v = compareTrials(withValues([10, 12, 11]), withValues([11, 11, 11.5]), 'lower');
    assert.equal(v.winner, 'tie');
    assert.ok(v.paired && v.paired.low < 1 && v.paired.high > 1, JSON.stringify(v.paired));
  });

  it('pairs clear of 1 but within 10 % of it leave a tie: a small ratio seen only in pairs did not hold between runs', () => {
    // Three runs' fixed-rate p50s: the first run's pairs agree closely on 1.03–1.04, its ranges overlap.
    const a = withValues([1.477, 1.529, 1.461]);
    const b = withValues([1.432, 1.474, 1.412]);
    const v = compareTrials(a, b, 'lower');
    assert.ok(v.paired && v.paired.low > 1 && v.paired.high < 1.1, JSON.stringify(v.paired));
    assert.equal(v.winner, 'tie');
    // Drifting trials, ranges overlapping: pairs 3 % apart leave a tie, 12 % apart decide.
    const drift = withValues([10, 13, 16]);
    assert.equal(compareTrials(drift, withValues([9.7, 12.6, 15.5]), 'lower').winner, 'tie');
    const apart = compareTrials(drift, withValues([8.9, 11.6, 14.2]), 'lower');
    assert.equal(apart.winner, 'b');
    assert.equal(apart.by, 'pairs');
  });

  it('a least difference: ranges must lie that far apart, and pairs that far from 1', () => {
    // Run m's fixed-rate p50s: the engine's range below ws's, 2 % apart at the closest.
    const a = range(1.41, 1.37, 1.48);
    const b = range(1.55, 1.51, 1.62);
    assert.equal(compareTrials(a, b, 'lower').winner, 'a');
    assert.equal(compareTrials(a, b, 'lower', 0.1).winner, 'tie');
    assert.equal(compareTrials(range(1.2, 1.1, 1.3), b, 'lower', 0.1).winner, 'a', '1.3 × 1.1 is below 1.51');
    assert.equal(compareTrials(b, range(1.2, 1.1, 1.3), 'lower', 0.1).winner, 'b');
    // Pairs 12 % apart, ranges overlapping: enough for the pairs' own 10 %, not for a least difference of 15 %.
    const drift = withValues([10, 13, 16]);
    const lower = withValues([8.9, 11.6, 14.2]);
    assert.equal(compareTrials(drift, lower, 'lower').winner, 'b');
    assert.equal(compareTrials(drift, lower, 'lower', 0.15).winner, 'tie');
  });
});

describe('compareTrials: pairs against medians and ranges, and which trials a row keeps', () => {
  it('pairs never name a winner against the medians', () => {
    // The pairs put a below b, but a's median is above b's: no claim either way.
    const a = { median: 10, min: 5, max: 12, trials: 3, values: [5, 10, 12] };
    const b = { median: 9, min: 6, max: 14, trials: 3, values: [6, 11, 14] };
    assert.ok(pairedRatio(a.values, b.values)!.high < 1);
    assert.equal(compareTrials(a, b, 'lower').winner, 'tie');
  });

  it('ranges apart still decide alone, with the pairs given beside them', () => {
    const v = compareTrials(withValues([10, 11, 12]), withValues([20, 25, 22]), 'lower');
    assert.equal(v.winner, 'a');
    assert.equal(v.by, 'ranges');
    assert.equal(v.paired?.pairs, 3);
  });

  it("trialRange takes a row's trial values only when there is one per completed trial", () => {
    const row = (values: unknown) =>
      ({
        transport: 'ws',
        state: 'completed',
        extra: {
          fixedCpuUsPerMessage: 20,
          trials: 3,
          completedTrials: 3,
          spread: { 'extra.fixedCpuUsPerMessage': { min: 18, max: 25 } },
          trialValues: { 'extra.fixedCpuUsPerMessage': values },
        },
      }) as unknown as TransportResult;
    const get = (r: TransportResult) => r.extra?.['fixedCpuUsPerMessage'] as number;
    assert.deepEqual(trialRange(row([25, 18, 20]), 'extra.fixedCpuUsPerMessage', get)?.values, [25, 18, 20]);
    assert.equal(trialRange(row([25, 18]), 'extra.fixedCpuUsPerMessage', get)?.values, undefined);
    assert.equal(trialRange(row([25, 'x', 20]), 'extra.fixedCpuUsPerMessage', get)?.values, undefined);
  });

  it('combineTrials keeps every trial’s value in trial order, and none when a trial failed', async () => {
    const { combineTrials } = await import('../../runner/repeat.ts');
    const trial = (cost: number) => ({ transport: 'ws', state: 'completed', extra: { fixedCpuUsPerMessage: cost } }) as unknown as TransportResult;
    const row = combineTrials([trial(25), trial(18), trial(20)]);
    assert.deepEqual((row.extra!['trialValues'] as Record<string, number[]>)['extra.fixedCpuUsPerMessage'], [25, 18, 20]);
    assert.equal(row.extra?.['fixedCpuUsPerMessage'], 20, 'the headline is still the median');
    const failed = { transport: 'ws', state: 'errored', error: 'gone' } as unknown as TransportResult;
    const partial = combineTrials([trial(25), failed, trial(20)]);
    assert.equal(partial.extra?.['trialValues'], undefined, 'a missing trial would pair the wrong trials');
    assert.ok((partial.extra!['spread'] as Record<string, unknown>)['extra.fixedCpuUsPerMessage'], 'the spread is still kept');
  });
});

describe('combineTrials: a phase only the first trial ran', () => {
  it('the row keeps that trial’s fixed-load figures as one trial’s, whichever trial is its base', async () => {
    const { combineTrials } = await import('../../runner/repeat.ts');
    const trial = (p50: number, fixed?: number) =>
      ({
        transport: 'ws',
        state: 'completed',
        latencyMs: { p50, p90: p50, p99: p50, p999: p50, max: p50, mean: p50, count: 10 },
        extra: fixed === undefined ? {} : { fixedLoad: { ratePerSec: 5000, cpuUsPerMessage: fixed }, fixedCpuUsPerMessage: fixed, fixedP99Ms: 3 },
      }) as unknown as TransportResult;
    // Trial 2 holds the median p50, so it is the base row; only trial 1 measured the fixed load.
    const row = combineTrials([trial(1, 17.5), trial(2), trial(3)]);
    assert.equal(row.latencyMs?.p50, 2);
    assert.equal(row.extra?.['fixedCpuUsPerMessage'], 17.5);
    assert.equal(row.extra?.['fixedP99Ms'], 3);
    assert.equal((row.extra!['fixedLoad'] as { ratePerSec: number }).ratePerSec, 5000);
    const get = (r: TransportResult) => r.extra?.['fixedCpuUsPerMessage'] as number;
    assert.deepEqual(trialRange(row, 'extra.fixedCpuUsPerMessage', get), { median: 17.5, min: 17.5, max: 17.5, trials: 1 }, 'one trial’s figure, no range');
    assert.deepEqual((row.extra!['spread'] as Record<string, unknown>)['latencyMs.p99'], { min: 1, max: 3 });
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
