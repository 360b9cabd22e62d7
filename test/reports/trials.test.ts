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
