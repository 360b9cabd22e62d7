import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planCpus, tasksetArgs } from '../runner/cpus.ts';

describe('CPU sets: server and load on disjoint CPUs', () => {
  it('two cores: server on 1, load on 0; four: halves', () => {
    assert.deepEqual(planCpus(undefined, 2, true), { server: [1], load: [0] });
    assert.deepEqual(planCpus(undefined, 4, true), { server: [2, 3], load: [0, 1] });
  });
  it('one core, or no taskset, or --cpus off: not pinned, with the reason', () => {
    assert.match((planCpus(undefined, 1, true) as { off: string }).off, /one core/);
    assert.match((planCpus(undefined, 2, false) as { off: string }).off, /taskset .* not available/);
    assert.match((planCpus('server=1,load=0', 2, false) as { off: string }).off, /taskset/);
    assert.match((planCpus('off', 8, true) as { off: string }).off, /--cpus off/);
  });
  it('--cpus reads lists and ranges', () => {
    assert.deepEqual(planCpus('server=3,load=0-2', 4, true), { server: [3], load: [0, 1, 2] });
    assert.deepEqual(planCpus('load=0+2,server=1', 4, true), { server: [1], load: [0, 2] });
  });
  it('bad --cpus values are one-line errors naming the flag', () => {
    for (const bad of ['server=1', 'server=x,load=0', 'cpu=1,load=0', 'server=1,load=1', 'server=5,load=0', 'server=1-0,load=0', '']) {
      assert.throws(
        () => planCpus(bad, 4, true),
        (e: Error) => e.message.startsWith('--cpus') && !e.message.includes('\n'),
        bad,
      );
    }
  });
  it('taskset pins every thread of the running process', () => {
    assert.deepEqual(tasksetArgs([2, 3], 1234), ['-a', '-c', '-p', '2,3', '1234']);
  });
});
