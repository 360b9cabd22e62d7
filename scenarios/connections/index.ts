/**
 * `connections`: what idle connections cost the server. One server process
 * (started with --expose-gc) is measured empty, then the subscribers are
 * ramped up step by step (1k, 5k, 10k …), each step held for a few seconds
 * with the heartbeats running: WebSocket pings, SSE comment heartbeats, short
 * polls at their interval (that is their idle cost) and long polls held. Per
 * step: the server's RSS and V8 heap after a gc, RSS per connection above the
 * empty server, and the server's CPU while the connections sit idle.
 *
 * Every step needs file descriptors: one per connection in the server, one or
 * two per subscriber in the load processes. The open-files limit is read from
 * /proc/self/limits; subscribers are spread over enough load processes to stay
 * under it, and a step the server itself cannot hold is skipped with the reason.
 */
import { CLIENT_BOUND_PCT, round } from '../../runner/collect.ts';
import { readFileSync } from 'node:fs';
import type { TimePoint, TransportName, TransportResult } from '../../metrics/results.ts';
import type { ConnectionsStep } from './schema.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { RunContext, Scenario } from '../contract.ts';
import { connectionsFacet } from './facet.ts';
import { counterWire, heartbeatServerOptions, measuredRow } from '../contract.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { requestPerUpdate, type TransportDescriptor } from '../../transports/descriptor.ts';
import { HEARTBEAT_FLAGS } from '../dead-peer/index.ts';
import type { ClusterTotals, ServerTotals } from '../../runner/protocol.ts';
import type { ServerCounters } from '../../servers/contract.ts';

/** Descriptors a process needs besides its connections (stdio, IPC, tsx, the event loop). */
const FD_RESERVE = 64;
/** Share of the open-files limit a load process may fill with connections. */
const FD_USE = 0.9;

export interface ConnectionsParams {
  /** Subscriber counts to hold, ascending. */
  steps: number[];
  /** How long each step is held idle and measured, ms. */
  holdMs: number;
  /** WebSocket ping and SSE comment-heartbeat interval, ms (0 = off). */
  heartbeatIntervalMs: number;
  /** Unanswered pings before a WebSocket peer is dropped. */
  maxMissed: number;
  /** Short-polling interval, ms. */
  pollIntervalMs: number;
  /** Long-poll hold time, ms. */
  longPollTimeoutMs: number;
  /** Request header profile of the HTTP clients. */
  headers: HeaderProfile;
  /** Fewest load processes to spread the subscribers over (more when the open-files limit asks). */
  loadProcesses: number;
  /** HTTP/2 rows: subscribers per session (1: a session per page; more: streams sharing one, as a browser's tabs do). */
  streamsPerSession: number;
}

/** A step in `extra.steps`: the report's ConnectionsStep plus what explains it. */
interface ConnectionsStepRow extends ConnectionsStep {
  /** RSS added per connection since the previous step (the first step: since the empty server), bytes. */
  marginalRssPerConnBytes: number;
  /** RSS per TCP socket the server held above the empty server, bytes. */
  rssPerSocketBytes: number;
  /** Server V8 heap used per connection above the empty server, bytes. */
  heapPerConnBytes: number;
  /** TCP connections the server held (HTTP clients may keep two per subscriber). */
  socketsOpen: number;
  /** Subscribers the server counted (held polls and short pollers are not subscribers). */
  subscribers: number;
  /** Server CPU over the hold, ms. */
  cpuMs: number;
  /** Peak server RSS during the hold (before the gc), bytes. */
  rssMaxBytes: number;
  /** HTTP requests the server answered during the hold, per second (polls; 0 for held streams). */
  requestsPerSec: number;
  /** Time to open this step's new connections, ms. */
  connectMs: number;
  /** Load processes holding the subscribers at this step. */
  loadProcesses: number;
  /** Highest load-process CPU over the hold, percent of one core. */
  clientCpuPct: number;
}

