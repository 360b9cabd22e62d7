/** What the fan-out scenario writes: a step per N in `extra`, the capacity across transports in `summary`. */
import { z } from 'zod';
import type { TransportName } from '../../metrics/results.ts';
import { listOf, numbersByName, opt, readWith } from '../read.ts';

/** One step of a fan-out ramp: N subscribers receiving every published message. */
const FanOutStepSchema = z.object({
  /** Subscribers at this step. */
  n: z.number(),
  /** Median delivery latency at this step, ms. */
  p50: z.number(),
  /** 99th percentile delivery latency at this step, ms. */
  p99: z.number(),
  /** Deliveries received at this step. */
  delivered: z.number(),
  /** Deliveries owed but never received at this step. */
  lost: z.number(),
});
/** One step of a fan-out ramp: N subscribers receiving every published message. */
export type FanOutStep = z.infer<typeof FanOutStepSchema>;

/** `extra` of a fan-out row. */
const FanOutExtraSchema = z.object({
  /** The steps run, in order. */
  steps: listOf(FanOutStepSchema),
  /** Largest N of this row whose p99 stayed under the limit with no loss (0 when none). */
  largestNUnderLimit: opt(z.number()),
});

/** The largest N that stayed under a p99 limit, per transport. */
const FanOutCapacitySchema = z.object({
  /** The p99 limit, ms. */
  limitMs: z.number(),
  /** Largest N per transport whose p99 stayed under the limit. */
  largestN: numbersByName<TransportName>(),
  /** Whether N was doubled past the configured steps (`--capacity on`); otherwise only the steps were tried. */
  searched: opt(z.boolean()),
});
/** The largest N that stayed under a p99 limit, per transport. */
export type FanOutCapacity = z.infer<typeof FanOutCapacitySchema>;

/** `summary` of a fan-out scenario. */
const FanOutSummarySchema = z.object({
  /** The capacity across transports. */
  capacity: FanOutCapacitySchema,
});
/** `summary` of a fan-out scenario. */
export type FanOutSummary = z.infer<typeof FanOutSummarySchema>;

/** Fan-out steps sorted by N, or undefined when the row has none. */
export function readFanOutSteps(extra: unknown): FanOutStep[] | undefined {
  const steps = readWith(FanOutExtraSchema, extra)?.steps;
  return steps && steps.length > 0 ? steps.slice().sort((a, b) => a.n - b.n) : undefined;
}

/** The fan-out capacity of a scenario's summary. */
export function readFanOutCapacity(summary: unknown): FanOutCapacity | undefined {
  return readWith(FanOutSummarySchema, summary)?.capacity;
}
