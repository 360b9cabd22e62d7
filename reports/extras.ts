/**
 * Scenario-specific shapes carried in `TransportResult.extra` and
 * `ScenarioResult.params`. Scenarios import these to write them; the reports
 * read them back through the guarded readers below, because a results file is
 * untrusted input: anything missing or malformed is skipped, never fatal.
 */

import type { TransportName } from '../metrics/results.ts';

/** One step of a fan-out ramp: N subscribers receiving every published message. */
export interface FanOutStep {
  /** Subscribers at this step. */
  n: number;
  /** Median delivery latency at this step, ms. */
  p50: number;
  /** 99th percentile delivery latency at this step, ms. */
  p99: number;
  /** Deliveries received at this step. */
  delivered: number;
  /** Deliveries owed but never received at this step. */
  lost: number;
}

/** `extra` of a fan-out row. */
export interface FanOutExtra {
  steps: FanOutStep[];
}

/** `params.capacity` of a fan-out scenario: the largest N that stayed under a p99 limit. */
export interface FanOutCapacity {
  /** The p99 limit, ms. */
  limitMs: number;
  /** Largest N per transport whose p99 stayed under the limit. */
  largestN: Partial<Record<TransportName, number>>;
}

/** One point of the overhead sweep for one transport. */
export interface OverheadSweepPoint {
  /** Messages per second sent to each client. */
  ratePerClient: number;
  /** Payload size, bytes. */
  sizeBytes: number;
  /** All wire bytes per delivered message. */
  bytesPerMessage: number;
  /** Wire bytes per delivered message that are not payload. */
  overheadBytesPerMessage: number;
}

/** `extra` of an overhead row. */
export interface OverheadExtra {
  sweep: OverheadSweepPoint[];
}

/** `params.crossovers[i]` of an overhead scenario: where `a` stops costing fewer bytes than `b`. */
export interface OverheadCrossover {
  a: string;
  b: string;
  /** Payload size of the crossing lines, bytes. */
  sizeBytes: number;
  /** Rate per client at which they cross, msg/s. */
  ratePerClient: number;
}

/** `params.extrapolated[i]`: header bytes per second at a client count the lab did not run. */
export interface OverheadExtrapolation {
  clients: number;
  transport: string;
  headerBytesPerSec: number;
}

/** One step of the connections ramp: idle connections held and what they cost. */
export interface ConnectionsStep {
  /** Open connections at this step. */
  connections: number;
  /** Server resident set size, bytes. */
  rssBytes: number;
  /** Server V8 heap used, bytes. */
  heapBytes: number;
  /** (rss − rss with no connections) / connections, bytes. */
  rssPerConnBytes: number;
  /** Server CPU while holding them idle, percent of one core. */
  cpuPct: number;
}

/** `extra` of a connections row. */
export interface ConnectionsExtra {
  steps: ConnectionsStep[];
}

/** `extra` of an echo row; latency is the round trip, in `latencyMs`. */
export interface EchoExtra {
  mode?: 'ping-pong' | 'open-loop';
}

/** `extra` of a throughput row. */
export interface ThroughputExtra {
  /** Which way the messages flowed. */
  direction?: 'down' | 'up' | 'both';
  /** Payload delivered per second, MB (10^6 bytes). */
  payloadMBps?: number;
}

/** `extra` of a dead-peer row. */
export interface DeadPeerExtra {
  /** Time from the peer going silent to the server dropping it, ms. */
  detectMs: number;
  heartbeat: { intervalMs: number; maxMissed: number };
}

/** `extra` of an http-saturation row (autocannon against the transport's HTTP endpoint). */
export interface HttpSaturationExtra {
  requestsPerSec: number;
  /** Autocannon's latency figures, ms; any subset. */
  latencyMs: Partial<Record<'p50' | 'p90' | 'p99' | 'p999' | 'mean' | 'max', number>>;
}

/** Repeat min–max of a figure, keyed by figure key (see FIGURES in figures.ts), in `extra.spread`. */
export type RepeatSpread = Record<string, { min: number; max: number }>;

// ---------------------------------------------------------------------------
// Guarded readers: return a well-formed value or undefined.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function hasNums(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.every((k) => isNum(o[k]));
}

/** Elements of `v` that are objects with every key numeric, or undefined when none are. */
function numericRecords<T>(v: unknown, keys: readonly string[]): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((e): e is Record<string, unknown> => isObject(e) && hasNums(e, keys));
  return out.length > 0 ? (out as T[]) : undefined;
}

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return isNum(v) ? v : undefined;
}

/** Fan-out steps sorted by N. */
export function readFanOutSteps(extra: unknown): FanOutStep[] | undefined {
  if (!isObject(extra)) return undefined;
  const steps = numericRecords<FanOutStep>(extra.steps, ['n', 'p50', 'p99', 'delivered', 'lost']);
  return steps?.slice().sort((a, b) => a.n - b.n);
}

