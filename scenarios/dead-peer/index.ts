/**
 * `dead-peer`: one client, alone in its process, is frozen with SIGSTOP while
 * its connection is open. The server is asked for its counters every 100 ms
 * until it has closed the peer's sockets and dropped its subscription, or a
 * cap passes. SIGSTOP models a hung peer (a frozen tab, a stalled VM): its
 * kernel keeps the sockets open and keeps acknowledging TCP segments, so only
 * an application-level heartbeat that expects an answer can notice it.
 *
 * A server that does not notice within the cap is a finding, not a failure:
 * the row completes with `detected: false`.
 */
import { round } from '../../runner/collect.ts';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../servers/base.ts';
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import type { RunContext, Scenario } from '../contract.ts';
import { deadPeerFacet } from './facet.ts';
import type { DeadPeerExtra } from './schema.ts';
import { counterWire, heartbeatServerOptions, measuredRow, peerGap } from '../contract.ts';
import type { FlagReader, FlagSpecs } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { Peer } from './peer.ts';

/**
 * Node's keep-alive timeout on the lab's HTTP servers (`createServer({ keepAliveTimeout })`
 * in servers/base.ts): an idle keep-alive socket is closed this long after its last response.
 */
const SERVER_KEEP_ALIVE_MS = KEEP_ALIVE_TIMEOUT_MS;

/** How often the server's counters are read, ms: the resolution of `detectMs`. */
const POLL_COUNTERS_MS = 100;

/** Heartbeat flags, shared with the connections scenario (same specs, so declaring both is harmless). */
export const HEARTBEAT_FLAGS: FlagSpecs = {
  'heartbeat-interval': {
    help: 'WebSocket ping interval and SSE comment-heartbeat interval, ms (0 = off)',
    kind: 'number',
    quick: 1000,
    min: 0,
    max: 600_000,
    integer: true,
  },
  'max-missed': { help: 'unanswered WebSocket pings before the server drops a peer', kind: 'number', quick: 2, min: 1, max: 100, integer: true },
};

export interface DeadPeerParams {
  /** WebSocket ping interval and SSE comment-heartbeat interval, ms. */
  heartbeatIntervalMs: number;
  /** Unanswered pings before a WebSocket peer is dropped. */
  maxMissed: number;
  /** How long to wait for the server to notice, ms. */
  capMs: number;
  /** Short-polling interval of the frozen client, ms. */
  pollIntervalMs: number;
  /** How long the server holds a long poll, ms. */
  longPollTimeoutMs: number;
}

/** One change of the server's view of the peer, ms after the freeze. */
interface DeadPeerEvent {
  tMs: number;
  connectionsOpen: number;
  subscribers: number;
  emptyResponses: number;
}

/** `extra` of a dead-peer row (DeadPeerExtra plus what explains it). */
export interface DeadPeerRowExtra extends DeadPeerExtra {
  /** Whether the server freed the peer within the cap. */
  detected: boolean;
  /** Freeze → peer freed (no socket, no subscription), ms; only when detected. */
  detectMs?: number;
  /** How long the scenario waited, ms. */
  capMs: number;
  /** The liveness settings in force: ping interval and missed pongs for WebSocket, comment interval for SSE, 0 where none applies. */
  heartbeat: { intervalMs: number; maxMissed: number };
  /** Which mechanism applies: `ping-pong`, `one-way comment` or `none`. */
  heartbeatKind: 'ping-pong' | 'one-way comment' | 'none';
  /** HTTP timeouts that may end an idle or held connection, ms. */
  timeouts?: { keepAliveMs: number; longPollMs?: number };
  /** When the server should notice at the latest by its own settings, ms after the freeze; null when nothing would. */
  expectedMs: number | null;
  /** Why it noticed, or why not. */
  mechanism: string;
  /** Sockets and subscriptions the server held for the peer just before the freeze. */
  before: { connectionsOpen: number; subscribers: number };
  /** Freeze → the held long poll was answered (204 written into a socket nobody reads), ms. */
  heldPollAnsweredMs?: number;
  /** Every change the counter polls saw. */
  timeline: DeadPeerEvent[];
  /** Counter poll period, ms: detectMs is late by at most this. */
  resolutionMs: number;
}

function deadPeerParams(f: FlagReader): DeadPeerParams {
  return {
    heartbeatIntervalMs: f.num('heartbeat-interval'),
    maxMissed: f.num('max-missed'),
    capMs: f.num('dead-peer-cap') * 1000,
    pollIntervalMs: f.num('poll-interval'),
    longPollTimeoutMs: f.num('long-poll-timeout'),
  };
}

