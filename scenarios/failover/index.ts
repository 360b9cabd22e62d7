/**
 * `failover`: what a deploy or a crash costs. N subscribers under a steady publish; then the
 * server goes — `graceful` (it says goodbye: WebSocket close 1001, event streams and held polls
 * ended, and a new process starts on the same port at once) or `crash` (SIGKILL, the new process
 * started `--down-ms` later) — and every client comes back as its real counterpart does: SSE by
 * the EventSource rules, pollers with their cursor, WebSocket clients by their row's policy
 * (`none` stays closed; `+resume` asks for what it missed by cursor).
 *
 * The server keeps its messages in a log outside its process (runner/restart.ts), so the new one
 * has the history and numbering of the old; the publisher lives in the server and pauses while it
 * is down. Published messages are numbered 1..N with no hole, so every client owes every number
 * and loss and duplicates are counted exactly, per client, by sequence number.
 *
 * Measured per run: time until 50/99/100 % of the clients had a working connection again (from
 * the moment the server began to go); messages lost and duplicated; the kernel's listen-queue
 * overflows and drops; the new server's peak CPU and RSS in its first 10 s; delivery latency of
 * what was published in the 10 s after it was back; a timeline of clients connected and
 * deliveries per second, the failure and the restart marked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HeaderProfile } from '../../clients/contract.ts';
import { mergeEncoded, summarize } from '../../metrics/latency.ts';
import { listenCounters } from '../../metrics/netstat.ts';
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import type { LoadResult } from '../../runner/protocol.ts';
import { FAILOVER_MODES, FailoverCalls, type FailoverMode, type Restarted, restartServer } from '../../runner/restart.ts';
import { Session } from '../../runner/session.ts';
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import { reconnectVariantsOf, transport as describe } from '../../transports/index.ts';
import { measuredRow, peerGap, type RunContext, type Scenario } from '../contract.ts';
import { failoverFacet } from './facet.ts';
import type { FailoverExtra, FailoverRun } from './schema.ts';
import { Timeline } from './timeline.ts';

/** How the server goes: one process (`crash`, `graceful`), or the nodes of a clustered row (`rolling`, `node-crash`). */
type NodeFailover = 'rolling' | 'node-crash';
type Mode = FailoverMode | NodeFailover;
const NODE_MODES: readonly NodeFailover[] = ['rolling', 'node-crash'];
const MODES: readonly Mode[] = [...FAILOVER_MODES, ...NODE_MODES];

/** The modes of a run that apply to a row: node failovers to a clustered row, the others to one server process. */
function modesFor(d: TransportDescriptor, modes: readonly Mode[]): Mode[] {
  const nodeMode = (m: Mode) => (NODE_MODES as readonly Mode[]).includes(m);
  return modes.filter((m) => nodeMode(m) === (d.nodes !== undefined));
}

export interface FailoverParams {
  /** Failover modes, run one after the other on fresh servers (each row runs those that apply to it). */
  modes: Mode[];
  /** Subscriber counts; each mode runs at each. */
  clientCounts: number[];
  /** After a crash: ms before the new server process is started. */
  downMs: number;
  /** Messages published per second, and their size. */
  rate: number;
  size: number;
  /** Steady publishing before the failure, ms. */
  beforeMs: number;
  /** Publishing after the server is back, ms: the window of the after-recovery latency. */
  afterMs: number;
  /**
   * Longest wait for the last messages after publishing ended, ms, plus DRAIN_MS_PER_CLIENT for
   * each client (for a row that does not resume, less when deliveries stop).
   */
  drainMs: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
  /** Fewest load processes (more for many clients: see CLIENTS_PER_PROCESS). */
  loadProcesses: number;
}

/** Clients per load process at most: two sockets each (an HTTP client's pool) stay under a 20,000 open-files limit. */
const CLIENTS_PER_PROCESS = 5000;
/** The window after the restart in which the storm's server cost is read, ms. */
const STORM_MS = 10_000;
/**
 * A drain ends when neither a delivery nor a reconnection came for this long (a row that never
 * reconnects gets nothing more): longer than the longest backoff (5 s), so a client still on its
 * way back is waited for.
 */
