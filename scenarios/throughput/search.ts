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

/** Of the deliveries owed, the share that must arrive for a step to hold. */
export const SUSTAINED_SHARE = 0.99;
/**
 * The median latency of a step's last tenth above this (plus the poll interval, for polling)
 * means a backlog was still growing when the step ended, ms. A rate a few per cent above what the
 * server carries builds its queue too slowly for the p99 limit to see within a step of a few
 * seconds, and would be called sustained by luck: a 3 s step fails here once it runs about 4 % over
 * (a 1 s step, about 11 %).
 */
const END_LATENCY_MS = 100;
/** A publisher this far behind its schedule when the step ends has not kept the rate, ms. */
const LATE_LIMIT_MS = 250;

/** The first sequence number of a step's last tenth (at least its last message), of `count` from `first`. */
export function endFrom(first: number, count: number): number {
  return first + count - Math.max(1, Math.round(count / 10));
}

/** What a step going down measured. */
export interface DownStep {
  /** Of the deliveries owed, the share that arrived. */
  share: number;
  /** Corrected p99 of the step, ms. */
  p99Ms: number | undefined;
  /** Median corrected latency of the step's last tenth (`endFrom`), ms. */
  endP50Ms: number | undefined;
  /** How far behind its schedule the publisher ended, ms. */
  endLateMs: number;
}

/**
 * Why a step going down did not hold, or undefined when it held. `p99Ms` is the p99 limit;
 * `pollLagMs` (the poll interval, for a transport that delivers by polling, whose latency holds it
 * at any rate) is added to both latency limits.
 */
export function downStepWhy(m: DownStep, limits: { p99Ms: number; pollLagMs: number }): string | undefined {
  const lag = limits.pollLagMs;
  const limit = (ms: number) => (lag ? `${ms + lag} ms (${ms} ms + the ${lag} ms poll interval)` : `${ms} ms`);
  if (m.share < SUSTAINED_SHARE) return `only ${(m.share * 100).toFixed(1)} % delivered`;
  if ((m.p99Ms ?? Number.POSITIVE_INFINITY) > limits.p99Ms + lag) return `p99 ${m.p99Ms} ms over ${limit(limits.p99Ms)}`;
  if (m.endP50Ms === undefined || m.endP50Ms > END_LATENCY_MS + lag)
    return `its last tenth arrived ${m.endP50Ms ?? '?'} ms late (median), over ${limit(END_LATENCY_MS)}: a backlog was still growing`;
  // Still behind when the step ended: a pause it had caught up from is in the p99, not here.
  if (m.endLateMs > LATE_LIMIT_MS) return `publisher ended ${Math.round(m.endLateMs)} ms behind its schedule`;
  return undefined;
}
