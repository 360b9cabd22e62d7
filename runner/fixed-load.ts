/**
 * Server cost at a fixed load: a separate phase, on a fresh server, at an
 * open-loop rate well below saturation that every server sustains, long
 * enough for the CPU reading to settle. A client-bound saturated run says how
 * fast the load client is; this says how much server CPU one delivered
 * message costs, which is what tells two servers apart.
 *
 * The frame rows are driven by the `ws` package's client here whatever
 * `--ws-client` says: it writes one frame per send, as a browser does, so a
 * server is not flattered by a client that packs a tick's frames into one write.
 */
import type { TransportName, TransportResult } from '../metrics/results.ts';
import { transport as describe } from '../transports/index.ts';
import { collect } from './collect.ts';
import type { FlagReader } from './flags.ts';
import { Session, type RunParams } from './session.ts';

/** How the fixed-load phase is run. */
export interface FixedLoadSpec {
  /** Messages per second delivered in total (0: no fixed-load phase). */
  ratePerSec: number;
  /** Connections sharing the rate. */
  connections: number;
  /** Seconds measured. */
  durationMs: number;
  /** Seconds of the same traffic before measuring. */
  warmupMs: number;
  size: number;
  /** `echo`: clients send, the server echoes; `push`: the server publishes to every connection. */
  kind: 'echo' | 'push';
}

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

/** The fixed-load spec from flags, for a scenario of a kind. */
export function fixedLoadSpec(f: FlagReader, kind: FixedLoadSpec['kind']): FixedLoadSpec {
  return {
    ratePerSec: f.num('fixed-rate'),
    connections: f.num('fixed-connections'),
    durationMs: f.num('fixed-duration') * 1000,
    warmupMs: Math.max(500, f.num('warmup') * 1000),
    size: f.num('size'),
    kind,
  };
}

/** Whether the fixed-load phase runs for a transport: rows that deliver by frames (the WebSocket rows and the ceiling). */
function fixedLoadApplies(name: TransportName, spec: FixedLoadSpec): boolean {
  return spec.ratePerSec > 0 && describe(name).traits.delivery === 'frames';
}

/** The ETA's plan of the fixed-load phase on a transport: a fresh server and load process (about a second), warm-up, measurement; 0 where it does not run. */
export function fixedLoadPlannedMs(name: TransportName, spec: FixedLoadSpec | undefined): number {
  return spec && fixedLoadApplies(name, spec) ? 1000 + spec.warmupMs + spec.durationMs : 0;
}

