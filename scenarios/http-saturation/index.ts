/**
 * `http-saturation`: how many polls per second the polling server answers.
 * autocannon, in its own process, drives `GET /poll` over C keep-alive
 * connections for D seconds, closed-loop (each connection sends its next
 * request when the previous answer arrives), in two variants: an empty poll
 * (the cursor is current: 204, what most short polls get) and a poll that
 * returns one message (the cursor one behind: 200 with one S-byte message).
 * For long polling only the immediate-answer path can be saturated: a poll
 * whose cursor is behind is answered at once; an empty one is held, so its
 * variant asks for a 0 ms hold (`timeout=0`) to measure the waiter path.
 *
 * requests/s × the poll interval = the most short-polling clients the server
 * could carry at that interval, if it did nothing else. With two cores the
 * load process usually saturates first; its CPU is measured and a run where
 * it was at ≥ 90 % of a core is flagged client-bound (the figure is then a
 * floor for the server, not its ceiling).
 */
import { CLIENT_BOUND_PCT, round } from '../../runner/collect.ts';
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { HttpSaturationExtra, SaturationLatency } from './schema.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import { profileHeaders } from '../../clients/headers.ts';
import type { ServerCounters } from '../../servers/contract.ts';
import type { RunContext, Scenario } from '../contract.ts';
import { httpSaturationFacet } from './facet.ts';
import { counterWire, measuredRow, peerGap } from '../contract.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import type { CannonResult, ServerTotals } from '../../runner/protocol.ts';
import { requestPerUpdate, type TransportDescriptor } from '../../transports/descriptor.ts';

const CANNON_CHILD = import.meta.resolve('./cannon-child.ts');

export interface HttpSaturationParams {
  /** autocannon connections. */
  connections: number;
  /** Measured seconds per variant. */
  durationSec: number;
  /** Unmeasured seconds of the same load before each variant. */
  warmupSec: number;
  /** Short-polling interval the capacity is expressed at, ms. */
  pollIntervalMs: number;
  /** Payload bytes of the message the `message` variant returns. */
  size: number;
  /** Request headers autocannon sends. */
  headers: HeaderProfile;
  /** Long-poll hold time of the server, ms (the `empty` long-poll variant asks for 0). */
  longPollTimeoutMs: number;
}

type SaturationVariantName = 'empty' | 'message';

/** One autocannon run against one kind of poll. */
interface SaturationVariant {
  name: SaturationVariantName;
  /** The request path (cursor and client id filled in). */
  path: string;
  /** The status every answer should carry. */
  expectedStatus: number;
  requestsPerSec: number;
  /** Answers received in the measured run. */
  requests: number;
  /** autocannon's latency, ms (closed loop: not corrected for coordinated omission). */
  latencyMs: SaturationLatency;
  /** Connection errors, timeouts included. */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Answers per status code. */
  statusCodes: Record<string, number>;
  /** Bytes per request at the server's sockets, each way. */
  bytesUpPerRequest: number;
  bytesDownPerRequest: number;
  server: { cpuMs: number; cpuPct: number; rssMaxBytes: number };
  client: { cpuMs: number; cpuPct: number; clientBound: boolean };
  /** Which side ran at ≥ 90 % of a core: the figure is that side's ceiling (`both`/`neither` say so too). */
  bound: 'server' | 'client' | 'both' | 'neither';
  /** requestsPerSec × poll interval (short polling only). */
  maxClientsAtPollInterval?: number;
}

/** `extra` of an http-saturation row: HttpSaturationExtra (from the primary variant) plus both variants. */
export interface HttpSaturationRowExtra extends HttpSaturationExtra {
  /** Answers per second of the primary variant. */
  requestsPerSec: number;
  /** Latency of the primary variant. */
  latencyMs: SaturationLatency;
  /** Which variant the headline figures come from. */
  primary: SaturationVariantName;
  variants: SaturationVariant[];
  /** The primary variant's requests/s × the poll interval: short-polling clients it could carry. */
  maxClientsAtPollInterval?: number;
  pollIntervalMs: number;
  connections: number;
  durationSec: number;
}