/** `extra` of a connections row. */
export interface ConnectionsRowExtra {
  steps: ConnectionsStepRow[];
  /** The empty server after a gc. */
  baseline: { rssBytes: number; heapBytes: number };
  /** Open-files limit (soft, hard) of the processes, or null when unknown. */
  openFilesLimit: { soft: number; hard: number } | null;
  /** Steps not run and why. */
  skipped: { connections: number; reason: string }[];
  /** Whether the heap figures come after a forced gc. */
  gcExposed: boolean;
  heartbeat: { intervalMs: number; maxMissed: number };
  /** HTTP/2 rows: subscribers per session (the sockets column then counts sessions). */
  streamsPerSession?: number;
  /** Clustered rows: each node's, the balancer's and Redis's share over the last hold. */
  cluster?: ClusterTotals;
}

function connectionsParams(f: FlagReader): ConnectionsParams {
  const steps = [...new Set(f.nums('connection-steps'))].sort((a, b) => a - b);
  return {
    steps,
    holdMs: f.num('connection-hold') * 1000,
    heartbeatIntervalMs: f.num('heartbeat-interval'),
    maxMissed: f.num('max-missed'),
    ...httpLoadFlags(f),
    loadProcesses: f.num('load-processes'),
    streamsPerSession: f.num('h2-streams-per-session'),
  };
}

/** The open-files limit of this process (children inherit it), from /proc/self/limits. */
export function openFilesLimit(): { soft: number; hard: number } | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line?.match(/Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/);
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return null;
  }
}

/**
 * Descriptors one subscriber takes on each side: the sockets its transport holds per client
 * (the polling clients' pool of two ends up holding both: a poll goes out on the second while
 * the first is still being released).
 */
function fdsPerClient(d: TransportDescriptor): number {
  return d.traits.socketsPerClient;
}