/** Fan-out capacity from scenario params. */
export function readFanOutCapacity(params: unknown): FanOutCapacity | undefined {
  if (!isObject(params) || !isObject(params.capacity)) return undefined;
  const { limitMs, largestN } = params.capacity;
  if (!isNum(limitMs) || !isObject(largestN)) return undefined;
  const out: Partial<Record<TransportName, number>> = {};
  for (const [k, v] of Object.entries(largestN)) if (isNum(v)) out[k as TransportName] = v;
  return { limitMs, largestN: out };
}

/** Overhead sweep points. */
export function readOverheadSweep(extra: unknown): OverheadSweepPoint[] | undefined {
  if (!isObject(extra)) return undefined;
  return numericRecords<OverheadSweepPoint>(extra.sweep, ['ratePerClient', 'sizeBytes', 'bytesPerMessage', 'overheadBytesPerMessage']);
}

/** Overhead crossovers from scenario params. */
export function readCrossovers(params: unknown): OverheadCrossover[] | undefined {
  if (!isObject(params) || !Array.isArray(params.crossovers)) return undefined;
  const out = params.crossovers.filter(
    (c): c is OverheadCrossover => isObject(c) && typeof c.a === 'string' && typeof c.b === 'string' && hasNums(c, ['sizeBytes', 'ratePerClient']),
  );
  return out.length > 0 ? out : undefined;
}

/** Extrapolated header costs from scenario params. */
export function readExtrapolated(params: unknown): OverheadExtrapolation[] | undefined {
  if (!isObject(params) || !Array.isArray(params.extrapolated)) return undefined;
  const out = params.extrapolated.filter(
    (c): c is OverheadExtrapolation => isObject(c) && typeof c.transport === 'string' && hasNums(c, ['clients', 'headerBytesPerSec']),
  );
  return out.length > 0 ? out : undefined;
}

/** Connections steps sorted by count. */
export function readConnectionsSteps(extra: unknown): ConnectionsStep[] | undefined {
  if (!isObject(extra)) return undefined;
  const steps = numericRecords<ConnectionsStep>(extra.steps, ['connections', 'rssBytes', 'heapBytes', 'rssPerConnBytes', 'cpuPct']);
  return steps?.slice().sort((a, b) => a.connections - b.connections);
}

/** Echo mode. */
export function readEchoMode(extra: unknown): EchoExtra['mode'] | undefined {
  if (!isObject(extra)) return undefined;
  return extra.mode === 'ping-pong' || extra.mode === 'open-loop' ? extra.mode : undefined;
}

/** Throughput extras. */
export function readThroughputExtra(extra: unknown): ThroughputExtra | undefined {
  if (!isObject(extra)) return undefined;
  const out: ThroughputExtra = {};
  if (extra.direction === 'down' || extra.direction === 'up' || extra.direction === 'both') out.direction = extra.direction;
  if (isNum(extra.payloadMBps)) out.payloadMBps = extra.payloadMBps;
  return out.direction === undefined && out.payloadMBps === undefined ? undefined : out;
}

/** Dead-peer detection; the heartbeat is optional for display. */
export function readDeadPeer(extra: unknown): { detectMs: number; heartbeat?: DeadPeerExtra['heartbeat'] } | undefined {
  if (!isObject(extra) || !isNum(extra.detectMs)) return undefined;
  const hb = extra.heartbeat;
  if (isObject(hb) && hasNums(hb, ['intervalMs', 'maxMissed'])) {
    return { detectMs: extra.detectMs, heartbeat: { intervalMs: hb.intervalMs as number, maxMissed: hb.maxMissed as number } };
  }
  return { detectMs: extra.detectMs };
}

/** HTTP saturation figures; either part may be missing. */
export function readHttpSaturation(extra: unknown): Partial<HttpSaturationExtra> | undefined {
  if (!isObject(extra)) return undefined;
  const out: Partial<HttpSaturationExtra> = {};
  if (isNum(extra.requestsPerSec)) out.requestsPerSec = extra.requestsPerSec;
  if (isObject(extra.latencyMs)) {
    const lat: HttpSaturationExtra['latencyMs'] = {};
    for (const k of ['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const) {
      const v = extra.latencyMs[k];
      if (isNum(v)) lat[k] = v;
    }
    if (Object.keys(lat).length > 0) out.latencyMs = lat;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Repeat spread (min–max per figure key). */
export function readSpread(extra: unknown): RepeatSpread | undefined {
  if (!isObject(extra) || !isObject(extra.spread)) return undefined;
  const out: RepeatSpread = {};
  for (const [k, v] of Object.entries(extra.spread)) {
    if (isObject(v) && isNum(v.min) && isNum(v.max)) out[k] = { min: v.min, max: v.max };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