function httpSaturationParams(f: FlagReader): HttpSaturationParams {
  return {
    connections: f.num('saturation-connections'),
    durationSec: f.num('saturation-duration'),
    warmupSec: f.num('warmup'),
    pollIntervalMs: f.num('poll-interval'),
    size: f.num('size'),
    headers: f.str('headers') as HeaderProfile,
    longPollTimeoutMs: f.num('long-poll-timeout'),
  };
}

export const httpSaturation: Scenario<HttpSaturationParams> = {
  name: 'http-saturation',
  summary: 'autocannon against GET /poll (empty 204 and one-message 200): requests/s, latency, server CPU, clients it could carry',
  facet: httpSaturationFacet,
  flags: {
    'saturation-connections': { help: 'autocannon connections', kind: 'number', quick: 10, full: 50, min: 1, max: 10_000, integer: true },
    'saturation-duration': { help: 'seconds autocannon runs per variant', kind: 'number', quick: 2, full: 10, min: 0.5, max: 3600 },
  },
  params: httpSaturationParams,
  // Two variants (empty and one-message polls), each with its warm-up; the autocannon process starts once.
  plannedMs: (p) => 2 * (p.warmupSec + p.durationSec) * 1000 + 1000,
  skipReason: notSaturable,
  async run(transport: TransportName, p: HttpSaturationParams, ctx: RunContext): Promise<TransportResult> {
    const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
    const skip = notSaturable(s.descriptor);
    if (skip) throw new Error(skip);
    const poll = s.descriptor.traits.delivery === 'poll';
    try {
      ctx.progress(`${transport}: starting server and autocannon process`);
      // The autocannon process starts up while the server does; no load process is needed.
      const c = await s.startCannon(CANNON_CHILD);
      await s.startServer({ spareLoad: false });

      // One message of `size` bytes, so a cursor one behind it returns exactly that message.
      const { seq } = await s.publishDirect('x'.repeat(p.size));

      const plan: { name: SaturationVariantName; path: string; expectedStatus: number }[] = poll
        ? [
            { name: 'empty', path: `/poll?cursor=${seq}&client=cannon`, expectedStatus: 204 },
            { name: 'message', path: `/poll?cursor=${seq - 1}&client=cannon`, expectedStatus: 200 },
          ]
        : [
            { name: 'message', path: `/poll?cursor=${seq - 1}&client=cannon`, expectedStatus: 200 },
            { name: 'empty', path: `/poll?cursor=${seq}&client=cannon&timeout=0`, expectedStatus: 204 },
          ];
      const headers = profileHeaders(p.headers, 'fetch', s.baseUrl);
      const variants: SaturationVariant[] = [];
      let requestsTotal: ServerCounters | undefined;
      for (const v of plan) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        const url = s.baseUrl + v.path;
        if (p.warmupSec > 0) {
          ctx.progress(`${transport}: ${v.name} poll: ${p.warmupSec} s of warm-up`);
          await c.ask({ type: 'run', url, connections: p.connections, durationSec: p.warmupSec, headers }, p.warmupSec * 1000 + 30_000);
        }
        ctx.progress(`${transport}: ${v.name} poll (${v.expectedStatus}): autocannon, ${p.connections} connections × ${p.durationSec} s`);
        const before = await s.counters();
        s.server.on('sample', () => {});
        await s.server.ask({ type: 'measure' }, 10_000);
        const r = await c.ask({ type: 'run', url, connections: p.connections, durationSec: p.durationSec, headers }, p.durationSec * 1000 + 30_000);
        const totals = await s.server.ask({ type: 'totals' }, 10_000);
        const after = totals.counters;
        requestsTotal = after;
        variants.push(variantOf(v, r, totals, before, poll, p));
        const last = variants[variants.length - 1]!;
        ctx.progress(
          `${transport}: ${v.name}: ${last.requestsPerSec} req/s, p50 ${last.latencyMs.p50} ms, p99 ${last.latencyMs.p99} ms, server CPU ${last.server.cpuPct} %, autocannon CPU ${last.client.cpuPct} % (${last.bound === 'neither' ? 'neither side saturated' : `${last.bound}-bound`})`,
        );
      }
      const primaryName: SaturationVariantName = poll ? 'empty' : 'message';
      const primary = variants.find((v) => v.name === primaryName)!;
      const extra: HttpSaturationRowExtra = {
        requestsPerSec: primary.requestsPerSec,
        latencyMs: primary.latencyMs,
        primary: primaryName,
        variants,
        ...(primary.maxClientsAtPollInterval !== undefined && { maxClientsAtPollInterval: primary.maxClientsAtPollInterval }),
        pollIntervalMs: p.pollIntervalMs,
        connections: p.connections,
        durationSec: p.durationSec,
      };
      const end = requestsTotal!;
      return measuredRow(transport, {
        wire: counterWire(end),
        server: { cpuMs: primary.server.cpuMs, rssMaxBytes: primary.server.rssMaxBytes, cpuPct: primary.server.cpuPct, connections: end.connections },
        client: { cpuMs: primary.client.cpuMs, cpuPct: primary.client.cpuPct, processes: 1, clientBound: primary.client.clientBound },
        extra: extra as unknown as Record<string, unknown>,
      });
    } finally {
      await s.close();
    }
  },
};

