import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportResult } from '../metrics/results.ts';
import { calibrate, moreLoadProcesses, noisyTrial } from '../runner/trial-checks.ts';

describe('calibration: a trial on a slower machine is flagged', () => {
  it('a trial whose calibration is 20 % over the run median is noisy; steady ones are not', () => {
    const run = [100, 102, 98, 101, 99, 100];
    const late = [130, 128, 131, 129, 130, 130];
    assert.equal(noisyTrial(run, late, 100, 131), false, 'afters are judged against afters');
    assert.equal(noisyTrial([...run, 100], [...late, 170], 100, 170), true, 'slow after');
    assert.equal(noisyTrial([...run, 140], [...late, 130], 140, 130), true, 'slow before');
    assert.equal(noisyTrial([...run, 118], [...late, 150], 118, 150), false, 'within the tolerance');
  });
  it('too few samples to judge: never noisy', () => {
    assert.equal(noisyTrial([100, 300], [100, 300], 300, 300), false);
  });
  it('the loop takes a positive, finite time', () => {
    const ms = calibrate();
    assert.ok(ms > 0 && Number.isFinite(ms));
  });
});

describe('load autoscale: more load processes while the load CPUs allow', () => {
  const row = (bound: boolean) => ({ state: 'completed', client: { cpuMs: 1, cpuPct: bound ? 97 : 40, processes: 1, clientBound: bound } }) as TransportResult;
  it('a bound load with spare load cores is retried with more processes', () => {
    assert.equal(moreLoadProcesses(row(true), 1, 4), 2);
    assert.equal(moreLoadProcesses(row(true), 2, 3), 3);
  });
  it('no spare cores, or not bound: keep the figure', () => {
    assert.equal(moreLoadProcesses(row(true), 1, 1), undefined);
    assert.equal(moreLoadProcesses(row(false), 1, 4), undefined);
    assert.equal(moreLoadProcesses({ ...row(true), state: 'errored' }, 1, 4), undefined);
  });
});
