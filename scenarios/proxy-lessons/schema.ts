/** What the proxy-lessons scenario writes in `extra`: the hop's cost, the buffering hold and the read-timeout cut. */
import { z } from 'zod';
import { opt, readWith } from '../read.ts';

/** Round trips of one client, one message in flight, without and with nginx. */
const HopSchema = z.object({
  /** Round-trip p50 and p99 straight to the server, ms. */
  directP50Ms: z.number(),
  directP99Ms: z.number(),
  /** The same through nginx, ms. */
  proxiedP50Ms: z.number(),
  proxiedP99Ms: z.number(),
  /** Round trips measured through nginx. */
  roundTrips: z.number(),
  /** nginx's CPU (master and workers) per round trip, µs. */
  proxyCpuUsPerMessage: opt(z.number()),
  /** nginx's resident memory at the end (master and workers), bytes. */
  proxyRssBytes: opt(z.number()),
  /** Bytes per round trip at the client's sockets (client ↔ nginx) and at the server's (nginx ↔ server). */
  clientSideBytesPerMessage: opt(z.number()),
  serverSideBytesPerMessage: opt(z.number()),
});

/** With nginx's default `proxy_buffering on`: how long published messages were held back. */
const BufferingSchema = z.object({
  /** Messages published, and at what rate and size. */
  published: z.number(),
  ratePerSec: z.number(),
  sizeBytes: z.number(),
  /** How long the scenario waited for them after the last one, ms. */
  waitedMs: z.number(),
  /** Delivered within the run, and their delivery latency, ms. */
  delivered: z.number(),
  p50Ms: opt(z.number()),
  maxMs: opt(z.number()),
  /** The same load through nginx with buffering off (the lab's config): delivered, p50 and max, ms. */
  unbufferedDelivered: opt(z.number()),
  unbufferedP50Ms: opt(z.number()),
  unbufferedMaxMs: opt(z.number()),
});

/** With `proxy_read_timeout` shorter than the heartbeat: when an idle subscription was cut and what the client did. */
const ReadTimeoutSchema = z.object({
  readTimeoutMs: z.number(),
  /** The server's heartbeat (WebSocket ping, SSE comment) and long-poll hold, ms. */
  heartbeatMs: z.number(),
  /** From the last message the client received (one published to prime it) to the first cut it saw, ms; null when not cut within `watchedMs`. */
  cutAfterMs: z.number().nullable(),
  /** Cuts seen while watched. */
  cuts: z.number(),
  watchedMs: z.number(),
  /** What the client's error said at the first cut. */
  cutError: opt(z.string()),
  /** Whether the client made a new request or connection after the cut (reconnected or retried). */
  reconnected: opt(z.boolean()),
  /** Whether a message published right after the cut reached the client. */
  messageAfterCut: z.enum(['delivered', 'lost', 'not tried']),
  /** Time from that publish to its delivery, ms. */
  deliveredAfterMs: opt(z.number()),
  /** The client's behaviour in words: reconnected and resumed, retried, or did not reconnect. */
  clientAction: z.string(),
});

/** `extra` of a proxy-lessons row. */
const ProxyLessonsSchema = z.object({
  hop: opt(HopSchema),
  buffering: opt(BufferingSchema),
  readTimeout: opt(ReadTimeoutSchema),
});
/** `extra` of a proxy-lessons row. */
export type ProxyLessons = z.infer<typeof ProxyLessonsSchema>;

/** The lessons of a row, or undefined when it has none. */
export function readProxyLessons(extra: unknown): ProxyLessons | undefined {
  const x = readWith(ProxyLessonsSchema, extra);
  return x && (x.hop || x.buffering || x.readTimeout) ? x : undefined;
}
