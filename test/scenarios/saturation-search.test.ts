import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bracketOf, nextRate, type Tried } from '../../scenarios/throughput/search.ts';

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