const STILL_MS = 6000;
/**
 * The drain's bound grows with the clients: at 10,000, a client whose SYN the full listen queue
 * dropped retries after 1, 2, 4, 8, 16 and 32 s, and its HTTP client gives a connect up after
 * 10 s and starts again; a fixed bound counted clients still on their way back as loss.
 */
const DRAIN_MS_PER_CLIENT = 6;

/** How a row's clients come back, and whether they resume, from its traits and client options. */
function reconnectOf(d: TransportDescriptor): Pick<FailoverExtra, 'reconnect' | 'resumes'> {
  switch (d.traits.delivery) {
    case 'stream':
      return { reconnect: 'eventsource', resumes: true };
    case 'poll':
      return { reconnect: 'next poll', resumes: true };
    case 'held-request':
      return { reconnect: 'next poll, backoff', resumes: true };
    case 'frames':
      return { reconnect: d.client.options?.reconnect ?? 'none', resumes: d.client.options?.resume === true };
  }
}

/** The share-th quantile of the clients' recovery times, or null when fewer than that share came back. */
function recoveryAt(sorted: number[], of: number, share: number): number | null {
  const need = Math.ceil(share * of);
  if (need === 0 || sorted.length < need) return null;
  return sorted[need - 1]!;
}

/**
 * Waits until the load processes hold `target` deliveries, or `ms` pass, or (with `still`) for
 * STILL_MS neither the deliveries nor the clients connected changed.
 */
