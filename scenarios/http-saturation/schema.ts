/** What the http-saturation scenario writes in `extra`: autocannon's figures per kind of poll. */
import { z } from 'zod';
import { listOf, opt, readWith } from '../read.ts';

/** Autocannon's latency figures, ms; any subset. */
const SaturationLatencySchema = z.object({
  /** Median. */
  p50: opt(z.number()),
  /** 90th percentile. */
  p90: opt(z.number()),
  /** 99th percentile. */
  p99: opt(z.number()),
  /** 99.9th percentile. */
  p999: opt(z.number()),
  /** Mean. */
  mean: opt(z.number()),
  /** Largest. */
  max: opt(z.number()),
});
/** Autocannon's latency figures, ms; any subset. */
export type SaturationLatency = z.infer<typeof SaturationLatencySchema>;

const LATENCY_KEYS = ['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const;

/** Only the latency figures that are there. */
function latencyOf(l: SaturationLatency | undefined): SaturationLatency {
  const out: SaturationLatency = {};
  for (const k of LATENCY_KEYS) if (l?.[k] !== undefined) out[k] = l[k];
  return out;
}

/** One autocannon run of an http-saturation row, as the report reads it. */
const SaturationVariantSchema = z.object({
  /** `empty` (204, nothing new) or `message` (200 with one message). */
  name: z.string(),
  /** Answers per second. */
  requestsPerSec: z.number(),
  /** The status every answer should carry. */
  expectedStatus: opt(z.number()),
  /** Autocannon's latency figures. */
  latencyMs: opt(SaturationLatencySchema),
  /** Which side ran at ≥ 90 % of a core. */
  bound: opt(z.string()),
  /** Server cost over the run. */
  server: opt(z.object({ cpuPct: z.number() })),
  /** Autocannon's cost over the run. */
  client: opt(z.object({ cpuPct: z.number() })),
  /** Bytes per request, client → server. */
  bytesUpPerRequest: opt(z.number()),
  /** Bytes per request, server → client. */
  bytesDownPerRequest: opt(z.number()),
  /** Connection errors. */
  errors: opt(z.number()),
  /** Answers that were not 2xx. */
  non2xx: opt(z.number()),
  /** requestsPerSec × poll interval (short polling only). */
  maxClientsAtPollInterval: opt(z.number()),
});

/** `extra` of an http-saturation row: the headline figures (of the primary variant) and every variant. */
const HttpSaturationExtraSchema = z.object({
  /** Answers per second of the primary variant. */
  requestsPerSec: opt(z.number()),
  /** Latency of the primary variant. */
  latencyMs: opt(SaturationLatencySchema),
  /** requests/s × poll interval: short-polling clients the server could answer. */
  maxClientsAtPollInterval: opt(z.number()),
  /** The poll interval that figure assumes, ms. */
  pollIntervalMs: opt(z.number()),
  /** Which variant the headline comes from. */
  primary: opt(z.string()),
  /** Every autocannon run. */
  variants: opt(listOf(SaturationVariantSchema)),
});
/** `extra` of an http-saturation row. */
export type HttpSaturationExtra = z.infer<typeof HttpSaturationExtraSchema>;

/** One http-saturation variant flattened for tables. */
export interface SaturationVariantView {
  /** `empty` or `message`. */
  name: string;
  /** The status every answer should carry. */
  expectedStatus?: number;
  /** Answers per second. */
  requestsPerSec: number;
  /** Autocannon's latency figures that are there. */
  latencyMs: SaturationLatency;
  /** Which side ran at ≥ 90 % of a core. */
  bound?: string;
  /** Server CPU, percent of one core. */
  serverCpuPct?: number;
  /** Autocannon CPU, percent of one core. */
  clientCpuPct?: number;
  /** Bytes per request, client → server. */
  bytesUpPerRequest?: number;
  /** Bytes per request, server → client. */
  bytesDownPerRequest?: number;
  /** Connection errors. */
  errors?: number;
  /** Answers that were not 2xx. */
  non2xx?: number;
  /** requestsPerSec × poll interval. */
  maxClientsAtPollInterval?: number;
}

/** The headline http-saturation figures of a row (any part may be missing), or undefined when none. */
export function readHttpSaturation(extra: unknown): Omit<HttpSaturationExtra, 'variants'> | undefined {
  const x = readWith(HttpSaturationExtraSchema, extra);
  if (!x) return undefined;
  const out: Omit<HttpSaturationExtra, 'variants'> = {};
  for (const k of ['requestsPerSec', 'maxClientsAtPollInterval', 'pollIntervalMs', 'primary'] as const)
    if (x[k] !== undefined) Object.assign(out, { [k]: x[k] });
  const lat = latencyOf(x.latencyMs);
  if (Object.keys(lat).length > 0) out.latencyMs = lat;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The variants (empty poll, one-message poll) of a row, or undefined when none. */
export function readSaturationVariants(extra: unknown): SaturationVariantView[] | undefined {
  const vs = readWith(HttpSaturationExtraSchema, extra)?.variants;
  if (!vs || vs.length === 0) return undefined;
  return vs.map((v) => {
    const view: SaturationVariantView = { name: v.name, requestsPerSec: v.requestsPerSec, latencyMs: latencyOf(v.latencyMs) };
    if (v.expectedStatus !== undefined) view.expectedStatus = v.expectedStatus;
    if (v.bound !== undefined) view.bound = v.bound;
    if (v.server) view.serverCpuPct = v.server.cpuPct;
    if (v.client) view.clientCpuPct = v.client.cpuPct;
    for (const k of ['bytesUpPerRequest', 'bytesDownPerRequest', 'errors', 'non2xx', 'maxClientsAtPollInterval'] as const)
      if (v[k] !== undefined) view[k] = v[k];
    return view;
  });
}
