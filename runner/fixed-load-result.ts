/**
 * The figures of a fixed-load phase (runner/fixed-load.ts), apart from the code that measures
 * them: the run keeps them in its memo (`RunParams.fixedLoads`), and the session that defines
 * the run's parameters must not import the phase that starts sessions.
 */

/** What the fixed-load phase measured (a row's `extra.fixedLoad`). */
export interface FixedLoadResult {
  /** Messages per second asked for, in total. */
  ratePerSec: number;
  connections: number;
  seconds: number;
  kind: 'echo' | 'push';
  /** Server CPU microseconds per delivered message. */
  cpuUsPerMessage: number;
  /** Load CPU microseconds per delivered message, beside the server's: above it, the load measured itself as much as the server. */
  loadCpuUsPerMessage?: number;
  /** Server CPU, percent of one core. */
  serverCpuPct: number;
  delivered: number;
  lost: number;
  /** Whether every owed message arrived and the client kept up: only then is the figure the server's cost at that rate. */
  sustained: boolean;
  /** Whether a load process was near a full core. */
  clientBound: boolean;
  /**
   * Latency at this rate (CO-corrected, ms): a round trip for echo, publish to delivery for push.
   * Well below saturation it is the servers' own latency, not a queue's, so it is the latency
   * figure that compares from run to run.
   */
  latencyMs?: { p50: number; p99: number; p999: number };
  /** The phase's corrected latency histogram, encoded: trials pool theirs (runner/repeat.ts). */
  histogram?: string;
  /** The scenario whose phase this is, when another scenario of the same trial measured it (the same phase is run once). */
  measuredBy?: string;
}
