/**
 * The shape of `results.json`, written once as zod schemas: each schema gives
 * both the TypeScript type the runner writes and the runtime check the report
 * applies to a file from outside. The fixed points listed in docs/ARCHITECTURE.md are
 * kept by name; everything else is additive (a file may carry more keys than these). Bump
 * RESULTS_VERSION when a fixed point changes meaning, and migrate the older
 * version in `upgradeResults` so its files still read.
 */
import { BUILT_IN_NAMES, isClusterRow } from '../transports/index.ts';
import { z } from 'zod';

/** Version of the results file format written by this lab. */
export const RESULTS_VERSION = 2;

/** The built-in transport rows a results file may contain, spelled exactly so (the registry in transports/ holds them). */
export const TRANSPORTS: readonly string[] = BUILT_IN_NAMES;
/** A transport's name: a key of the registry in transports/, checked there where a name comes from the user. */
export type TransportName = string;

/** Schema of a transport name: a built-in row, or a built-in row run as nodes (`websocket-n4`). */
const TransportNameSchema = z.string().superRefine((name, ctx) => {
  if (!TRANSPORTS.includes(name) && !isClusterRow(name)) ctx.addIssue({ code: 'invalid_value', values: [...TRANSPORTS, '<row>-n<nodes>'], input: name });
});

/** Run metadata: enough to reproduce and to compare two runs fairly. */
const RunMetaSchema = z.object({
  /** Format version of this file. */
  version: z.number(),
  /** ISO time the run started. */
  startedAt: z.string(),
  /** ISO time the run finished. */
  finishedAt: z.string().optional(),
  /** The exact command line, as typed. */
  command: z.string(),
  /** `git rev-parse HEAD` of the lab, or null outside a checkout. */
  git: z.string().nullable(),
  /** `process.version` of the runner. */
  node: z.string(),
  /** CPU model string. */
  cpu: z.string(),
  /** Logical cores available. */
  cores: z.number(),
  /** `os.type() os.release() os.arch()`. */
  os: z.string(),
  /** Total memory of the machine, bytes. */
  memoryBytes: z.number().optional(),
  /** Trials per scenario × transport when `--repeat` was given. */
  repeats: z.number().optional(),
  /** The profile the run used (quick or full). */
  profile: z.string().optional(),
  /** Which client drove the WebSocket rows: each its own, or the engine's or ws's for both. */
  wsLoadClient: z.string().optional(),
  /** Node flags every server process of the run was started with (the same for every server): the lab's and `LAB_SERVER_NODE_FLAGS`'s; a scenario may add its own (connections: --expose-gc). */
  serverNodeFlags: z.array(z.string()).optional(),
  /** CPUs the server and the load processes were pinned to, or why they were not. */
  cpuSets: z.union([z.object({ server: z.array(z.number()), load: z.array(z.number()) }), z.object({ off: z.string() })]).optional(),
  /** The version of each peer row that ran (websocketd, uws, socket.io): package, binary, as the registry reports it. */
  peers: z.record(z.string(), z.string()).optional(),
  /** Trials rerun because the calibration loop said the machine was slower than usual during them. */
  noisyReruns: z.number().optional(),
  /**
   * The calibration loop's timings over the run (before and after every trial), ms: the machine's
   * speed, so that two runs can be told apart by it when their figures differ.
   */
  calibration: z
    .object({
      medianMs: z.number(),
      minMs: z.number(),
      maxMs: z.number(),
      count: z.number(),
      /** A loopback TCP round trip of 64 B before each trial, µs: the kernel's and event loop's speed, which the loop does not time. */
      loopbackUs: z.object({ median: z.number(), min: z.number(), max: z.number() }).optional(),
    })
    .optional(),
  /** The path the traffic took: nginx in front (and its settings), TLS, or a server the lab did not start. */
  path: z
    .object({
      via: z.string().optional(),
      proxy: z.object({ buffering: z.boolean(), readTimeoutMs: z.number(), sendTimeoutMs: z.number() }).optional(),
      tls: z.string().optional(),
      target: z.string().optional(),
    })
    .optional(),
  /** How the `*-h2` rows ran, when the run had any: over TLS with ALPN h2, or h2c (`--h2c`, which no browser does). */
  h2: z.string().optional(),
  /** `--threshold` conditions and the ones broken, one line each. */
  thresholds: z.object({ conditions: z.array(z.string()), broken: z.array(z.string()) }).optional(),
});
/** Run metadata: enough to reproduce and to compare two runs fairly. */
export type RunMeta = z.infer<typeof RunMetaSchema>;

