/**
 * The shape of `results.json`. The fixed points listed in DESIGN.md are kept
 * by name; everything else is additive. Bump RESULTS_VERSION when a fixed
 * point changes meaning, so `report` can refuse a file it would misread.
 */
import { BUILT_IN_NAMES } from '../transports/index.ts';

/** Version of the results file format written by this lab. */
export const RESULTS_VERSION = 1;

/** The built-in transport rows a results file may contain, spelled exactly so (the registry in transports/ holds them). */
export const TRANSPORTS: readonly string[] = BUILT_IN_NAMES;
/** A transport's name: a key of the registry in transports/, checked there where a name comes from the user. */
export type TransportName = string;

/** Run metadata: enough to reproduce and to compare two runs fairly. */
export interface RunMeta {
  /** Format version of this file. */
  version: number;
  /** ISO time the run started. */
  startedAt: string;
  /** ISO time the run finished. */
  finishedAt?: string;
  /** The exact command line, as typed. */
  command: string;
  /** `git rev-parse HEAD` of the lab, or null outside a checkout. */
  git: string | null;
  /** `process.version` of the runner. */
  node: string;
  /** CPU model string. */
  cpu: string;
  /** Logical cores available. */
  cores: number;
  /** `os.type() os.release() os.arch()`. */
  os: string;
  /** Total memory of the machine, bytes. */
  memoryBytes?: number;
  /** Trials per scenario × transport when `--repeat` was given. */
  repeats?: number;
  /** The profile the run used (quick or full). */
  profile?: string;
  /** Which client drove the WebSocket rows: each its own, or the engine's or ws's for both. */
  wsLoadClient?: string;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
  /** Largest recorded value. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
  /** Number of recorded values. */
  count: number;
}

/** One point of a percentile curve, for HdrHistogram-style plots. */
export interface PercentilePoint {
  /** Percentile, 0–100. */
  percentile: number;
  /** Latency at that percentile, ms. */
  valueMs: number;
}

/** One sample of a time series taken during a run. */
export interface TimePoint {
  /** Seconds since the measured phase began. */
  t: number;
  /** Messages delivered to clients in this interval, per second. */
  deliveredPerSec?: number;
  /** Server CPU use over the interval, percent of one core. */
  serverCpuPct?: number;
  /** Server resident set size, bytes. */
  serverRssBytes?: number;
}

/** Figures for one transport in one scenario. Failures are values, not crashes. */
export interface TransportResult {
  /** Which transport. */
  transport: TransportName;
  /** `completed` when figures were measured, `errored` when the run failed. */
  state: 'completed' | 'errored';
  /** Why the run failed, or null. */
  error: string | null;
  /** Delivery latency corrected for coordinated omission (from the intended send time). */
  latencyMs: LatencySummary | null;
  /** Delivery latency from the actual send time (uncorrected), kept for comparison. */
  latencyMsUncorrected?: LatencySummary | null;
  /** Percentile curve of the corrected latency. */
  percentiles?: PercentilePoint[];
  /** Delivered messages and payload per second over the measured phase. */
  throughput: { messagesPerSec: number; payloadBytesPerSec: number } | null;
  /**
   * `sent`: deliveries owed (messages published × subscribers, plus echoes asked for);
   * `delivered`: deliveries received (duplicates excluded); `lost`: owed but never received.
   */
  messages: { sent: number; delivered: number; lost: number; duplicates?: number; published?: number } | null;
  /**
   * Bytes counted at the server's TCP sockets. `bytesUp` client → server, `bytesDown`
   * server → client, `payloadBytes` application payload carried in both directions,
   * `overheadBytesPerMessage` = (bytesUp + bytesDown − payloadBytes) / delivered,
   * `requests` HTTP requests (or WebSocket handshakes) the server answered.
   */
  wire: {
    bytesUp: number;
    bytesDown: number;
    payloadBytes: number;
    overheadBytesPerMessage: number;
    requests: number;
    /** (bytesUp + bytesDown) / delivered. */
    bytesPerMessage?: number;
    /** Requests that returned no message (empty polls, long-poll timeouts). */
    emptyResponses?: number;
  } | null;
  /** Server cost over the measured phase. */
  server: { cpuMs: number; rssMaxBytes: number; cpuPct?: number; connections?: number } | null;
  /** Load-client cost; `clientBound` when a client process was near saturation. */
  client?: { cpuMs: number; cpuPct: number; processes: number; clientBound: boolean } | null;
  /** Time series sampled during the run. */
  series?: TimePoint[];
  /** Anything scenario-specific (fan-out steps, sweep points, …). */
  extra?: Record<string, unknown>;
}

/** One scenario and its per-transport rows. */
export interface ScenarioResult {
  /** Scenario name, e.g. `push`. */
  name: string;
  /** The parameters it ran with. */
  params: Record<string, unknown>;
  /** One row per transport. */
  results: TransportResult[];
}

/** The whole file. */
export interface Results {
  meta: RunMeta;
  scenarios: ScenarioResult[];
}
