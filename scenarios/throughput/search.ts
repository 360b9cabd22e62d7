/**
 * The saturation search: double the rate until a step fails, then bisect
 * between the highest rate that held and the lowest that failed until the
 * bracket is within the resolution asked. The answer is the bracket itself,
 * "sustained ≥ A, failed at B", never one doubled number.
 */

/** One step's outcome. */
export interface Tried {
  rate: number;
  sustained: boolean;
}

/** Where the search stands: the highest rate that held and the lowest above it that failed. */
export interface Bracket {
  /** Highest sustained rate, or undefined when none held. */
  sustained: number | undefined;
  /** Lowest failed rate above `sustained`, or undefined when none failed. */
  failed: number | undefined;
  /** (failed − sustained) / sustained when both are known. */
  resolution: number | undefined;
}

/** The bracket the steps so far give. */
export function bracketOf(tried: readonly Tried[]): Bracket {
  const held = tried.filter((t) => t.sustained).map((t) => t.rate);
  const sustained = held.length ? Math.max(...held) : undefined;
  const above = tried.filter((t) => !t.sustained && (sustained === undefined || t.rate > sustained)).map((t) => t.rate);
  const failed = above.length ? Math.min(...above) : undefined;
  const resolution = sustained !== undefined && failed !== undefined ? (failed - sustained) / sustained : undefined;
  return { sustained, failed, resolution };
}

/**
 * The next rate to try, or undefined when the search is over: the bracket is within `resolution`
 * (0.1 = 10 %), `maxSteps` were run, or the rate cannot go lower than 1 msg/s.
 */
export function nextRate(start: number, tried: readonly Tried[], resolution: number, maxSteps: number): number | undefined {
  if (tried.length >= maxSteps) return undefined;
  if (tried.length === 0) return start;
  const b = bracketOf(tried);
  // Nothing failed yet: keep doubling.
  if (b.failed === undefined) return b.sustained !== undefined ? b.sustained * 2 : undefined;
  // Nothing held yet: halve until something does.
  if (b.sustained === undefined) {
    const down = Math.floor(b.failed / 2);
    return down >= 1 ? down : undefined;
  }
  if (b.resolution! <= resolution) return undefined;
  const mid = Math.round((b.sustained + b.failed) / 2);
  return mid > b.sustained && mid < b.failed ? mid : undefined;
}