/** Latency percentiles in milliseconds. */
const LatencySummarySchema = z.object({
  /** Median. */
  p50: z.number(),
  /** 90th percentile. */
  p90: z.number(),
  /** 99th percentile. */
  p99: z.number(),
  /** 99.9th percentile. */
  p999: z.number(),
  /** Largest recorded value. */
  max: z.number(),
  /** Arithmetic mean. */
  mean: z.number(),
  /** Number of recorded values. */
  count: z.number(),
});
/** Latency percentiles in milliseconds. */
export type LatencySummary = z.infer<typeof LatencySummarySchema>;

/** One point of a percentile curve, for HdrHistogram-style plots. */
const PercentilePointSchema = z.object({
  /** Percentile, 0–100. */
  percentile: z.number(),
  /** Latency at that percentile, ms. */
  valueMs: z.number(),
});
/** One point of a percentile curve, for HdrHistogram-style plots. */
export type PercentilePoint = z.infer<typeof PercentilePointSchema>;

/** One sample of a time series taken during a run. */
const TimePointSchema = z.object({
  /** Seconds since the measured phase began. */
  t: z.number(),
  /** Messages delivered to clients in this interval, per second. */
  deliveredPerSec: z.number().optional(),
  /** Server CPU use over the interval, percent of one core. */
  serverCpuPct: z.number().optional(),
  /** Server resident set size, bytes. */
  serverRssBytes: z.number().optional(),
});
/** One sample of a time series taken during a run. */
export type TimePoint = z.infer<typeof TimePointSchema>;

/** Whether a row holds figures: `completed`; `errored` when the run failed; `n/a` when the scenario does not apply to the transport. */
const ROW_STATES = ['completed', 'errored', 'n/a'] as const;

/** Figures for one transport in one scenario. Failures are values, not crashes. */
const TransportResultSchema = z.object({
  /** Which transport. */
  transport: TransportNameSchema,
  /** `completed` when figures were measured, `errored` when the run failed, `n/a` when the scenario does not apply. */
  state: z.enum(ROW_STATES),
  /** Why the run failed or why the scenario does not apply, or null. */
  error: z.string().nullable(),
  /** Delivery latency corrected for coordinated omission (from the intended send time). */
  latencyMs: LatencySummarySchema.nullable(),
  /** Delivery latency from the actual send time (uncorrected), kept for comparison. */
  latencyMsUncorrected: LatencySummarySchema.nullable().optional(),
  /** Percentile curve of the corrected latency. */
  percentiles: z.array(PercentilePointSchema).optional(),
  /** Delivered messages and payload per second over the measured phase. */
  throughput: z.object({ messagesPerSec: z.number(), payloadBytesPerSec: z.number() }).nullable(),
  /**
   * `sent`: deliveries owed (messages published × subscribers, plus echoes asked for);
   * `delivered`: deliveries received (duplicates excluded); `lost`: owed but never received.
   */
  messages: z
    .looseObject({ sent: z.number(), delivered: z.number(), lost: z.number(), duplicates: z.number().optional(), published: z.number().optional() })
    .nullable(),
  /**
   * Bytes counted at the server's TCP sockets. `bytesUp` client → server, `bytesDown`
   * server → client, `payloadBytes` application payload carried in both directions,
   * `overheadBytesPerMessage` = (bytesUp + bytesDown − payloadBytes) / delivered,
   * `requests` HTTP requests (or WebSocket handshakes) the server answered.
   */
  wire: z
    .looseObject({
      bytesUp: z.number(),
      bytesDown: z.number(),
      payloadBytes: z.number(),
      overheadBytesPerMessage: z.number(),
      requests: z.number(),
      /** (bytesUp + bytesDown) / delivered. */
      bytesPerMessage: z.number().optional(),
      /** Requests that returned no message (empty polls, long-poll timeouts). */
      emptyResponses: z.number().optional(),
    })
    .nullable(),
  /** Server cost over the measured phase. */
  server: z
    .looseObject({
      cpuMs: z.number(),
      rssMaxBytes: z.number(),
      cpuPct: z.number().optional(),
      connections: z.number().optional(),
      /** Server CPU microseconds per delivered message over the measured phase. */
      cpuUsPerMessage: z.number().optional(),
    })
    .nullable(),
  /** Load-client cost; `clientBound` when a client process was near saturation. */
  client: z.object({ cpuMs: z.number(), cpuPct: z.number(), processes: z.number(), clientBound: z.boolean() }).nullable().optional(),
  /** Time series sampled during the run. */
  series: z.array(TimePointSchema).optional(),
  /** Anything scenario-specific (fan-out steps, sweep points, …); its shape is the scenario's schema. */
  extra: z.record(z.string(), z.unknown()).optional(),
});
/** Figures for one transport in one scenario. Failures are values, not crashes. */
export type TransportResult = z.infer<typeof TransportResultSchema>;

