/**
 * What may travel on the agent channel, as zod schemas: the load process's requests and replies
 * (runner/protocol.ts LoadCalls, LoadEvents) plus the channel's own announcement and greeting.
 * Whatever arrives from Redis is parsed against these before anything acts on it, and strictly:
 * a field the protocol does not have (a module URL in `init`, say) fails the message.
 *
 * One difference from the local IPC: `init` names its load client instead of carrying it. The
 * controller sends the transport's registry name and the `--ws-client` choice; the agent finds
 * the client module in its own registry, so no module URL, and no code, crosses the wire.
 */
import { z } from 'zod';
import type { LoadCalls, LoadResult } from '../runner/protocol.ts';
import type { WsLoadClient } from '../transports/index.ts';

/** A bigint as it travels: decimal text (JSON has no bigints). */
const bigintText = z
  .string()
  .regex(/^-?\d{1,30}$/)
  .transform((s) => BigInt(s));
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ms = z
  .number()
  .min(0)
  .max(7 * 24 * 3600_000);
const seq = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);

/** The load agent's name for a transport and the client choice (`--ws-client`) the controller runs with. */
const WS_CLIENTS = ['own', 'engine', 'ws'] as const satisfies readonly WsLoadClient[];

/** `init` as it travels: the client named, not given; the controller's clock offset for the agent's correction. */
const initWire = z.strictObject({
  type: z.literal('init'),
  transport: z
    .string()
    .max(100)
    .regex(/^[a-z][a-z0-9+-]*$/),
  wsClient: z.enum(WS_CLIENTS),
  baseUrl: z.string().max(2048),
  clients: z.number().int().min(1).max(1_000_000),
  idPrefix: z
    .string()
    .max(64)
    .regex(/^[\w.-]*$/),
  pollIntervalMs: ms,
  headers: z.enum(['minimal', 'browser']),
  mode: z.enum(['subscribe', 'echo']),
  concurrency: z.number().int().min(1).max(100_000).optional(),
  ca: z
    .string()
    .max(64 * 1024)
    .optional(),
  keepSamples: z.boolean().optional(),
  streamsPerSession: z.number().int().min(1).max(10_000).optional(),
  controllerOffsetNs: bigintText.optional(),
});

/** Every request the controller may send a remote load process, and `exit`. */
export const requestSchema = z.discriminatedUnion('type', [
  initWire,
  z.strictObject({ type: z.literal('arm'), fromSeq: seq }),
  z.strictObject({
    type: z.literal('measure'),
    fromSeq: seq.optional(),
    everyMs: z.number().int().min(10).max(3_600_000).optional(),
    tailFrom: seq.optional(),
  }),
  z.strictObject({
    type: z.literal('send'),
    ratePerClient: z.number().min(0).max(1_000_000),
    size: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024),
    durationMs: ms,
    maxInflight: z.number().int().min(1).max(1_000_000).optional(),
    firstSeq: seq.optional(),
  }),
  z.strictObject({
    type: z.literal('ping-pong'),
    size: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024),
    durationMs: ms,
    inFlight: z.number().int().min(1).max(10_000).optional(),
    echoTimeoutMs: ms.optional(),
  }),
  z.strictObject({ type: z.literal('settle'), timeoutMs: ms }),
  z.strictObject({ type: z.literal('snapshot') }),
  z.strictObject({ type: z.literal('finish'), first: seq, last: seq }),
  // On the controller's clock: the agent moves it to its own (agents/agent.ts).
  z.strictObject({ type: z.literal('mark'), atNs: bigintText }),
  z.strictObject({ type: z.literal('recovery') }),
  z.strictObject({ type: z.literal('tail'), from: seq }),
  z.strictObject({ type: z.literal('exit') }),
]);

/**
 * `true` when A names exactly B's fields and its values fit B's, else `never`: the checks below
 * stop the build when a field is added to a request or reply of runner/protocol.ts and not here
 * (a strict schema would refuse it at run time), or here and not there.
 */
type Matches<A, B> = [Exclude<Fields<A>, keyof B> | Exclude<keyof B, Fields<A>>] extends [never]
  ? [keyof B] extends [never]
    ? true
    : A extends B
      ? true
      : never
  : never;
/** A schema output's named fields (an empty strict object's has a string index and none). */
type Fields<T> = string extends keyof T ? never : keyof T;
type WireOf<K extends string> = Omit<Extract<z.output<typeof requestSchema>, { type: K }>, 'type'>;
/** Every load request type once: the two checks below go over each. */
const EVERY_CALL = {
  init: true,
  arm: true,
  measure: true,
  send: true,
  'ping-pong': true,
  settle: true,
  snapshot: true,
  finish: true,
  mark: true,
  recovery: true,
  tail: true,
} as const;
void (EVERY_CALL satisfies {
  [K in keyof LoadCalls]: K extends 'init'
    ? Matches<Omit<WireOf<K>, 'wsClient' | 'controllerOffsetNs'>, Omit<LoadCalls[K]['req'], 'client' | 'clockOffsetNs'>>
    : Matches<WireOf<K>, LoadCalls[K]['req']>;
});

