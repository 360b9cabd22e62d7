/**
 * `proxy-lessons`: what nginx in the path costs and does, per transport. Added to a run by
 * `--via nginx` (or named); three short measurements on fresh servers:
 *   hop           one client, one message in flight, straight to the server and through nginx:
 *                 the round trip each way, nginx's CPU and memory, bytes on both sides of the hop
 *   buffering     nginx's default `proxy_buffering on`: messages published at a steady rate to one
 *                 subscriber, and how long nginx held them back before the client saw them
 *   read timeout  a `proxy_read_timeout` shorter than the server's heartbeat: when an idle
 *                 subscription is cut, and whether a message published just after reaches the client
 */
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { collect } from '../../runner/collect.ts';
import { clientFrom } from '../../transports/load.ts';
import { heartbeatServerOptions, measuredRow, type RunContext, type Scenario } from '../contract.ts';
import type { RunPath } from '../../path/route.ts';
import type { ProxyOptions } from '../../path/nginx.ts';
import type { ProxyLessons } from './schema.ts';
import { proxyLessonsFacet } from './facet.ts';

export interface ProxyLessonsParams {
  /** Seconds of ping-pong each way for the hop's cost. */
  hopMs: number;
  /** Buffering lesson: messages per second, their size, how long published, and the wait after. */
  bufferRate: number;
  size: number;
  bufferMs: number;
  bufferWaitMs: number;
  /** Read-timeout lesson: nginx's timeout and the server's heartbeat (longer, on purpose). */
  readTimeoutMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
}

/** How long the read-timeout lesson watches for a cut, and for the message after it. */
function watchMs(p: ProxyLessonsParams): number {
  return 2 * p.readTimeoutMs + 1500;
}
const AFTER_CUT_WAIT_MS = 4000;
const fmtSeconds = (ms: number) => `${ms / 1000} s`;

/** A copy of the run's path with nginx's options changed for one lesson (or nginx left out). */
function withProxy(path: RunPath | undefined, change: Partial<ProxyOptions> | 'direct'): RunPath {
  const { via, ...rest } = path ?? {};
  if (change === 'direct' || !via) return rest;
  return { ...rest, via: { ...via, proxy: { ...via.proxy, ...change } } };
}

/** The hop: ping-pong straight to the server, then through nginx. */
async function hop(transport: TransportName, p: ProxyLessonsParams, ctx: RunContext): Promise<ProxyLessons['hop']> {
  const rows: TransportResult[] = [];
  for (const path of [withProxy(ctx.path, 'direct'), withProxy(ctx.path, {})]) {
    const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, { ...ctx, path });
    try {
      await s.startServer();
      await s.startLoad({ clients: 1, processes: 1, pollIntervalMs: p.pollIntervalMs, headers: p.headers, mode: 'echo' });
      await s.measure(1);
      const done = await s.pingPong({ size: p.size, durationMs: p.hopMs });
      rows.push(await collect(s, transport, { first: 1, last: done.last, size: p.size, seconds: p.hopMs / 1000, upPayload: true }));
    } finally {
      await s.close();
    }
  }
  const [direct, proxied] = rows;
  if (!direct?.latencyMs || !proxied?.latencyMs || !proxied.messages) return undefined;
  const proxy = proxied.extra?.['proxy'] as { cpuUsPerMessage?: number; rssBytes?: number; clientBytesPerMessage?: number } | undefined;
  return {
    directP50Ms: direct.latencyMs.p50,
    directP99Ms: direct.latencyMs.p99,
    proxiedP50Ms: proxied.latencyMs.p50,
    proxiedP99Ms: proxied.latencyMs.p99,
    roundTrips: proxied.messages.delivered,
    ...(proxy?.cpuUsPerMessage !== undefined && { proxyCpuUsPerMessage: proxy.cpuUsPerMessage }),
    ...(proxy?.rssBytes !== undefined && { proxyRssBytes: proxy.rssBytes }),
    ...(proxy?.clientBytesPerMessage !== undefined && { clientSideBytesPerMessage: proxy.clientBytesPerMessage }),
    ...(proxied.wire?.bytesPerMessage !== undefined && { serverSideBytesPerMessage: proxied.wire.bytesPerMessage }),
  };
}

