/**
 * Readers of scenario-specific figures for the report code that has not moved
 * into the scenario facets yet. Every shape and its check lives in the
 * scenario's own `schema.ts`; this module only forwards to them.
 */
import { z } from 'zod';
import { readWith } from '../scenarios/read.ts';
import { readConnections } from '../scenarios/connections/schema.ts';
import { readEcho } from '../scenarios/echo/schema.ts';
import { readOverheadSummary } from '../scenarios/overhead/schema.ts';

export { readFanOutCapacity, readFanOutSteps } from '../scenarios/fan-out/schema.ts';
export { readOverheadSweep } from '../scenarios/overhead/schema.ts';
export type { OverheadSweepPoint } from '../scenarios/overhead/schema.ts';
export { readSustainedRates, readThroughputExtra } from '../scenarios/throughput/schema.ts';
export { readDeadPeer } from '../scenarios/dead-peer/schema.ts';
export type { DeadPeerView } from '../scenarios/dead-peer/schema.ts';
export { readHttpSaturation, readSaturationVariants } from '../scenarios/http-saturation/schema.ts';

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Overhead crossovers of a scenario's summary, or undefined when none. */
export function readCrossovers(summary: unknown) {
  const cs = readOverheadSummary(summary)?.crossovers;
  return cs && cs.length > 0 ? cs : undefined;
}

/** Connections steps sorted by count. */
export function readConnectionsSteps(extra: unknown) {
  return readConnections(extra)?.steps;
}

/** Connections steps that were not run, with the reason. */
export function readConnectionsSkipped(extra: unknown) {
  return readConnections(extra)?.skipped;
}

/** Echo mode. */
export function readEchoMode(extra: unknown) {
  return readEcho(extra)?.mode;
}

/** Repeat min–max of a figure, keyed by figure key (see FIGURES in figures.ts), in `extra.spread`. */
type RepeatSpread = Record<string, { min: number; max: number }>;

const SpreadSchema = z.object({ spread: z.record(z.string(), z.unknown()) });
const MinMaxSchema = z.object({ min: z.number(), max: z.number() });

/** Repeat spread (min–max per figure key). */
export function readSpread(extra: unknown): RepeatSpread | undefined {
  const s = readWith(SpreadSchema, extra)?.spread;
  if (!s) return undefined;
  const out: RepeatSpread = {};
  for (const [k, v] of Object.entries(s)) {
    const mm = readWith(MinMaxSchema, v);
    if (mm) out[k] = { min: mm.min, max: mm.max };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