/** What the server's own settings say about noticing a frozen peer of a transport with these traits. */
export function expectation(d: TransportDescriptor, p: DeadPeerParams): Pick<DeadPeerRowExtra, 'heartbeat' | 'heartbeatKind' | 'timeouts' | 'expectedMs'> {
  const { heartbeat, delivery } = d.traits;
  if (heartbeat === 'ping-pong') {
    const on = p.heartbeatIntervalMs > 0;
    return {
      heartbeat: { intervalMs: p.heartbeatIntervalMs, maxMissed: p.maxMissed },
      heartbeatKind: on ? 'ping-pong' : 'none',
      expectedMs: on ? (p.maxMissed + 1) * p.heartbeatIntervalMs : null,
    };
  }
  if (heartbeat === 'one-way') {
    return {
      heartbeat: { intervalMs: p.heartbeatIntervalMs, maxMissed: 0 },
      heartbeatKind: p.heartbeatIntervalMs > 0 ? 'one-way comment' : 'none',
      expectedMs: null,
    };
  }
  const none = { heartbeat: { intervalMs: 0, maxMissed: 0 }, heartbeatKind: 'none' as const };
  switch (delivery) {
    case 'held-request':
      return {
        ...none,
        timeouts: { keepAliveMs: SERVER_KEEP_ALIVE_MS, longPollMs: p.longPollTimeoutMs },
        expectedMs: p.longPollTimeoutMs + SERVER_KEEP_ALIVE_MS,
      };
    case 'poll':
      return { ...none, timeouts: { keepAliveMs: SERVER_KEEP_ALIVE_MS }, expectedMs: SERVER_KEEP_ALIVE_MS };
    case 'stream':
    case 'frames':
      // A held stream or an upgraded connection with no heartbeat: nothing on the server's side ends it.
      return { ...none, expectedMs: null };
  }
}

/** What holds a frozen peer's connection open when no heartbeat ends it (the kernel ACKs, no write fails). */
function stillOpen(d: TransportDescriptor): string {
  return d.traits.delivery === 'stream'
    ? 'keepAliveTimeout does not apply to a response in progress, so the stream stays open until the peer process dies '
    : 'no server timeout applies to an open connection, so it stays open until the peer process dies ';
}