/** Load processes needed for `clients` subscribers under an open-files limit. */
export function processesFor(d: TransportDescriptor, clients: number, limit: number | null, atLeast: number): number {
  const perProcess = limit === null ? Infinity : Math.max(1, Math.floor((limit * FD_USE - FD_RESERVE) / fdsPerClient(d)));
  return Math.max(1, Math.min(clients, Math.max(atLeast, Math.ceil(clients / perProcess))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's counters, RSS and V8 heap now. */
interface Snapshot {
  counters: ServerCounters;
  rssBytes: number;
  heapBytes: number;
}

async function snapshot(s: Session): Promise<Snapshot> {
  const m = await s.usage();
  return { counters: m.counters, rssBytes: m.rssBytes, heapBytes: m.heapUsedBytes };
}

/** Two full collections in the server, 100 ms apart (what the first freed may free more); false without --expose-gc. */
async function gcTwice(s: Session): Promise<boolean> {
  const first = await s.collectGarbage();
  await sleep(100);
  return (await s.collectGarbage()) && first;
}

/** Why the server process cannot hold `n` subscribers under its open-files limit, or undefined when it can. */
export function serverFdsShort(d: TransportDescriptor, n: number, limits: { soft: number } | null): string | undefined {
  // Behind the balancer each node holds its round-robin share.
  const serverFds = Math.ceil(n / (d.nodes ?? 1)) * fdsPerClient(d) + FD_RESERVE;
  if (!limits || serverFds <= limits.soft) return undefined;
  return `the server process would need up to ${serverFds} file descriptors (${fdsPerClient(d)} per subscriber); its open-files limit is ${limits.soft} (raise it with ulimit -n, or spread it over nodes with --nodes)`;
}

/** What the server's process reported over one hold. */
type HoldTotals = ServerTotals['process'];

/** A held step's figures, from the snapshots around it: `base` the empty server, `prev` the step before. */
function stepFigures(
  n: number,
  m: { base: Snapshot; prev: { n: number; rssBytes: number }; before: Snapshot; after: Snapshot; afterCounters: ServerCounters; proc: HoldTotals },
  load: { connectMs: number; processes: number; cpuPct: number[] },
): ConnectionsStepRow {
  const { base, prev, before, after, proc } = m;
  return {
    connections: n,
    rssBytes: after.rssBytes,
    heapBytes: after.heapBytes,
    rssPerConnBytes: Math.round((after.rssBytes - base.rssBytes) / n),
    marginalRssPerConnBytes: Math.round((after.rssBytes - prev.rssBytes) / (n - prev.n)),
    rssPerSocketBytes: after.counters.connectionsOpen > 0 ? Math.round((after.rssBytes - base.rssBytes) / after.counters.connectionsOpen) : 0,
    heapPerConnBytes: Math.round((after.heapBytes - base.heapBytes) / n),
    cpuPct: round(proc.cpuPct),
    cpuMs: round(proc.cpuMs),
    rssMaxBytes: proc.rssMaxBytes,
    socketsOpen: after.counters.connectionsOpen,
    subscribers: after.counters.subscribers,
    requestsPerSec: round(((m.afterCounters.requests - before.counters.requests) * 1000) / proc.wallMs),
    connectMs: Math.round(load.connectMs),
    loadProcesses: load.processes,
    clientCpuPct: round(Math.max(...load.cpuPct)),
  };
}

/** The steps of one row: subscribers added step by step to one server, each count held idle and measured. */
class IdleSteps {
  readonly steps: ConnectionsStepRow[] = [];
  readonly series: TimePoint[] = [];
  /** The last hold's cluster shares, and what the last hold cost the server and the load. */
  cluster: ClusterTotals | undefined;
  last: { cpuMs: number; rssMaxBytes: number; cpuPct: number; clientCpuMs: number; clientCpuPct: number; clientBound: boolean } | undefined;
  private held = 0;
  private prefix = 0;
  private prev: { n: number; rssBytes: number };

  constructor(
    /** When the row began (before its server started): the series' zero. */
    private readonly tStart: number,
    private readonly s: Session,
    private readonly p: ConnectionsParams,
    private readonly ctx: RunContext,
    private readonly limits: { soft: number } | null,
    private readonly base: Snapshot,
  ) {
    this.prev = { n: 0, rssBytes: base.rssBytes };
  }

  /** Adds the subscribers `n` needs, in new load processes under the open-files limit; how long that took, ms. */
  private async connect(n: number): Promise<number> {
    const { s, p } = this;
    const add = n - this.held;
    const k = processesFor(s.descriptor, add, this.limits?.soft ?? null, Math.max(1, p.loadProcesses - s.loads.length));
    this.ctx.progress(`${s.transport}: connecting ${add} more subscriber(s) (${n} in all) over ${k} load process(es)`);
    const t0 = performance.now();
    // 100 handshakes at once per process; fewer each when many processes connect together, so the total stays near 300.
    const concurrency = Math.min(100, Math.max(10, Math.floor(300 / k)));
    await s.addLoads(
      { clients: add, processes: k, pollIntervalMs: p.pollIntervalMs, headers: p.headers, concurrency, streamsPerSession: p.streamsPerSession },
      () => `s${this.prefix++}c`,
    );
    this.held = n;
    return performance.now() - t0;
  }

  /** Holds `n` subscribers idle for the hold time and records the step. */
  async hold(n: number): Promise<void> {
    const { s, p, ctx } = this;
    const connectMs = await this.connect(n);
    // Let the connect burst settle, then measure the idle hold.
    await sleep(1000);
    // The series runs over every step, on the scenario's own clock.
    await s.measure(1, undefined, (m) => {
      this.series.push({ t: round1((performance.now() - this.tStart) / 1000), serverCpuPct: round1(m.cpuPct), serverRssBytes: m.rssBytes });
    });
    const before = await snapshot(s);
    ctx.progress(`${s.transport}: holding ${n} idle connection(s) for ${p.holdMs / 1000} s`);
    await sleep(p.holdMs);
    const { process: proc, counters: afterCounters, cluster } = await s.totals();
    this.cluster = cluster;
    const loads = await s.finish(1, 0);
    await gcTwice(s);
    const after = await snapshot(s);
    const clientCpu = loads.map((m) => m.cpuPct);
    const step = stepFigures(
      n,
      { base: this.base, prev: this.prev, before, after, afterCounters, proc },
      { connectMs, processes: s.loads.length, cpuPct: clientCpu },
    );
    this.steps.push(step);
    this.prev = { n, rssBytes: after.rssBytes };
    this.last = {
      cpuMs: step.cpuMs,
      rssMaxBytes: proc.rssMaxBytes,
      cpuPct: step.cpuPct,
      clientCpuMs: loads.reduce((a, m) => a + m.cpuMs, 0),
      clientCpuPct: step.clientCpuPct,
      clientBound: clientCpu.some((c) => c >= CLIENT_BOUND_PCT),
    };
    ctx.progress(
      `${s.transport}: ${n} idle: RSS ${mb(step.rssBytes)} (+${step.rssPerConnBytes} B/conn), heap ${mb(step.heapBytes)} (+${step.heapPerConnBytes} B/conn), CPU ${step.cpuPct} %`,
    );
    if (step.socketsOpen < n && step.subscribers < n && !requestPerUpdate(s.descriptor.traits)) {
      throw new Error(`only ${step.socketsOpen} of ${n} connections were open at the end of the hold`);
    }
  }
}

export const connections: Scenario<ConnectionsParams> = {
  name: 'connections',
  summary: 'idle connections held at 1k/5k/10k: server RSS and heap per connection, CPU while idle with heartbeats running',
  facet: connectionsFacet,
  flags: {
    'connection-steps': {
      help: 'idle connections to hold, a comma list',
      kind: 'numbers',
      quick: [1000],
      full: [1000, 5000, 10000],
      min: 1,
      max: 1_000_000,
      integer: true,
    },
    'connection-hold': { help: 'seconds each step is held idle and measured', kind: 'number', quick: 2, full: 5, min: 0.5, max: 600 },
    ...HEARTBEAT_FLAGS,
    'h2-streams-per-session': {
      help: 'HTTP/2 rows: subscribers sharing one h2 session, as a browser’s tabs share its connection (1: a session per page)',
      kind: 'number',
      quick: 1,
      min: 1,
      max: 10_000,
      integer: true,
    },
  },
  params: connectionsParams,
  // Per step: connecting (about 1 ms a connection), a second to settle, the hold, two collections.
  plannedMs: (p) => 400 + p.steps.reduce((a, n, i) => a + (n - (p.steps[i - 1] ?? 0)) + 1000 + p.holdMs + 300, 0),
  async run(transport: TransportName, p: ConnectionsParams, ctx: RunContext): Promise<TransportResult> {
    const limits = openFilesLimit();
    const s = new Session(transport, heartbeatServerOptions(p), ctx);
    const tStart = performance.now();
    try {
      ctx.progress(`${transport}: starting server (--expose-gc)`);
      await s.startServer({ nodeFlags: ['--expose-gc'] });
      await sleep(300);
      const gcExposed = await gcTwice(s);
      const base = await snapshot(s);
      const ramp = new IdleSteps(tStart, s, p, ctx, limits, base);
      const skipped: ConnectionsRowExtra['skipped'] = [];
      for (const n of p.steps) {
        if (ctx.signal.aborted) break;
        const short = serverFdsShort(s.descriptor, n, limits);
        if (short) skipped.push({ connections: n, reason: short });
        else await ramp.hold(n);
      }
      const { steps, last } = ramp;
      if (steps.length === 0 || !last) throw new Error(skipped.map((x) => `${x.connections}: ${x.reason}`).join('; ') || 'no step ran');
      const end = (await snapshot(s)).counters;
      const extra: ConnectionsRowExtra = {
        steps,
        baseline: { rssBytes: base.rssBytes, heapBytes: base.heapBytes },
        openFilesLimit: limits,
        skipped,
        gcExposed,
        heartbeat: { intervalMs: p.heartbeatIntervalMs, maxMissed: p.maxMissed },
        ...(s.descriptor.httpServer === 'h2' && { streamsPerSession: p.streamsPerSession }),
        ...(ramp.cluster && { cluster: ramp.cluster }),
      };
      return measuredRow(transport, {
        wire: counterWire(end),
        server: { cpuMs: last.cpuMs, rssMaxBytes: last.rssMaxBytes, cpuPct: last.cpuPct, connections: steps[steps.length - 1]!.connections },
        client: { cpuMs: round(last.clientCpuMs), cpuPct: last.clientCpuPct, processes: s.loads.length, clientBound: last.clientBound },
        series: ramp.series,
        extra: extra as unknown as Record<string, unknown>,
      });
    } finally {
      await s.close();
    }
  },
};

const round1 = (x: number) => Math.round(x * 10) / 10;
const mb = (b: number) => `${Math.round(b / 1e5) / 10} MB`;
