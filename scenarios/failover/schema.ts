/** What the failover scenario writes in `extra`: per failover run, recovery, loss counted by sequence number, the storm's cost, a timeline. */
import { z } from 'zod';
import { listOf, opt, readWith } from '../read.ts';

/** One point of a run's timeline, every half second from the start of publishing. */
const TimelinePointSchema = z.object({
  /** Seconds since publishing began. */
  t: z.number(),
  /** Clients whose latest word was a working connection (opened, or a poll answered), not an error. */
  connected: z.number(),
  /** Owed messages delivered per second over the half second before `t`. */
  deliveredPerSec: z.number(),
  /** Server CPU, % of one core, and resident memory, bytes (absent while no server was up). */
  serverCpuPct: opt(z.number()),
  serverRssBytes: opt(z.number()),
});
export type TimelinePoint = z.infer<typeof TimelinePointSchema>;

/** Time until a share of the clients had a working connection again, from the moment the server began to go, ms. */
const RecoverySchema = z.object({
  /** null: fewer than that share came back within the run. */
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  p100Ms: z.number().nullable(),
  /** Clients back, of all. */
  back: z.number(),
  of: z.number(),
  /** Clients whose connection never failed or ended (another node kept them), counted as back at 0 ms. */
  kept: opt(z.number()),
});

/** One failover run: a mode at a client count. */
const FailoverRunSchema = z.object({
  /** `crash` (SIGKILL, started again after `downMs`) or `graceful` (goodbye, started again at once). */
  mode: z.string(),
  clients: z.number(),
  /** ms between the kill and the start of the new server process (crash; 0 for graceful). */
  downMs: z.number(),
  /** Seconds since publishing began: when the server began to go, and when its successor listened. */
  downAtS: z.number(),
  upAtS: z.number(),
  /** Graceful: the server had not finished its goodbye (every connection closed) within 15 s and was ended anyway. */
  goodbyeCut: opt(z.boolean()),
  /** Messages published (sequence numbers 1..published, with no hole), and messages owed: published × clients. */
  published: z.number(),
  /** The first message the new server published (the ones before it came from the server that went). */
  firstAfter: opt(z.number()),
  owed: z.number(),
  /** Owed messages that arrived, owed ones that never did, and arrivals of a number already seen: each counted by sequence number per client. */
  delivered: z.number(),
  lost: z.number(),
  duplicates: z.number(),
  /** Clients that missed at least one message. */
  clientsLosing: z.number(),
  /** Gaps the server announced (a cursor older than its history). */
  recovery: RecoverySchema,
  /** The kernel's ListenOverflows and ListenDrops over the run (host-wide counters: other processes add to them). */
  listenOverflows: opt(z.number()),
  listenDrops: opt(z.number()),
  /** The new server's peak CPU (% of one core) and peak RSS in the 10 s after it listened. */
  stormPeakCpuPct: opt(z.number()),
  stormPeakRssBytes: opt(z.number()),
  /** Delivery latency (from the intended send time) of the messages published in the 10 s after the server was back: p50, p99, max, ms. */
  afterP50Ms: opt(z.number()),
  afterP99Ms: opt(z.number()),
  afterMaxMs: opt(z.number()),
  afterCount: opt(z.number()),
  /** The first errors the clients reported (they show how each connection ended). */
  clientErrors: opt(z.array(z.string())),
  timeline: listOf(TimelinePointSchema),
});
export type FailoverRun = z.infer<typeof FailoverRunSchema>;

/** `extra` of a failover row. */
const FailoverExtraSchema = z.object({
  /** How the row's clients reconnect: `eventsource` (SSE), `poll` (short and long polling) or a WebSocket policy. */
  reconnect: z.string(),
  /** Whether the row's clients resume from where they were (SSE's Last-Event-ID, a poll cursor, WebSocket `?cursor=`). */
  resumes: z.boolean(),
  /** A clustered row (`sse-n2`): the single-process row it runs as nodes behind the balancer, on the Redis backplane. */
  clusterOf: opt(z.string()),
  runs: listOf(FailoverRunSchema),
});
export type FailoverExtra = z.infer<typeof FailoverExtraSchema>;

/** A row's failover figures, or undefined when its `extra` does not parse. */
export function readFailover(extra: unknown): FailoverExtra | undefined {
  const x = readWith(FailoverExtraSchema, extra);
  return x && x.runs.length > 0 ? x : undefined;
}