/** Buffering on, then off as the lab runs nginx: one subscriber, a steady publish, the delivery latency each way. */
async function buffering(transport: TransportName, p: ProxyLessonsParams, ctx: RunContext): Promise<ProxyLessons['buffering']> {
  const on = await steadyPublish(transport, p, ctx, true);
  const off = await steadyPublish(transport, p, ctx, false);
  if (!on) return undefined;
  return {
    ...on,
    ...(off && { unbufferedDelivered: off.delivered }),
    ...(off?.p50Ms !== undefined && { unbufferedP50Ms: off.p50Ms }),
    ...(off?.maxMs !== undefined && { unbufferedMaxMs: off.maxMs }),
  };
}

/** One subscriber through nginx with buffering on or off, messages published at a steady rate. */
async function steadyPublish(transport: TransportName, p: ProxyLessonsParams, ctx: RunContext, buffered: boolean): Promise<ProxyLessons['buffering']> {
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, { ...ctx, path: withProxy(ctx.path, { buffering: buffered }) });
  try {
    await s.startServer();
    await s.startLoad({ clients: 1, processes: 1, pollIntervalMs: p.pollIntervalMs, headers: p.headers });
    await s.measure(1);
    const pub = await s.publish({ rate: p.bufferRate, size: p.size, durationMs: p.bufferMs });
    const published = pub.last - pub.first + 1;
    await s.drain(published, p.bufferWaitMs, ctx.signal);
    const row = await collect(s, transport, { first: pub.first, last: pub.last, size: p.size, seconds: p.bufferMs / 1000, upPayload: false });
    const delivered = row.messages?.delivered ?? 0;
    return {
      published,
      ratePerSec: p.bufferRate,
      sizeBytes: p.size,
      waitedMs: p.bufferWaitMs,
      delivered,
      ...(delivered > 0 && row.latencyMs && { p50Ms: row.latencyMs.p50, maxMs: row.latencyMs.max }),
    };
  } finally {
    await s.close();
  }
}

/** A read timeout shorter than the heartbeat: one idle client, watched for cuts; then one message. */
async function readTimeout(transport: TransportName, p: ProxyLessonsParams, ctx: RunContext): Promise<ProxyLessons['readTimeout']> {
  const options = heartbeatServerOptions({ heartbeatIntervalMs: p.heartbeatMs, maxMissed: 2, longPollTimeoutMs: p.heartbeatMs });
  const s = new Session(transport, options, { ...ctx, path: withProxy(ctx.path, { readTimeoutMs: p.readTimeoutMs }) });
  const cuts: { at: number; message: string; requests: number }[] = [];
  const marker = `after-the-cut-${Date.now()}`;
  const prime = `before-the-cut-${Date.now()}`;
  let arrivedAt: number | undefined;
  let primedAt: number | undefined;
  const watched = watchMs(p);
  try {
    await s.startServer();
    // One idle client in this process: nothing to load, and its errors are the events watched.
    const client = (await clientFrom(s.loadClient))({
      baseUrl: s.baseUrl,
      clientId: 'idle',
      pollIntervalMs: p.pollIntervalMs,
      headers: p.headers,
      ...(s.ca !== undefined && { ca: s.ca }),
      onMessage: (data) => {
        if (data === marker && arrivedAt === undefined) arrivedAt = performance.now();
        if (data === prime && primedAt === undefined) primedAt = performance.now();
      },
      onError: (e) => cuts.push({ at: performance.now(), message: e.message, requests: client.requests }),
    });
    // Straight to the server: publishing must not depend on the hop under test.
    const publish = (text: string) => s.publishDirect(text);
    await client.start();
    try {
      // A subscriber that has had a message, as one in use has: SSE then holds an event id, a poller a cursor.
      await publish(prime);
      const primeBy = performance.now() + p.pollIntervalMs + 2000;
      while (primedAt === undefined && performance.now() < primeBy && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 10));
      const t0 = primedAt ?? performance.now();
      const end = t0 + watched;
      while (cuts.length === 0 && performance.now() < end && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 20));
      const first = cuts[0];
      let publishedAt: number | undefined;
      if (first) {
        publishedAt = performance.now();
        await publish(marker);
        const until = performance.now() + AFTER_CUT_WAIT_MS;
        while (arrivedAt === undefined && performance.now() < until && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 20));
      }
      const delivered = publishedAt !== undefined && arrivedAt !== undefined;
      // A request or connection made after the cut: the client came back by itself.
      const reconnected = first !== undefined && client.requests > first.requests;
      return {
        readTimeoutMs: p.readTimeoutMs,
        heartbeatMs: p.heartbeatMs,
        cutAfterMs: first ? Math.round(first.at - t0) : null,
        cuts: cuts.length,
        watchedMs: Math.round(performance.now() - t0),
        ...(first && { cutError: first.message.slice(0, 160) }),
        messageAfterCut: !first ? 'not tried' : delivered ? 'delivered' : 'lost',
        ...(first && { reconnected }),
        ...(delivered && { deliveredAfterMs: Math.round(arrivedAt! - publishedAt!) }),
        clientAction: !first
          ? `not cut within ${Math.round(watched / 1000)} s: every request ends well within the timeout`
          : delivered
            ? 'reconnected on its own and resumed: the message published after the cut arrived'
            : reconnected
              ? `reconnected on its own but did not get the message published after the cut within ${fmtSeconds(AFTER_CUT_WAIT_MS)}`
              : 'did not reconnect: the subscription stayed closed and the message published after the cut was lost',
      };
    } finally {
      await client.stop().catch(() => {});
    }
  } finally {
    await s.close();
  }
}

