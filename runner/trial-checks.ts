/**
 * Two checks around every trial. A CPU-bound calibration loop is timed before
 * and after it: a trial during which the machine ran measurably slower than
 * the run's median (another tenant, a neighbour's build) is flagged and run
 * again, up to a limit. And a trial whose load process was bound is run again
 * with more load processes while the load's CPUs allow; a figure still
 * limited by its load is a floor.
 */
import type { TransportResult } from '../metrics/results.ts';
import { median } from './repeat.ts';

/** A trial is noisy when its calibration took this much longer than the run's median. */
const SLOWER_BY = 0.2;
/** Reruns of one trial at most, for noise. */
export const MAX_NOISY_RERUNS = 2;

let sink = 0;
/** Times a fixed CPU-bound loop (integer hashing, no allocation), ms; the minimum of three runs. */
export function calibrate(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    let h = 2166136261;
    for (let i = 0; i < 12_000_000; i++) h = Math.imul(h ^ i, 16777619) >>> 0;
    sink ^= h;
    best = Math.min(best, performance.now() - t0);
  }
  return best + (sink === -1 ? 1 : 0);
}

/**
 * Whether a trial ran on a slow machine: its calibration before (or after) it took more than
 * 20 % longer than the median of every before (after) calibration of the run so far, this
 * trial's included. Befores and afters are judged apart, since the moments after a trial carry
 * its processes' teardown. With fewer than three of a kind, never noisy.
 */
export function noisyTrial(befores: readonly number[], afters: readonly number[], before: number, after: number): boolean {
  const slow = (xs: readonly number[], x: number) => xs.length >= 3 && x > median(xs) * (1 + SLOWER_BY);
  return slow(befores, before) || slow(afters, after);
}

/**
 * How many load processes to retry a client-bound trial with, or undefined to keep the figure
 * (as a floor when still bound): one more than used, while the load's CPUs have room for it.
 */
export function moreLoadProcesses(row: TransportResult, usedProcesses: number, loadCores: number): number | undefined {
  if (row.state !== 'completed' || !row.client?.clientBound) return undefined;
  return usedProcesses < loadCores ? Math.min(loadCores, usedProcesses * 2) : undefined;
}
