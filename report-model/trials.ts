/**
 * The one rule that says whether one row's figure beats another's: a figure
 * measured in several trials wins only when its trials' range does not
 * overlap the other's. One trial on either side gives no spread to judge by,
 * so the rule then refuses to call a winner.
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
}

/** What the comparison of two rows' trials says. */
export interface TrialVerdict {
  /** `a` or `b` when that side is better beyond the trials' spread; `tie` when the ranges overlap; `single` when a side has one trial. */
  winner: 'a' | 'b' | 'tie' | 'single';
  /** Median of a over median of b. */
  ratio: number;
}

/** A row's figure (value from `get`) with the min–max its trials kept in `extra.spread[key]`. */
export function trialRange(row: TransportResult, key: string, get: (r: TransportResult) => number | undefined): TrialRange | undefined {
  const median = get(row);
  if (median === undefined) return undefined;
  const trials = num(row.extra?.['completedTrials']) ?? num(row.extra?.['trials']) ?? 1;
  const spread = (row.extra?.['spread'] as Record<string, { min?: unknown; max?: unknown }> | undefined)?.[key];
  const min = num(spread?.min);
  const max = num(spread?.max);
  if (trials < 2 || min === undefined || max === undefined) return { median, min: median, max: median, trials: Math.min(trials, 1) };
  return { median, min: Math.min(min, median), max: Math.max(max, median), trials };
}

/**
 * Compares two figures over their trials (`better`: which direction wins). A side wins
 * only when both have at least two trials and their ranges do not overlap.
 */
export function compareTrials(a: TrialRange, b: TrialRange, better: 'lower' | 'higher'): TrialVerdict {
  const ratio = b.median !== 0 ? a.median / b.median : Number.NaN;
  if (a.trials < 2 || b.trials < 2) return { winner: 'single', ratio };
  const aAbove = a.min > b.max;
  const bAbove = b.min > a.max;
  if (!aAbove && !bAbove) return { winner: 'tie', ratio };
  const aWins = better === 'higher' ? aAbove : bAbove;
  return { winner: aWins ? 'a' : 'b', ratio };
}
