/**
 * `push`: the server publishes S-byte messages at a constant rate R to N
 * subscribers for D seconds. One-way latency runs from each message's intended
 * send time (corrected) and its actual send time (uncorrected); losses come
 * from sequence gaps; wire bytes from the server's sockets, connection set-up
 * included, since a real page pays for it too.
 */
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import { collect } from '../../runner/collect.ts';
import { deliveryLagMs, peerGap, type RunContext, type Scenario } from '../contract.ts';
import { pushFacet } from './facet.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { type FixedLoadSpec, fixedLoadPlannedMs, fixedLoadSpec, withFixedLoad } from '../../runner/fixed-load.ts';

export interface PushParams {
  /** Subscribers. */
  clients: number;
  /** Messages published per second. */
  rate: number;
  /** Payload bytes per message. */
  size: number;
  /** Publishing time, ms. */
  durationMs: number;
  /** Short-polling interval, ms. */
  pollIntervalMs: number;
  /** Request header profile of the HTTP clients. */
  headers: HeaderProfile;
  /** Load processes the subscribers are spread over. */
  loadProcesses: number;
  /** Long-poll hold time, ms. */
  longPollTimeoutMs: number;
  /** Traffic before measuring, ms (excluded from every figure but the wire bytes of set-up). */
  warmupMs: number;
  /** The fixed-load phase after the push (frame rows): server CPU per message at a rate all sustain. */
  fixed?: FixedLoadSpec;
}

export const PUSH_DEFAULTS: PushParams = {
  clients: 50,
  rate: 50,
  size: 64,
  durationMs: 5000,
  pollIntervalMs: 1000,
  headers: 'browser',
  loadProcesses: 1,
  longPollTimeoutMs: 25_000,
  warmupMs: 0,
};

/** Push parameters from the shared flags. */
function pushParams(f: FlagReader): PushParams {
  return {
    clients: f.num('clients'),
    rate: f.num('rate'),
    size: f.num('size'),
    durationMs: f.num('duration') * 1000,
    ...httpLoadFlags(f),
    loadProcesses: f.num('load-processes'),
    warmupMs: f.num('warmup') * 1000,
    fixed: fixedLoadSpec(f, 'push'),
  };
}

/** Trials of the quick profile without --repeat. */
const QUICK_TRIALS = 3;

/**
 * Whether a trial runs the fixed-load phase: the quick profile's own trials run it in the first
 * only (its second at a fixed rate reads steadier than a short push's p99, and two more per frame
 * row would add about 8 s to a run that must stay within five minutes); --repeat and the full
 * profile run it in every trial.
 */
const fixedPhaseRuns = (quickTrials: boolean | undefined, trial: number | undefined): boolean => !(quickTrials && (trial ?? 1) > 1);

/** Connecting one subscriber, for the ETA (measured on the quick profile). */
const CONNECT_MS = 4;

/** Drain: how long deliveries may trail the last publish before the rest counts as lost. */
function drainMs(p: PushParams): number {
  return Math.max(2000, 2 * p.pollIntervalMs + 1000);
}

export const push: Scenario<PushParams> = {
  name: 'push',
  skipReason: (d) => peerGap(d, 'publish'),
  summary: 'server → N subscribers at a constant rate: one-way latency, loss, bytes per delivered message, server cost',
  facet: pushFacet,
  params: pushParams,
  // The matrix's latency column: three short trials (0.7 s each on the quick profile) give its p99 a range.
  quickTrials: QUICK_TRIALS,
  plannedMs: (p, t, trial) =>
    p.warmupMs +
    p.durationMs +
    deliveryLagMs(t, p.pollIntervalMs) +
    p.clients * CONNECT_MS +
    (fixedPhaseRuns(trial?.quickTrials, trial?.index) ? fixedLoadPlannedMs(t.name, p.fixed) : 0),
  async run(transport: TransportName, p: PushParams, ctx: RunContext): Promise<TransportResult> {
    const row = await pushOnce(transport, p, ctx);
    return p.fixed && fixedPhaseRuns(ctx.quickTrials, ctx.trial) ? withFixedLoad(row, transport, p.fixed, ctx, ctx.progress) : row;
  },
};

/** The push itself, on its own server. */
async function pushOnce(transport: TransportName, p: PushParams, ctx: RunContext): Promise<TransportResult> {
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
  try {
    ctx.progress(`${transport}: starting server`);
    await s.startServer();
    ctx.progress(`${transport}: connecting ${p.clients} subscriber(s)`);
    await s.startLoad({ clients: p.clients, processes: p.loadProcesses, pollIntervalMs: p.pollIntervalMs, headers: p.headers });
    const warmCount = Math.round((p.rate * p.warmupMs) / 1000);
    await s.arm(warmCount + 1);
    ctx.progress(
      `${transport}: publishing ${p.rate} msg/s × ${p.size} B for ${p.durationMs / 1000} s${warmCount ? ` after ${p.warmupMs / 1000} s of warm-up` : ''}`,
    );
    const publishing = s.server.ask({ type: 'publish', rate: p.rate, size: p.size, durationMs: p.durationMs + p.warmupMs }, p.durationMs + p.warmupMs + 30_000);
    if (warmCount) await new Promise((r) => setTimeout(r, p.warmupMs));
    await s.measure(warmCount + 1);
    const published = await publishing;
    const first = warmCount + 1;
    const last = published.last;
    const owed = (last - first + 1) * p.clients;
    await s.drain(owed, drainMs(p), ctx.signal);
    return await collectPush(s, transport, p, first, last);
  } finally {
    await s.close();
  }
}

/** Gathers the figures of a finished push session into a result row. */
function collectPush(s: Session, transport: TransportName, p: PushParams, first: number, last: number): Promise<TransportResult> {
  return collect(s, transport, { first, last, size: p.size, seconds: p.durationMs / 1000, upPayload: false, extra: { headers: p.headers } });
}
