/**
 * The agent channel: Redis Streams a run's controller and its agents talk over. An agent
 * listens on `lab:agent:<name>`; the controller announces a load there, then sends requests on
 * `lab:load:<id>:in` and reads replies and events on `lab:load:<id>:out`.
 *
 * Each entry is one message as JSON (bigints as decimal text) in field `m`, its position in the
 * stream in `n` (1, 2, … per load stream, one writer each), and, when the two sides share a
 * secret, `mac`: HMAC-SHA256 over a context, the stream's name, the position and the text. The
 * context of a load's requests is the nonce its agent greeted the controller with, so neither an
 * entry copied to another stream or position nor a whole conversation replayed to an agent
 * serving a new load verifies. Nothing here builds objects of the host from what it reads
 * (unlike `v8.deserialize`, whose safety Node does not promise on untrusted input).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import type { RedisClient } from '../cluster/redis.ts';

/** The stream an agent listens on for new loads. */
export const agentStream = (name: string) => `lab:agent:${name}`;
/** Requests to one remote load process. */
export const inStream = (load: string) => `lab:load:${load}:in`;
/** Replies and events from one remote load process. */
export const outStream = (load: string) => `lab:load:${load}:out`;

/** The key messages are authenticated with, or undefined when they are not (`--insecure`). */
export type ChannelKey = Buffer | undefined;

/** The key of a shared secret (undefined or empty: none). */
export function channelKey(secret: string | undefined): ChannelKey {
  return secret ? Buffer.from(secret, 'utf8') : undefined;
}

/** A message as JSON text; bigints as decimal strings, which the schemas turn back. */
export function encode(m: object): string {
  return JSON.stringify(m, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function mac(key: Buffer, context: string, stream: string, n: number, text: string): Buffer {
  return createHmac('sha256', key).update(`${context}\n${stream}\n${n}\n`).update(text).digest();
}

/** The writing end of one stream: numbers its entries from 1 and authenticates each with the key. */
export class StreamWriter {
  private n = 0;
  /** What the MAC binds besides stream and position: the agent's nonce, once the controller has it. */
  context = '';

  constructor(
    private readonly client: RedisClient,
    readonly stream: string,
    private readonly key: ChannelKey,
  ) {}

  /** Appends one message. */
  async put(m: object): Promise<void> {
    const n = ++this.n;
    const text = encode(m);
    const fields: Record<string, string> = { m: text, n: String(n) };
    if (this.key) fields['mac'] = mac(this.key, this.context, this.stream, n, text).toString('hex');
    await this.client.xAdd(this.stream, '*', fields);
  }
}

/** One stream entry as read: Redis's id and its fields, unchecked. */
export interface Entry {
  id: string;
  fields: Record<string, string>;
}

/** What an entry is checked against. */
export interface EntryCheck<T> {
  stream: string;
  key: ChannelKey;
  /** Bound into the MAC (see StreamWriter.context). */
  context: string;
  schema: z.ZodType<T>;
  /** Entries larger than this (all fields) are refused unread. */
  maxBytes: number;
  /** The position the next entry must have; undefined: not checked (announcements carry a time instead). */
  expected?: number;
}

/** An entry opened: its message, or why it was refused. */
export type Opened<T> = { ok: true; message: T } | { ok: false; why: string };

/** A value's text for a log line: at most 80 characters, control characters escaped. */
const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/**
 * Checks one entry before anything acts on it, cheapest first: its size, its fields, the MAC
 * (when keyed), its position, then JSON and the schema.
 */
export function openEntry<T>(e: Entry, c: EntryCheck<T>): Opened<T> {
  let size = 0;
  for (const [k, v] of Object.entries(e.fields)) size += k.length + v.length;
  if (size > c.maxBytes) return { ok: false, why: `oversized (${size} bytes, at most ${c.maxBytes})` };
  const extra = Object.keys(e.fields).filter((k) => k !== 'm' && k !== 'n' && k !== 'mac');
  const text = e.fields['m'];
  const nText = e.fields['n'];
  if (text === undefined || nText === undefined || extra.length) return { ok: false, why: `malformed (fields ${quote(Object.keys(e.fields).join(','))})` };
  if (!/^\d{1,15}$/.test(nText)) return { ok: false, why: `malformed (position ${quote(nText)})` };
  const n = Number(nText);
  if (c.key) {
    const given = e.fields['mac'];
    if (given === undefined) return { ok: false, why: 'not authenticated (no MAC; the agent has a secret)' };
    const want = mac(c.key, c.context, c.stream, n, text);
    const got = /^[0-9a-f]{64}$/.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, why: 'wrong MAC (not the controller, or another secret)' };
  }
  if (c.expected !== undefined && n !== c.expected)
    return { ok: false, why: n < c.expected ? `replayed (position ${n} was already served)` : `out of order (position ${n}, expected ${c.expected})` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: `malformed (not JSON: ${quote(text)})` };
  }
  const r = c.schema.safeParse(value);
  if (!r.success) {
    const type = (value as { type?: unknown } | null)?.type;
    const issues = r.error.issues.slice(0, 3).map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    return { ok: false, why: `invalid ${typeof type === 'string' ? quote(type) : 'message'}: ${issues.join('; ')}` };
  }
  return { ok: true, message: r.data };
}

/**
 * Calls `fn` for every entry appended to `stream` after `from`, in order, until `stop()` says
 * so; `client` must be a connection of its own (the read blocks it).
 */
export async function follow(client: RedisClient, stream: string, from: string, fn: (e: Entry) => void | Promise<void>, stop: () => boolean): Promise<void> {
  let last = from;
  while (!stop()) {
    let r: unknown;
    try {
      // One entry at a time: a hostile one is held in memory alone, and refused before the next is read.
      r = await client.xRead({ key: stream, id: last }, { BLOCK: 1000, COUNT: 1 });
    } catch (e) {
      if (stop()) return;
      throw e;
    }
    if (!Array.isArray(r)) continue;
    for (const s of r as { messages: { id: string; message: Record<string, string> }[] }[]) {
      for (const e of s.messages) {
        last = e.id;
        await fn({ id: e.id, fields: e.message });
      }
    }
  }
}

/** Redis's clock, ms: what announcements are dated with, so that controller and agent need no common clock of their own. */
export async function redisNowMs(client: RedisClient): Promise<number> {
  const [sec, usec] = (await client.sendCommand(['TIME'])) as [string, string];
  return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
}

/** A Redis URL fit for a log line: its user and password left out. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1…@');
}