/** Runs the fixed-load phase on a fresh server and returns its figures. */
async function measureFixedLoad(name: TransportName, spec: FixedLoadSpec, run: RunParams, progress: (l: string) => void): Promise<FixedLoadResult> {
  const s = new Session(name, {}, { ...run, wsClient: 'ws' });
  try {
    await s.startServer();
    await s.startLoad({ clients: spec.connections, processes: 1, pollIntervalMs: 1000, headers: 'minimal', mode: spec.kind === 'echo' ? 'echo' : 'subscribe' });
    progress(`${name}: fixed load, ${spec.ratePerSec} msg/s over ${spec.connections} connections for ${spec.durationMs / 1000} s`);
    const total = spec.durationMs + spec.warmupMs;
    let first: number;
    let last: number;
    if (spec.kind === 'echo') {
      const warm = Math.round((spec.ratePerSec * spec.warmupMs) / 1000);
      await s.arm(warm + 1);
      const sending = s.loads[0]!.ask({ type: 'send', ratePerClient: spec.ratePerSec / spec.connections, size: spec.size, durationMs: total }, total + 30_000);
      await new Promise((r) => setTimeout(r, spec.warmupMs));
      await s.measure(warm + 1);
      const sent = await sending;
      await s.drain(sent.sent, 2000);
      first = warm + 1;
      last = sent.last;
    } else {
      const publishRate = spec.ratePerSec / spec.connections;
      const warm = Math.round((publishRate * spec.warmupMs) / 1000);
      await s.arm(warm + 1);
      const publishing = s.server.ask({ type: 'publish', rate: publishRate, size: spec.size, durationMs: total }, total + 30_000);
      await new Promise((r) => setTimeout(r, spec.warmupMs));
      await s.measure(warm + 1);
      const published = await publishing;
      first = warm + 1;
      last = published.last;
      await s.drain((last - first + 1) * spec.connections, 2000);
    }
    const row = await collect(s, name, { first, last, size: spec.size, seconds: spec.durationMs / 1000, upPayload: spec.kind === 'echo', keepHistogram: true });
    const histogram = row.extra?.['latencyHistogram'];
    const delivered = row.messages?.delivered ?? 0;
    const lost = row.messages?.lost ?? 0;
    const notSent = Number(row.extra?.['notSentBacklog'] ?? 0);
    const cpuMs = row.server?.cpuMs ?? 0;
    const loadCpuMs = row.client?.cpuMs;
    return {
      ratePerSec: spec.ratePerSec,
      connections: spec.connections,
      seconds: spec.durationMs / 1000,
      kind: spec.kind,
      cpuUsPerMessage: delivered > 0 ? Math.round((cpuMs * 1000 * 100) / delivered) / 100 : 0,
      ...(loadCpuMs !== undefined && delivered > 0 && { loadCpuUsPerMessage: Math.round((loadCpuMs * 1000 * 100) / delivered) / 100 }),
      serverCpuPct: row.server?.cpuPct ?? 0,
      delivered,
      lost,
      // Delivered within 2 % of the rate asked, nothing lost, nothing held back: the server kept the rate.
      sustained: lost === 0 && notSent === 0 && delivered >= 0.98 * spec.ratePerSec * (spec.durationMs / 1000),
      clientBound: row.client?.clientBound ?? false,
      ...(row.latencyMs ? { latencyMs: { p50: row.latencyMs.p50, p99: row.latencyMs.p99, p999: row.latencyMs.p999 } } : {}),
      ...(typeof histogram === 'string' ? { histogram } : {}),
    };
  } finally {
    await s.close();
  }
}

/** The fields a row carries for its fixed-load phase: the figures only when the rate was sustained. */
function fixedLoadExtra(r: FixedLoadResult): Record<string, unknown> {
  if (!r.sustained) return { fixedLoad: r };
  const latency = r.latencyMs ? { fixedP50Ms: r.latencyMs.p50, fixedP99Ms: r.latencyMs.p99 } : {};
  const load = r.loadCpuUsPerMessage !== undefined ? { fixedLoadCpuUsPerMessage: r.loadCpuUsPerMessage } : {};
  return { fixedLoad: r, fixedCpuUsPerMessage: r.cpuUsPerMessage, ...load, ...latency };
}

/** Adds the fixed-load phase's figures to a completed row of a frame transport; a failure of the phase is noted, not fatal. */
export async function withFixedLoad(
  row: TransportResult,
  name: TransportName,
  spec: FixedLoadSpec,
  run: RunParams,
  progress: (l: string) => void,
): Promise<TransportResult> {
  if (row.state !== 'completed' || !fixedLoadApplies(name, spec)) return row;
  try {
    // Another scenario of this trial may have measured the very same phase: the same spec on a
    // fresh server, so its figure is this one. A rerun of that scenario measures it afresh.
    const key = JSON.stringify([name, spec, run.trial ?? 1]);
    const done = run.fixedLoads?.get(key);
    if (done && done.by !== run.scenario) {
      const r = { ...done.result, measuredBy: done.by };
      progress(`${name}: fixed load ${spec.ratePerSec} msg/s: the same phase as ${done.by}'s in this trial, not run again (${r.cpuUsPerMessage} µs/msg)`);
      return { ...row, extra: { ...row.extra, ...fixedLoadExtra(r) } };
    }
    const r = await measureFixedLoad(name, spec, run, progress);
    if (run.scenario !== undefined) run.fixedLoads?.set(key, { result: r, by: run.scenario });
    return { ...row, extra: { ...row.extra, ...fixedLoadExtra(r) } };
  } catch (e) {
    return { ...row, extra: { ...row.extra, fixedLoadError: (e as Error).message } };
  }
}