/** A short explanation of what happened, from the transport's traits, its settings and the outcome. */
export function mechanism(d: TransportDescriptor, p: DeadPeerParams, detectMs: number | undefined): string {
  const s = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  const seen = detectMs !== undefined ? `; freed after ${s(detectMs)}` : `; not freed within the ${s(p.capMs)} cap`;
  const { heartbeat, delivery } = d.traits;
  if (heartbeat === 'ping-pong') {
    if (p.heartbeatIntervalMs <= 0) return `no ping (heartbeat off): TCP keeps the socket open while the peer's kernel ACKs${seen}`;
    return (
      `ping every ${s(p.heartbeatIntervalMs)}, dropped at the first tick after ${p.maxMissed} unanswered ping(s), ` +
      `so between ${s(p.maxMissed * p.heartbeatIntervalMs)} and ${s((p.maxMissed + 1) * p.heartbeatIntervalMs)}${seen}`
    );
  }
  if (heartbeat === 'one-way') {
    const hb = p.heartbeatIntervalMs > 0 ? `comment heartbeat every ${s(p.heartbeatIntervalMs)} is one-way` : 'no comment heartbeat';
    return (
      `${hb}: its bytes land in the socket buffers (the frozen peer's kernel still ACKs) and no answer is expected, so no write fails; ` +
      `${stillOpen(d)}(a lost network would end it only at TCP's retransmission timeout, ~15 min on Linux)${seen}`
    );
  }
  switch (delivery) {
    case 'held-request':
      return (
        `no heartbeat: the held poll is answered (204) after the ${s(p.longPollTimeoutMs)} long-poll timeout into a socket nobody reads, without error; ` +
        `the idle keep-alive socket is then closed by node's keepAliveTimeout (${s(SERVER_KEEP_ALIVE_MS)}), ≈ ${s(p.longPollTimeoutMs + SERVER_KEEP_ALIVE_MS)} in all${seen}`
      );
    case 'poll':
      return `no heartbeat and no per-client state between polls: the idle keep-alive socket is closed by node's keepAliveTimeout (${s(SERVER_KEEP_ALIVE_MS)}) after the last poll${seen}`;
    case 'stream':
    case 'frames':
      return `no heartbeat: TCP keeps the socket open while the peer's kernel ACKs, and ${stillOpen(d).trimEnd()}${seen}`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const deadPeer: Scenario<DeadPeerParams> = {
  name: 'dead-peer',
  summary: 'a client frozen with SIGSTOP: how long until the server notices and frees its connection, with the heartbeat settings',
  facet: deadPeerFacet,
  flags: {
    ...HEARTBEAT_FLAGS,
    'dead-peer-cap': { help: 'seconds to wait for the server to notice a frozen peer', kind: 'number', quick: 4, full: 100, min: 0.5, max: 3600 },
  },
  params: deadPeerParams,
  // Up to a second before the freeze, then until the server's own settings say it notices, within the cap.
  plannedMs: (p, t) => {
    const expected = expectation(t, p).expectedMs;
    return Math.min(1000, Math.max(300, p.pollIntervalMs / 2)) + Math.min(p.capMs, expected ?? p.capMs) + 300;
  },
  skipReason(d) {
    return process.platform === 'win32' ? 'needs SIGSTOP, which Windows does not have' : peerGap(d, 'heartbeat');
  },
  async run(transport: TransportName, p: DeadPeerParams, ctx: RunContext): Promise<TransportResult> {
    const s = new Session(transport, heartbeatServerOptions(p), ctx);
    const d = s.descriptor;
    let peer: Peer | undefined;
    let frozen = false;
    try {
      ctx.progress(`${transport}: starting server and one peer`);
      // Forked before the server, so that their start-ups overlap.
      peer = await Peer.fork(s);
      await s.startServer({ spareLoad: false });
      await peer.subscribe(s, p.pollIntervalMs);
      await s.measure();
      // A moment of normal life first: pongs answered, a poll or two made.
      await sleep(Math.min(1000, Math.max(300, p.pollIntervalMs / 2)));
      const counters = () => s.counters(5000);
      const c0 = await counters();
      if (c0.connectionsOpen < 1) throw new Error(`the server holds no connection for the peer before the freeze (counters: ${JSON.stringify(c0)})`);

      ctx.progress(`${transport}: peer frozen (SIGSTOP); waiting up to ${p.capMs / 1000} s for the server to notice`);
      process.kill(peer.pid, 'SIGSTOP');
      frozen = true;
      const t0 = performance.now();
      const timeline: DeadPeerEvent[] = [{ tMs: 0, connectionsOpen: c0.connectionsOpen, subscribers: c0.subscribers, emptyResponses: c0.emptyResponses }];
      let detectMs: number | undefined;
      let heldPollAnsweredMs: number | undefined;
      while (!ctx.signal.aborted) {
        const elapsed = performance.now() - t0;
        if (elapsed > p.capMs) break;
        const c = await counters();
        const tMs = Math.round(performance.now() - t0);
        const last = timeline[timeline.length - 1]!;
        if (c.connectionsOpen !== last.connectionsOpen || c.subscribers !== last.subscribers || c.emptyResponses !== last.emptyResponses) {
          timeline.push({ tMs, connectionsOpen: c.connectionsOpen, subscribers: c.subscribers, emptyResponses: c.emptyResponses });
        }
        if (heldPollAnsweredMs === undefined && d.traits.delivery === 'held-request' && c.emptyResponses > c0.emptyResponses) heldPollAnsweredMs = tMs;
        if (c.connectionsOpen === 0 && c.subscribers === 0) {
          detectMs = tMs;
          break;
        }
        await sleep(Math.max(0, POLL_COUNTERS_MS - (performance.now() - t0 - elapsed)));
      }
      const { counters: end, process: proc } = await s.totals();
      const extra: DeadPeerRowExtra = {
        detected: detectMs !== undefined,
        ...(detectMs !== undefined && { detectMs }),
        capMs: p.capMs,
        ...expectation(d, p),
        mechanism: mechanism(d, p, detectMs),
        before: { connectionsOpen: c0.connectionsOpen, subscribers: c0.subscribers },
        ...(heldPollAnsweredMs !== undefined && { heldPollAnsweredMs }),
        timeline,
        resolutionMs: POLL_COUNTERS_MS,
      };
      ctx.progress(`${transport}: ${extra.mechanism}`);
      return measuredRow(transport, {
        wire: counterWire(end),
        server: { cpuMs: round(proc.cpuMs), rssMaxBytes: proc.rssMaxBytes, cpuPct: round(proc.cpuPct), connections: end.connections },
        series: s.series,
        extra: extra as unknown as Record<string, unknown>,
      });
    } finally {
      if (peer && frozen && !peer.gone) {
        // A stopped process must be continued before it can exit politely; SIGKILL would do, but be gentle.
        try {
          process.kill(peer.pid, 'SIGCONT');
        } catch {
          /* already gone */
        }
      }
      await s.close();
    }
  },
};