/** Why a transport has no request per update to saturate, from its delivery; null when it has. */
function notSaturable(d: TransportDescriptor): string | null {
  const gap = peerGap(d, 'lab-routes');
  if (gap) return gap;
  if (d.httpServer === 'h2') return 'autocannon speaks HTTP/1.1 only: the requests of an h2 row cannot be saturated with it';
  if (requestPerUpdate(d.traits)) return null;
  return d.traits.delivery === 'stream'
    ? `${d.inWords} holds one streaming response per client; there is no request per update to saturate`
    : 'WebSocket sends frames on one upgraded connection; there are no HTTP requests to saturate';
}

/**
 * One variant's figures from autocannon's result and the server's totals. `poll`: the transport
 * answers every poll at once, so requests/s × the poll interval is a client capacity.
 */
function variantOf(
  v: { name: SaturationVariantName; path: string; expectedStatus: number },
  r: CannonResult,
  totals: ServerTotals,
  before: ServerCounters,
  poll: boolean,
  p: HttpSaturationParams,
): SaturationVariant {
  const after = totals.counters;
  const requests = r.requests;
  const durationSec = r.durationSec || p.durationSec;
  const rps = round(requests / durationSec);
  const statusCodes = r.statusCodes;
  const wrong = Object.entries(statusCodes).filter(([code, n]) => Number(code) !== v.expectedStatus && n > 0);
  if (requests > 0 && wrong.length > 0 && wrong.reduce((a, [, n]) => a + n, 0) > requests / 2) {
    throw new Error(`${v.name} poll: expected ${v.expectedStatus}, got ${JSON.stringify(statusCodes)}`);
  }
  if (requests === 0) throw new Error(`${v.name} poll: autocannon got no answer (errors ${r.errors}, timeouts ${r.timeouts})`);
  const served = Math.max(1, after.requests - before.requests);
  const proc = totals.process;
  const lat = r.latency;
  const latencyMs: HttpSaturationExtra['latencyMs'] = {};
  for (const k of ['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const) if (Number.isFinite(lat[k])) latencyMs[k] = round(lat[k]);
  const clientPct = r.cpuPct;
  return {
    name: v.name,
    path: v.path,
    expectedStatus: v.expectedStatus,
    requestsPerSec: rps,
    requests,
    latencyMs,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes,
    bytesUpPerRequest: round((after.bytesRead - before.bytesRead) / served),
    bytesDownPerRequest: round((after.bytesWritten - before.bytesWritten) / served),
    server: { cpuMs: round(proc.cpuMs), cpuPct: round(proc.cpuPct), rssMaxBytes: proc.rssMaxBytes },
    client: { cpuMs: round(r.cpuMs), cpuPct: round(clientPct), clientBound: clientPct >= CLIENT_BOUND_PCT },
    bound: boundOf(proc.cpuPct >= CLIENT_BOUND_PCT, clientPct >= CLIENT_BOUND_PCT),
    ...(poll && { maxClientsAtPollInterval: Math.round((rps * p.pollIntervalMs) / 1000) }),
  };
}

function boundOf(server: boolean, client: boolean): SaturationVariant['bound'] {
  return server && client ? 'both' : server ? 'server' : client ? 'client' : 'neither';
}