async function drain(f: FailoverCalls, target: number, ms: number, signal: AbortSignal, still: boolean): Promise<void> {
  const end = Date.now() + ms;
  let seen = '';
  let since = Date.now();
  while (Date.now() < end && !signal.aborted) {
    const now = await f.snapshots();
    const got = now.reduce((a, x) => a + x.delivered, 0);
    if (got >= target) return;
    const state = `${got} ${now.reduce((a, x) => a + (x.connected ?? 0), 0)}`;
    if (state !== seen) {
      seen = state;
      since = Date.now();
    } else if (still && Date.now() - since >= STILL_MS) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** With --nodes: the balancer stays and publishes through Redis the whole time; nodes go under it. */
async function nodesGo(
  s: Session,
  f: FailoverCalls,
  mode: 'rolling' | 'node-crash',
  transport: TransportName,
  p: FailoverParams,
  ctx: RunContext,
): Promise<{ back: Restarted; last: number }> {
  const publishing = s.publish({ rate: p.rate, size: p.size, durationMs: p.beforeMs + p.afterMs });
  await new Promise((r) => setTimeout(r, p.beforeMs));
  const downAtNs = process.hrtime.bigint();
  await f.mark(downAtNs);
  await f.nodeFailover(mode);
  const upAtNs = process.hrtime.bigint();
  const back: Restarted = { downAtNs, upAtNs, lastSeq: (await s.counters()).lastSeq };
  await f.tail(back.lastSeq + 1);
  ctx.progress(`${transport}: ${mode} done in ${((Number(upAtNs - downAtNs) / 1e6) | 0) / 1000} s`);
  return { back, last: (await publishing).last };
}

/** A single server crashes or says goodbye, and a new one takes its port and publishes on from where it stopped. */
async function serverGoes(
  s: Session,
  f: FailoverCalls,
  timeline: Timeline,
  mode: FailoverMode,
  transport: TransportName,
  p: FailoverParams,
  ctx: RunContext,
): Promise<{ back: Restarted; last: number }> {
  // The first server publishes until it goes; the promise fails with it.
  const before = s.publish({ rate: p.rate, size: p.size, durationMs: p.beforeMs + 120_000 }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, p.beforeMs));
  const back = await restartServer(s, mode, mode === 'crash' ? p.downMs : 0, async (atNs) => {
    timeline.markDown(atNs);
    await f.mark(atNs);
  });
  await before;
  timeline.markUp(back.upAtNs, s.server);
  await f.serverMeasure();
  const from = back.lastSeq + 1;
  await f.tail(from);
  ctx.progress(`${transport}: back up after ${((Number(back.upAtNs - back.downAtNs) / 1e6) | 0) / 1000} s; publishing from message ${from}`);
  const last = (await s.publish({ rate: p.rate, size: p.size, durationMs: p.afterMs, firstSeq: from })).last;
  return { back, last };
}

/** A run's figures from what the load processes counted and the timeline saw. */
function runFigures(r: {
  mode: Mode;
  clients: number;
  p: FailoverParams;
  back: Restarted;
  last: number;
  kept: number;
  recoveries: (number | null)[];
  results: LoadResult[];
  timeline: Timeline;
  net0: ReturnType<typeof listenCounters>;
  net1: ReturnType<typeof listenCounters>;
}): FailoverRun {
  const { mode, clients, p, back, last, kept, recoveries, results, timeline, net0, net1 } = r;
  const sum = (k: 'owed' | 'delivered' | 'lost' | 'duplicates') => results.reduce((a, r) => a + r[k], 0);
  // A client another node kept connected counts as back at once: it never had to come back.
  const backMs = [...Array.from({ length: kept }, () => 0), ...recoveries.filter((x): x is number => x !== null)].sort((a, b) => a - b);
  const tails = results.flatMap((r) => (r.tail === undefined ? [] : [r.tail]));
  const after = tails.length ? summarize(mergeEncoded(tails)) : null;
  const upAtS = timeline.secondsAt(back.upAtNs);
  const storm = timeline.points.filter((x) => x.t >= upAtS && x.t <= upAtS + STORM_MS / 1000);
  const cpus = storm.flatMap((x) => (x.serverCpuPct === undefined ? [] : [x.serverCpuPct]));
  const rss = storm.flatMap((x) => (x.serverRssBytes === undefined ? [] : [x.serverRssBytes]));
  return {
    mode,
    clients,
    downMs: mode === 'crash' ? p.downMs : 0,
    downAtS: timeline.secondsAt(back.downAtNs),
    upAtS,
    ...(back.goodbyeCut && { goodbyeCut: true }),
    published: last,
    firstAfter: back.lastSeq + 1,
    owed: sum('owed'),
    delivered: sum('delivered'),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    clientsLosing: results.reduce((a, r) => a + (r.clientsLosing ?? 0), 0),
    recovery: {
      p50Ms: recoveryAt(backMs, clients, 0.5),
      p99Ms: recoveryAt(backMs, clients, 0.99),
      p100Ms: recoveryAt(backMs, clients, 1),
      back: backMs.length,
      of: clients,
      ...(kept > 0 && { kept }),
    },
    ...(net0 && net1 && { listenOverflows: net1.overflows - net0.overflows, listenDrops: net1.drops - net0.drops }),
    ...(cpus.length && { stormPeakCpuPct: Math.max(...cpus) }),
    ...(rss.length && { stormPeakRssBytes: Math.max(...rss) }),
    ...(after && { afterP50Ms: after.p50, afterP99Ms: after.p99, afterMaxMs: after.max, afterCount: after.count }),
    clientErrors: [...new Set(results.flatMap((r) => r.errors))].slice(0, 5),
    timeline: timeline.points,
  };
}

/** One failover run: a fresh server and clients, a steady publish, the failure, the recovery. */
async function failoverRun(
  transport: TransportName,
  mode: Mode,
  clients: number,
  p: FailoverParams,
  ctx: RunContext,
): Promise<{ run: FailoverRun; histogram: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'transport-lab-failover-'));
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
  s.serverInit = { journal: path.join(dir, 'messages.jsonl') };
  const f = new FailoverCalls(s);
  const timeline = new Timeline();
  try {
    await s.startServer();
    const processes = Math.max(p.loadProcesses, Math.ceil(clients / CLIENTS_PER_PROCESS));
    await s.startLoad({ clients, processes, pollIntervalMs: p.pollIntervalMs, headers: p.headers });
    await s.measure(1);
    timeline.start(() => f.snapshots(), s.server);
    ctx.progress(`${transport}: ${clients} subscribers, ${p.rate} msg/s; ${mode} after ${p.beforeMs / 1000} s`);
    const net0 = listenCounters();
    const { back, last } =
      mode === 'rolling' || mode === 'node-crash' ? await nodesGo(s, f, mode, transport, p, ctx) : await serverGoes(s, f, timeline, mode, transport, p, ctx);
    // Clients that resume are waited for until every message is in or the bound passes: after a
    // listen-queue overflow the kernel's SYN backoff (1, 2, 4, 8, 16 s) keeps some away for long.
    // Those that do not resume never get what they missed: a stillness ends their wait.
    await drain(f, last * clients, p.drainMs + clients * DRAIN_MS_PER_CLIENT, ctx.signal, !reconnectOf(describe(transport)).resumes);
    const net1 = listenCounters();
    const rec = await f.recovery();
    const recoveries = rec.flatMap((r) => r.ms);
    const kept = rec.reduce((a, r) => a + r.kept, 0);
    const results: LoadResult[] = await f.finish(1, last);
    timeline.stop();
    const run = runFigures({ mode, clients, p, back, last, kept, recoveries, results, timeline, net0, net1 });
    return { run, histogram: results.map((r) => r.histograms.corrected) };
  } finally {
    timeline.stop();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const failover: Scenario<FailoverParams> = {
  name: 'failover',
  summary:
    'a deploy or crash under a steady publish: time until clients are back, messages lost and duplicated (by sequence number), the reconnect storm’s cost',
  facet: failoverFacet,
  byNameOnly: true,
  // A trial is a whole failover per mode and client count, minutes at 10,000 clients: one noisy
  // trial is kept and marked rather than run again, and the spread comes from --repeat.
  noisyReruns: 0,
  flags: {
    failover: {
      help: 'failover: how the server goes (crash: SIGKILL; graceful: goodbye, then a new process; with --nodes, rolling: node by node, node-crash: one node killed)',
      kind: 'choice-list',
      quick: [...MODES],
      choices: MODES,
    },
    'failover-clients': { help: 'failover: subscriber counts', kind: 'numbers', quick: [1000], full: [1000, 10_000], min: 1, max: 100_000, integer: true },
    'down-ms': { help: 'failover: after a crash, ms before the server is started again', kind: 'number', quick: 1000, min: 0, max: 60_000, integer: true },
    'failover-rate': { help: 'failover: messages published per second', kind: 'number', quick: 10, min: 1, max: 10_000 },
  },
  params: (f: FlagReader): FailoverParams => ({
    modes: f.strs('failover') as Mode[],
    clientCounts: f.nums('failover-clients'),
    downMs: f.num('down-ms'),
    rate: f.num('failover-rate'),
    size: f.num('size'),
    beforeMs: 3000,
    afterMs: STORM_MS,
    drainMs: 45_000,
    ...httpLoadFlags(f),
    loadProcesses: f.num('load-processes'),
  }),
  plannedMs: (p, d) => modesFor(d, p.modes).length * p.clientCounts.reduce((a, n) => a + n * 3 + p.beforeMs + p.downMs + 1500 + p.afterMs + STILL_MS, 0),
  rows: (transports) => transports.flatMap((t) => [t, ...reconnectVariantsOf(t)]),
  skipReason(d, p) {
    if (d.role === 'ceiling') return 'the raw TCP ceiling has no history to resume from and no client that reconnects';
    if (modesFor(d, p.modes).length === 0)
      return d.nodes !== undefined
        ? `a clustered row fails over node by node (--failover rolling or node-crash); this run asked for ${p.modes.join(', ')}`
        : `one server process restarts whole (--failover crash or graceful); this run asked only for ${p.modes.join(', ')}, which need --nodes`;
    return peerGap(d, 'publish');
  },
  async run(transport: TransportName, p: FailoverParams, ctx: RunContext): Promise<TransportResult> {
    if (ctx.path?.via || ctx.path?.tls) throw new Error('failover restarts the server on its port: it runs on the direct path (no --via, no --tls)');
    const runs: FailoverRun[] = [];
    const histograms: string[] = [];
    for (const clients of p.clientCounts)
      for (const mode of modesFor(describe(transport), p.modes)) {
        if (ctx.signal.aborted) break;
        const r = await failoverRun(transport, mode, clients, p, ctx);
        runs.push(r.run);
        histograms.push(...r.histogram);
      }
    const sum = (k: 'owed' | 'delivered' | 'lost' | 'duplicates') => runs.reduce((a, r) => a + r[k], 0);
    const d = describe(transport);
    const extra: FailoverExtra = { ...reconnectOf(d), ...(d.clusterOf !== undefined && { clusterOf: d.clusterOf }), runs };
    return measuredRow(transport, {
      latencyMs: histograms.length ? summarize(mergeEncoded(histograms)) : null,
      messages: { sent: sum('owed'), delivered: sum('delivered'), lost: sum('lost'), duplicates: sum('duplicates') },
      extra,
    });
  },
};
