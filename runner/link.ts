/**
 * A row's emulated link (`websocket@3g`) as the session runs it: the relay's child process in
 * front of whatever the clients would reach (the server, nginx, a cluster balancer), and what
 * it cost during the measured phase.
 */
import type { LinkProfile } from '../path/links.ts';
import { describeLink } from '../path/links.ts';
import { rtoMs } from '../path/link-model.ts';
import type { QueueSeen, RelayStats, Upstream } from '../path/link-relay.ts';
import type { LinkParams } from '../path/links.ts';
import { Child } from './child.ts';
import { treeUsage } from '../metrics/process.ts';

const LINK_CHILD = import.meta.resolve('./link-child.ts');

/** What the session and the link's process say to each other. */
export type LinkCalls = {
  /** Starts the relay on 127.0.0.1, a free port, forwarding to the upstreams in turn. */
  init: { req: { params: LinkParams; upstreams: Upstream[]; seed: number }; reply: { port: number; pid: number } };
  /** What the relay has carried so far; `resetPeaks`: the queues' peaks start afresh after this reading. */
  stats: { req: { resetPeaks?: boolean }; reply: { stats: RelayStats } };
  /** Resets every open connection; `atNs`: when, on the monotonic clock every process of the host shares. */
  drop: { req: Record<never, never>; reply: { connections: number; atNs: number } };
};

/** The seed of every link's randomness unless `LAB_LINK_SEED` gives another: runs draw the same jitter and losses. */
export function linkSeed(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['LAB_LINK_SEED']);
  return Number.isInteger(s) ? s : 27_182;
}

/** A running link: its child, the port the clients reach, and its CPU when the measured phase began. */
export class LinkHop {
  private cpuAtMeasure = 0;
  private statsAtMeasure: RelayStats | undefined;

  private constructor(
    readonly profile: LinkProfile,
    readonly child: Child<LinkCalls>,
    readonly port: number,
  ) {}

  /** Forks the relay's process (`track` pins and records it as the session's children are) and waits for its port. */
  static async start(profile: LinkProfile, upstreams: Upstream[], track: (c: Child<LinkCalls>) => Child<LinkCalls>): Promise<LinkHop> {
    const child = track(new Child<LinkCalls>(`link ${profile.name}`, LINK_CHILD));
    const ready = await child.ask({ type: 'init', params: profile.params, upstreams, seed: linkSeed() }, 30_000);
    return new LinkHop(profile, child, ready.port);
  }

  /** Resets every connection through the link at once; when it happened (monotonic ns) and how many. */
  async drop(): Promise<{ connections: number; atNs: number }> {
    const r = await this.child.ask({ type: 'drop' }, 10_000);
    return { connections: r.connections, atNs: r.atNs };
  }

  /** The measured phase begins: CPU and counts from here. */
  async mark(): Promise<void> {
    if (this.child.proc.pid) this.cpuAtMeasure = treeUsage(this.child.proc.pid).cpuMs;
    this.statsAtMeasure = (await this.child.ask({ type: 'stats', resetPeaks: true }, 10_000)).stats;
  }

  /** The row's `extra.link`: the link, its parameters, and what relaying the measured phase cost. */
  async totals(seconds: number, delivered: number): Promise<LinkTotals> {
    const cpuMs = this.child.proc.pid ? treeUsage(this.child.proc.pid).cpuMs - this.cpuAtMeasure : 0;
    const now = (await this.child.ask({ type: 'stats' }, 10_000)).stats;
    const base = this.statsAtMeasure;
    const chunks = now.chunks - (base?.chunks ?? 0);
    return {
      name: this.profile.name,
      params: this.profile.params,
      model: describeLink(this.profile.params),
      source: this.profile.source,
      rtoMs: rtoMs(this.profile.params),
      cpuMs: round(cpuMs),
      cpuPct: seconds > 0 ? round((cpuMs / (seconds * 1000)) * 100) : 0,
      ...(delivered > 0 && { cpuUsPerMessage: round((cpuMs * 1000) / delivered) }),
      ...(chunks > 0 && { cpuUsPerChunk: round((cpuMs * 1000) / chunks) }),
      connections: now.connections - (base?.connections ?? 0),
      chunks,
      lostSegments: now.lostSegments - (base?.lostSegments ?? 0),
      queueUp: queueOver(now.queueUp, base?.queueUp),
      queueDown: queueOver(now.queueDown, base?.queueDown),
    };
  }
}

/** A row's `extra.link`. */
export interface LinkTotals {
  name: string;
  params: LinkParams;
  /** The parameters in words. */
  model: string;
  source: string;
  rtoMs: number;
  /** The relay's CPU over the measured phase, ms and per cent of one core. */
  cpuMs: number;
  cpuPct: number;
  cpuUsPerMessage?: number;
  cpuUsPerChunk?: number;
  connections: number;
  chunks: number;
  lostSegments: number;
  /** What the chunks sent up (client → server) found waiting in front of their link: the uplink's queue. */
  queueUp: LinkQueue;
  /** The same for the chunks sent down. */
  queueDown: LinkQueue;
}

/** The queue in front of one direction's link over the measured phase, as the chunks arriving met it. */
interface LinkQueue {
  /** Chunks that arrived at this direction of the link. */
  chunks: number;
  /** The most bytes a chunk found waiting. */
  peakBytes: number;
  /** The bytes a chunk found waiting, on average. */
  meanBytes: number;
}

/** The queue between two readings of the relay's counters. */
function queueOver(now: QueueSeen, base: QueueSeen | undefined): LinkQueue {
  const chunks = now.chunks - (base?.chunks ?? 0);
  return { chunks, peakBytes: Math.round(now.peakBytes), meanBytes: chunks > 0 ? round((now.sumBytes - (base?.sumBytes ?? 0)) / chunks) : 0 };
}

const round = (x: number) => Math.round(x * 100) / 100;