/** One scenario and its per-transport rows. */
const ScenarioResultSchema = z.object({
  /** Scenario name, e.g. `push`. */
  name: z.string(),
  /** The parameters it ran with, exactly as given. */
  params: z.record(z.string(), z.unknown()),
  /** Figures across transports computed after every row ran (capacity, crossovers); its shape is the scenario's schema. */
  summary: z.record(z.string(), z.unknown()).optional(),
  /** One row per transport. */
  results: z.array(TransportResultSchema),
});
/** One scenario and its per-transport rows. */
export type ScenarioResult = z.infer<typeof ScenarioResultSchema>;

/** The whole file. */
export const ResultsSchema = z.object({
  /** Run metadata. */
  meta: RunMetaSchema,
  /** Scenarios in the order they ran. */
  scenarios: z.array(ScenarioResultSchema),
});
/** The whole file. */
export type Results = z.infer<typeof ResultsSchema>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Params a v1 scenario wrote its cross-transport results into; v2 keeps them in `summary`. */
const V1_SUMMARY_PARAMS = ['capacity', 'crossovers', 'extrapolated', 'sustainedRate'] as const;

/**
 * Brings an older results file to RESULTS_VERSION, in place, and returns it;
 * a value of this version, of an unknown version or not a results file at all
 * is returned untouched (validation says what is wrong with it).
 *
 * v1 → v2: cross-transport results leave `params` for `summary` (fan-out's
 * capacity had overwritten its `capacity` flag, which comes back from
 * `capacity.searched`), and rows marked `extra.skipped` become `n/a` rows
 * with the reason in `error`.
 */
export function upgradeResults(value: unknown): unknown {
  if (!isObj(value) || !isObj(value.meta) || value.meta.version !== 1 || !Array.isArray(value.scenarios)) return value;
  for (const s of value.scenarios) {
    if (!isObj(s)) continue;
    if (isObj(s.params)) {
      const params = s.params;
      const summary: Obj = isObj(s.summary) ? s.summary : {};
      for (const k of V1_SUMMARY_PARAMS) {
        // Only a result moves: fan-out's `capacity` is a boolean flag until summarize overwrote it.
        if (!(k in params) || typeof params[k] === 'boolean') continue;
        summary[k] = params[k];
        delete params[k];
        if (k === 'capacity' && isObj(summary[k]) && typeof summary[k].searched === 'boolean') params[k] = summary[k].searched;
      }
      if (Object.keys(summary).length > 0) s.summary = summary;
    }
    if (!Array.isArray(s.results)) continue;
    for (const r of s.results) {
      if (!isObj(r) || r.state !== 'errored' || !isObj(r.extra) || r.extra.skipped !== true) continue;
      r.state = 'n/a';
      if (typeof r.error === 'string') r.error = r.error.replace(/^not applicable:\s*/i, '');
      delete r.extra.skipped;
      if (Object.keys(r.extra).length === 0) delete r.extra;
    }
  }
  value.meta.version = RESULTS_VERSION;
  return value;
}