export const proxyLessons: Scenario<ProxyLessonsParams> = {
  name: 'proxy-lessons',
  summary: 'with --via nginx: the hop’s cost per transport, how long proxy_buffering on holds messages back, and what a short proxy_read_timeout cuts',
  facet: proxyLessonsFacet,
  byNameOnly: true,
  needsProxy: true,
  flags: {
    'lesson-read-timeout': {
      help: 'proxy-lessons: nginx proxy_read_timeout of the cut lesson, ms',
      kind: 'number',
      quick: 1000,
      min: 100,
      max: 60_000,
      integer: true,
    },
    'lesson-heartbeat': {
      help: 'proxy-lessons: server heartbeat and long-poll hold of the cut lesson, ms',
      kind: 'number',
      quick: 4000,
      min: 200,
      max: 600_000,
      integer: true,
    },
    'lesson-rate': { help: 'proxy-lessons: msg/s published in the buffering lesson', kind: 'number', quick: 20, min: 1, max: 10_000 },
  },
  params: (f: FlagReader): ProxyLessonsParams => ({
    hopMs: 1000,
    bufferRate: f.num('lesson-rate'),
    size: f.num('size'),
    bufferMs: 2000,
    bufferWaitMs: 3000,
    readTimeoutMs: f.num('lesson-read-timeout'),
    heartbeatMs: f.num('lesson-heartbeat'),
    ...httpLoadFlags(f),
  }),
  plannedMs: (p) => 2 * p.hopMs + 3000 + p.bufferMs + p.bufferWaitMs + 1500 + watchMs(p) + AFTER_CUT_WAIT_MS + 1500,
  async run(transport: TransportName, p: ProxyLessonsParams, ctx: RunContext): Promise<TransportResult> {
    ctx.progress(`${transport}: the hop, direct and through nginx`);
    const h = await hop(transport, p, ctx);
    ctx.progress(`${transport}: proxy_buffering on`);
    const b = await buffering(transport, p, ctx);
    ctx.progress(`${transport}: proxy_read_timeout ${p.readTimeoutMs} ms against a ${p.heartbeatMs} ms heartbeat`);
    const t = await readTimeout(transport, p, ctx);
    const extra: ProxyLessons = { ...(h && { hop: h }), ...(b && { buffering: b }), ...(t && { readTimeout: t }) };
    return measuredRow(transport, { extra });
  },
};