/** A request as the agent receives it. */
export type WireRequest = z.output<typeof requestSchema>;
/** `init` as it travels (what the controller sends). */
export type WireInit = z.input<typeof initWire>;

const loadResult = z.strictObject({
  histograms: z.strictObject({ corrected: z.string().max(1024 * 1024), uncorrected: z.string().max(1024 * 1024) }),
  delivered: count,
  received: count,
  duplicates: count,
  lost: z.number().int(),
  owed: count,
  sent: count,
  notSent: count,
  sendErrors: count,
  foreign: count,
  requests: count,
  emptyResponses: count,
  cpuMs: z.number().min(0),
  wallMs: z.number().min(0),
  cpuPct: z.number().min(0),
  errors: z.array(z.string().max(4096)).max(100),
  clientBytesRead: count,
  clientBytesWritten: count,
  samples: z.array(z.number()).max(200_000).optional(),
  clientsLosing: count.optional(),
  tail: z
    .string()
    .max(1024 * 1024)
    .optional(),
}) satisfies z.ZodType<LoadResult>;

/** HTTP/2 frames by direction and type (clients/h2-frames.ts FrameCounts): names as RFC 9113 §6 spells them, `OTHER`, `PREFACE`. */
const frameTallies = z.record(z.string().regex(/^[A-Z_]{1,20}$/), z.strictObject({ frames: count, bytes: count, blockBytes: count.optional() }));
const h2Frames = z.strictObject({ up: frameTallies, down: frameTallies });

const empty = z.strictObject({});

/** Each request type's reply, by type: what the controller accepts back. */
const replies = {
  init: z.strictObject({ clients: count }),
  arm: empty,
  measure: empty,
  send: z.strictObject({ first: seq, last: z.number().int(), sent: count, notSent: count, sendErrors: count, maxLateMs: z.number() }),
  'ping-pong': z.strictObject({ first: seq, last: z.number().int(), sent: count }),
  settle: z.strictObject({ pending: count }),
  snapshot: z.strictObject({ delivered: count, sent: count, connected: count.optional(), h2Frames: h2Frames.optional() }),
  finish: loadResult,
  mark: empty,
  recovery: z.strictObject({ ms: z.array(z.number().min(0).nullable()).max(1_000_000), kept: count }),
  tail: empty,
} satisfies { [K in keyof LoadCalls]: z.ZodType<LoadCalls[K]['reply']> };

void (EVERY_CALL satisfies { [K in keyof LoadCalls]: Matches<z.output<(typeof replies)[K]>, LoadCalls[K]['reply']> });

/** Every message an agent may send the controller: replies, progress, a failure, its greeting. */
export const replySchema = z.discriminatedUnion('type', [
  replies.init.extend({ type: z.literal('init') }),
  replies.arm.extend({ type: z.literal('arm') }),
  replies.measure.extend({ type: z.literal('measure') }),
  replies.send.extend({ type: z.literal('send') }),
  replies['ping-pong'].extend({ type: z.literal('ping-pong') }),
  replies.settle.extend({ type: z.literal('settle') }),
  replies.snapshot.extend({ type: z.literal('snapshot') }),
  replies.finish.extend({ type: z.literal('finish') }),
  replies.mark.extend({ type: z.literal('mark') }),
  replies.recovery.extend({ type: z.literal('recovery') }),
  replies.tail.extend({ type: z.literal('tail') }),
  z.strictObject({ type: z.literal('progress'), delivered: count, cpuPct: z.number().min(0), rssBytes: count, connected: count.optional() }),
  z.strictObject({ type: z.literal('fatal'), error: z.string().max(4096) }),
  // The agent's greeting: the nonce every later request of this load is authenticated with.
  z.strictObject({ type: z.literal('hello'), nonce: z.string().regex(/^[0-9a-f]{32}$/) }),
]);

/** A load announced to an agent; `at` is Redis's clock (ms) when it was sent, so an old one replayed is refused. */
export const announcementSchema = z.strictObject({
  type: z.literal('load'),
  load: z.uuid(),
  label: z
    .string()
    .max(200)
    .regex(/^[ -~]*$/),
  at: z.number().int().min(0),
});

/** An announcement as it travels. */
export type Announcement = z.output<typeof announcementSchema>;
