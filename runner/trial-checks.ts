/**
 * Two checks around every trial. A CPU-bound calibration loop is timed before
 * and after it: a trial during which the machine ran measurably slower than
 * the run's median (another tenant, a neighbour's build) is flagged and run
 * again, up to a limit. A loopback round trip is timed beside it and only
 * recorded: it names a slower network stack between two runs. And a trial whose load process was bound is run again
 * with more load processes while the load's CPUs allow; a figure still
 * limited by its load is a floor.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
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

/** Round trips of 64 B one loopback probe times, after as many again to warm up. */
const PROBE_ROUND_TRIPS = 200;

/** Sends 64 B over `c` and waits for them back, `n` times in a row; resolves with the ms taken. */
function pingPong(c: Socket, n: number): Promise<number> {
  const msg = Buffer.alloc(64, 0x61);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let left = n;
    let got = 0;
    const onData = (d: Buffer) => {
      got += d.length;
      while (got >= msg.length) {
        got -= msg.length;
        if (--left === 0) {
          c.off('data', onData);
          c.off('error', reject);
          return resolve(performance.now() - t0);
        }
        c.write(msg);
      }
    };
    c.on('data', onData);
    c.once('error', reject);
    c.write(msg);
  });
}

/**
 * Times a loopback TCP round trip of 64 B (µs, the best of two batches): system calls, the
 * kernel's TCP stack and an event loop waking, which the CPU loop does not touch. Two runs whose
 * network-bound figures differ while the CPU loop does not can be told apart by it.
 */
export async function loopbackProbe(): Promise<number> {
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const c = connect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    c.setNoDelay(true);
    await new Promise((resolve, reject) => {
      c.once('connect', resolve);
      c.once('error', reject);
    });
    await pingPong(c, PROBE_ROUND_TRIPS);
    const best = Math.min(await pingPong(c, PROBE_ROUND_TRIPS), await pingPong(c, PROBE_ROUND_TRIPS));
    return Math.round((best * 1000 * 10) / PROBE_ROUND_TRIPS) / 10;
  } finally {
    c.destroy();
    await new Promise((r) => server.close(r));
  }
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
