/**
 * The one rule that says whether one row's figure beats another's: a figure
 * measured in several trials wins when its trials' range does not overlap the
 * other's, or when the two rows' trials, taken pair by pair, put the ratio's
 * 95 % interval more than 10 % from 1. One trial on either side gives no spread to judge
 * by, so the rule then refuses to call a winner.
 *
 * Why pairs: trial k of every row of a scenario runs back to back (runner/bench.ts
 * takes turns), so a machine that slows down over a run moves both rows' k-th
 * values alike. Their ratio then holds while each row's range widens (an
 * example in docs/ARCHITECTURE.md, "The runner and its children").
 */
import type { TransportResult } from '../metrics/results.ts';
import { num } from './format.ts';

/** A figure of one row over its trials. */
export interface TrialRange {
  /** The headline value (the median of the trials). */
  median: number;
  /** Lowest value over the trials (the median itself for one trial). */
  min: number;
  /** Highest value over the trials. */
  max: number;
  /** How many trials completed. */
  trials: number;
  /** Each trial's value in trial order, when every trial completed (`extra.trialValues`): what pairs with another row's. */
  values?: readonly number[];
}

/** The ratio of two rows' figures taken trial by trial: its 95 % interval and how many pairs it rests on. */
export interface PairedRatio {
  low: number;
  high: number;
  pairs: number;
}

/** What the comparison of two rows' trials says. */
export interface TrialVerdict {
  /** `a` or `b` when that side is better beyond the trials' spread; `tie` when neither rule separates them; `single` when a side has one trial. */
  winner: 'a' | 'b' | 'tie' | 'single';
  /** Median of a over median of b. */
  ratio: number;
  /** The paired ratio of a over b, when both rows kept at least three trials' values of the figure, pair by pair. */
  paired?: PairedRatio;
  /** Which rule named the winner: the ranges apart, or the paired ratio's interval more than 10 % from 1. */
  by?: 'ranges' | 'pairs';
}

/** A row's figure (value from `get`) with the min–max its trials kept in `extra.spread[key]` and their values in `extra.trialValues[key]`. */
export function trialRange(row: TransportResult, key: string, get: (r: TransportResult) => number | undefined): TrialRange | undefined {
  const median = get(row);
  if (median === undefined) return undefined;
  const trials = num(row.extra?.['completedTrials']) ?? num(row.extra?.['trials']) ?? 1;
  const spread = (row.extra?.['spread'] as Record<string, { min?: unknown; max?: unknown }> | undefined)?.[key];
  const min = num(spread?.min);
  const max = num(spread?.max);
  if (trials < 2 || min === undefined || max === undefined) return { median, min: median, max: median, trials: Math.min(trials, 1) };
  const kept = (row.extra?.['trialValues'] as Record<string, unknown> | undefined)?.[key];
  const values = Array.isArray(kept) && kept.length === trials && kept.every((v) => num(v) !== undefined) ? (kept as number[]) : undefined;
  return { median, min: Math.min(min, median), max: Math.max(max, median), trials, ...(values && { values }) };
}

/**
 * The least difference the pairs alone may call (10 %: the interval must lie below 1/1.1 or above
 * 1.1). Pairs see the machine's drift within a run, not how the ratio of two rows moves from run
 * to run: in three runs here the engine's fixed-rate p50 over `ws`'s was 1.03–1.04, 0.96–1.00 and
 * 0.88–0.97 trial by trial, so the first run's pairs alone would have named `ws` the lower, while
 * the cost ratio stayed within 0.61–0.71 in all three.
 */
export const PAIRED_MIN_EFFECT = 0.1;

/** Student's t, two-sided 95 % (the 0.975 quantile), for 1–30 degrees of freedom; 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * The ratio a/b trial by trial: the t interval (95 %) of the mean of the log ratios, taken back
 * to a ratio. Undefined unless both sides have the same number (at least three) of positive values.
 */
export function pairedRatio(a: readonly number[] | undefined, b: readonly number[] | undefined): PairedRatio | undefined {
  if (!a || !b || a.length !== b.length || a.length < 3) return undefined;
  if (![...a, ...b].every((v) => v > 0 && Number.isFinite(v))) return undefined;
  const n = a.length;
  const logs = a.map((v, i) => Math.log(v / b[i]!));
  const mean = logs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (T975[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return { low: Math.exp(mean - half), high: Math.exp(mean + half), pairs: n };
}

/**
 * Compares two figures over their trials (`better`: which direction wins). A side wins only when
 * both have at least two trials and either their ranges do not overlap, or their paired ratio's
 * interval lies more than 10 % from 1 on the side the medians are. `minEffect` (a share, default
 * 0) is the least difference a figure can show at all: the ranges must then lie that far apart,
 * and the pairs' interval that far from 1 when it is above their own 10 %.
 */
export function compareTrials(a: TrialRange, b: TrialRange, better: 'lower' | 'higher', minEffect = 0): TrialVerdict {
  const ratio = b.median !== 0 ? a.median / b.median : Number.NaN;
  if (a.trials < 2 || b.trials < 2) return { winner: 'single', ratio };
  const paired = pairedRatio(a.values, b.values);
  const withPairs = paired ? { paired } : {};
  const aWinsIfLower = (aLower: boolean): 'a' | 'b' => ((better === 'lower') === aLower ? 'a' : 'b');
  const gap = 1 + minEffect;
  if (a.max * gap < b.min || b.max * gap < a.min) return { winner: aWinsIfLower(a.max * gap < b.min), ratio, ...withPairs, by: 'ranges' };
  // The pairs decide only in the direction the medians point, and only for a difference of more
  // than PAIRED_MIN_EFFECT: pairs within one run do not see how the ratio itself moves between runs.
  const least = 1 + Math.max(PAIRED_MIN_EFFECT, minEffect);
  if (paired && paired.high < 1 / least && a.median < b.median) return { winner: aWinsIfLower(true), ratio, paired, by: 'pairs' };
  if (paired && paired.low > least && a.median > b.median) return { winner: aWinsIfLower(false), ratio, paired, by: 'pairs' };
  return { winner: 'tie', ratio, ...withPairs };
}
