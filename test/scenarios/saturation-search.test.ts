import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bracketOf, downStepWhy, endFrom, nextRate, type Tried } from '../../scenarios/throughput/search.ts';

/** Runs the search against an oracle that sustains every rate below `limit`. */
function search(limit: number, start: number, resolution: number, maxSteps = 30): Tried[] {
  const tried: Tried[] = [];
  for (let r = nextRate(start, tried, resolution, maxSteps); r !== undefined; r = nextRate(start, tried, resolution, maxSteps)) {
    tried.push({ rate: r, sustained: r < limit });
  }
  return tried;
}

describe('saturation search: doubling, then bisection to the stated resolution', () => {
  for (const [limit, resolution] of [
    [37_000, 0.1],
    [37_000, 0.25],
    [5_001, 0.1],
    [123_456, 0.1],
    [1_000_000, 0.05],
  ] as const) {
    it(`limit ${limit}, resolution ${resolution * 100} %: the bracket holds the limit and is that narrow`, () => {
      const tried = search(limit, 5000, resolution);
      const b = bracketOf(tried);
      assert.ok(b.sustained !== undefined && b.failed !== undefined, JSON.stringify(tried));
      assert.ok(b.sustained < limit && b.failed >= limit, `${b.sustained}..${b.failed} around ${limit}`);
      assert.ok(b.resolution! <= resolution, `bracket ${b.resolution}`);
      // Not a doubled number: once bisecting, the bracket is narrower than a factor of two.
      assert.ok(b.failed < 2 * b.sustained);
    });
  }
  it('a first rate that fails is halved until one holds, then bisected', () => {
    const tried = search(700, 5000, 0.1);
    assert.deepEqual(
      tried.slice(0, 4).map((t) => t.rate),
      [5000, 2500, 1250, 625],
    );
    const b = bracketOf(tried);
    assert.ok(b.sustained! < 700 && b.failed! >= 700 && b.resolution! <= 0.1);
  });
  it('stops at the step limit with the bracket it has (no failure: only a lower bound)', () => {
    const tried = search(Number.POSITIVE_INFINITY, 1000, 0.1, 4);
    assert.deepEqual(
      tried.map((t) => t.rate),
      [1000, 2000, 4000, 8000],
    );
    assert.deepEqual(bracketOf(tried), { sustained: 8000, failed: undefined, resolution: undefined });
  });
  it('a failure below a rate that held (noise) does not narrow the bracket wrongly', () => {
    const b = bracketOf([
      { rate: 1000, sustained: true },
      { rate: 2000, sustained: true },
      { rate: 4000, sustained: false },
      { rate: 1500, sustained: false },
    ]);
    assert.deepEqual(b, { sustained: 2000, failed: 4000, resolution: 1 });
  });
});

describe('a step going down: when it held', () => {
  const limits = { p99Ms: 1000, pollLagMs: 0 };
  const healthy = { share: 1, p99Ms: 8, endP50Ms: 2, endLateMs: 1 };
  it('a step that kept up holds', () => {
    assert.equal(downStepWhy(healthy, limits), undefined);
  });
  it('10 % over the rate for 3 s: the p99 is under its limit, the last tenth is not, and the step fails', () => {
    // A queue growing at 10 % of the rate for 3 s: about 300 ms at the end, 270 ms in the last tenth's middle.
    const why = downStepWhy({ share: 1, p99Ms: 290, endP50Ms: 270, endLateMs: 120 }, limits);
    assert.match(why ?? '', /last tenth arrived 270 ms late.*over 100 ms.*backlog/);
  });
  it('a pause caught up from before the end holds, even with a high p99', () => {
    assert.equal(downStepWhy({ share: 1, p99Ms: 400, endP50Ms: 3, endLateMs: 2 }, limits), undefined);
  });
  it('polling: the poll interval is added to both latency limits, and said', () => {
    const poll = { p99Ms: 1000, pollLagMs: 1000 };
    assert.equal(downStepWhy({ share: 1, p99Ms: 1500, endP50Ms: 600, endLateMs: 5 }, poll), undefined);
    assert.match(downStepWhy({ share: 1, p99Ms: 1500, endP50Ms: 1300, endLateMs: 5 }, poll) ?? '', /over 1100 ms \(100 ms \+ the 1000 ms poll interval\)/);
    assert.match(downStepWhy({ share: 1, p99Ms: 2500, endP50Ms: 600, endLateMs: 5 }, poll) ?? '', /p99 2500 ms over 2000 ms/);
  });
  it('the other reasons, in order: delivery share, p99, end latency, publisher', () => {
    assert.match(downStepWhy({ ...healthy, share: 0.95, p99Ms: 5000 }, limits) ?? '', /only 95\.0 % delivered/);
    assert.match(downStepWhy({ ...healthy, p99Ms: 1200, endP50Ms: 500 }, limits) ?? '', /^p99 1200 ms over 1000 ms$/);
    assert.match(downStepWhy({ ...healthy, endP50Ms: undefined }, limits) ?? '', /last tenth arrived \? ms late/);
    assert.match(downStepWhy({ ...healthy, endLateMs: 400 }, limits) ?? '', /publisher ended 400 ms behind/);
  });
  it('the last tenth is counted from the end of the step, at least its last message', () => {
    assert.equal(endFrom(1, 30_000), 27_001);
    assert.equal(endFrom(101, 1000), 1001);
    assert.equal(endFrom(7, 3), 9);
  });
});
