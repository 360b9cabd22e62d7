/** What the throughput ramps write: the ramp per row in `extra`, the sustained rates in `summary`. */
import { z } from 'zod';
import type { TransportName } from '../../metrics/results.ts';
import { listOf, numbersByName, opt, readWith } from '../read.ts';

/** One rung of a throughput ramp: the rate asked for and what arrived. */
const ThroughputStepSchema = z.object({
  /** Messages per second asked for. */
  rate: z.number(),
  /** Messages per second that arrived. */
  deliveredPerSec: z.number(),
  /** p99 delivery latency at this rung, ms (null upward: nothing comes back). */
  p99Ms: z.number().nullable().catch(null),
  /** Median latency of the rung's last tenth of messages, ms: a backlog still growing shows here (down only). */
  endP50Ms: opt(z.number()),
  /** The server's and the load's CPU at this rung, % of a core (the load's busiest process): who was the limit. */
  serverCpuPct: opt(z.number()),
  loadCpuPct: opt(z.number()),
  /** Whether the rung held. */
  sustained: z.boolean(),
  /** Why it did not. */
  why: opt(z.string()),
});
/** One rung of a throughput ramp: the rate asked for and what arrived. */
export type ThroughputStep = z.infer<typeof ThroughputStepSchema>;

/** `extra` of a throughput row. */
const ThroughputExtraSchema = z.object({
  /** Which way the messages flowed. */
  direction: opt(z.enum(['down', 'up', 'both'])),
  /** Payload delivered per second at the highest sustained rate, MB (10^6 bytes). */
  payloadMBps: opt(z.number()),
  /** The ramp, in the order it ran. */
  steps: opt(listOf(ThroughputStepSchema).transform((xs) => (xs.length > 0 ? xs : undefined))),
  /** Highest rate that held, msg/s (0 when none did). */
  sustainedRate: opt(z.number()),
  /** Lowest rate above the sustained one that failed (absent when none failed: the sustained rate is then only a lower bound). */
  failedRate: opt(z.number()),
  /** (failedRate − sustainedRate) / sustainedRate: how wide the bracket is. */
  resolution: opt(z.number()),
  /** The bracket the search aimed for (0.1 = 10 %). */
  resolutionTarget: opt(z.number()),
  /** Set when not even the first rate held. */
  note: opt(z.string()),
});
/** `extra` of a throughput row. */
export type ThroughputExtra = z.infer<typeof ThroughputExtraSchema>;

/** `summary` of a throughput scenario. */
const ThroughputSummarySchema = z.object({
  /** Highest sustained rate per transport, msg/s. */
  sustainedRate: numbersByName<TransportName>(),
});
/** `summary` of a throughput scenario. */
export type ThroughputSummary = z.infer<typeof ThroughputSummarySchema>;

/** The throughput figures of a row, or undefined when it has none. */
export function readThroughputExtra(extra: unknown): ThroughputExtra | undefined {
  const th = readWith(ThroughputExtraSchema, extra);
  if (!th) return undefined;
  const out: ThroughputExtra = {};
  for (const k of ['direction', 'payloadMBps', 'steps', 'sustainedRate', 'failedRate', 'resolution', 'resolutionTarget', 'note'] as const)
    if (th[k] !== undefined) Object.assign(out, { [k]: th[k] });
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The per-transport sustained rates of a scenario's summary, or undefined when none. */
export function readSustainedRates(summary: unknown): Partial<Record<TransportName, number>> | undefined {
  const rates = readWith(ThroughputSummarySchema, summary)?.sustainedRate;
  return rates && Object.keys(rates).length > 0 ? rates : undefined;
}
