/**
 * The message hub every server shares: it numbers messages, keeps a bounded
 * history for cursors and resume, and tells live subscribers.
 *
 * Cursor rule: a cursor is the sequence number of the last message a client
 * has seen (0 before any). `since(cursor)` returns the messages after it.
 *
 * History bound: the newest `capacity` messages are kept (default 10,000), and
 * no more than `maxChars` characters of message text (default 64 Mi: one
 * largest message; a one-byte string costs a byte a character, others two), so
 * a few huge messages cannot keep hundreds of megabytes alive.
 * A cursor older than the oldest kept message cannot be served losslessly:
 * `since` then returns what is kept and `gap: { from, to }`, the range of
 * sequence numbers that were dropped, so a client always learns about a loss —
 * polling and long polling put it in the JSON body, SSE sends an `event: gap`.
 *
 * A cursor ahead of the newest message belongs to an earlier history (the
 * server restarted): `since` answers it as a reset — everything kept, from the
 * start — and says so with `reset`, so a reconnecting client is never refused.
 */

/** One message in the hub. */
export interface HubMessage {
  /** Hub sequence number, 1-based, strictly increasing. */
  seq: number;
  /** The message text. */
  data: string;
  /** A client id when the message is for one client only (an echo), else undefined. */
  to?: string;
}

/** Sequence numbers a cursor skipped because the history no longer holds them. */
export interface Gap {
  from: number;
  to: number;
}

/** Result of a cursor read. */
export interface SinceResult {
  messages: HubMessage[];
  /** The cursor to use for the next read. */
  next: number;
  /** Set when messages after the cursor were dropped from the history. */
  gap: Gap | null;
  /** More messages are waiting after `next` (the read stopped at `max` or `maxChars`). */
  more: boolean;
  /** The cursor was ahead of the newest message (a restart): the read started again from 0. */
  reset: boolean;
}

/** Raised for a cursor the hub cannot interpret; HTTP servers answer 400 with its message. */
class CursorError extends Error {
  readonly status = 400;
}

export type Subscriber = (m: HubMessage) => void;

/** Default number of messages kept for cursors and resume. */
export const DEFAULT_HISTORY = 10_000;

/** Default characters of message text kept for cursors and resume. */
export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;

export class Hub {
  private readonly ring: (HubMessage | undefined)[];
  private seq = 0;
  /** Oldest sequence number kept. */
  private first = 1;
  /** Characters of text kept in the ring. */
  private chars = 0;
  private readonly subscribers = new Set<Subscriber>();
  /**
   * Whether a cursor ahead of the newest message means the history began again (a restart).
   * A hub fed by a backplane turns it off: there a cursor ahead only means this node has not
   * yet read what another node served, and the answer is "nothing yet", not a reset.
   */
  aheadIsReset = true;

  constructor(
    readonly capacity = DEFAULT_HISTORY,
    readonly maxChars = DEFAULT_HISTORY_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('history capacity must be a positive integer');
    if (!(maxChars > 0)) throw new RangeError('history byte bound must be positive');
    this.ring = new Array(capacity);
  }

  /** Sequence number of the newest message (0 when none). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Sequence number of the oldest message still kept. */
  get firstKept(): number {
    return this.first;
  }

  /** Live subscriber count. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a message for everyone (or for the client `to`) and tells live subscribers. */
  publish(data: string, to?: string): HubMessage {
    const m: HubMessage = { seq: this.seq + 1, data, to };
    this.keep(m);
    return m;
  }

  /**
   * Adds a message numbered elsewhere (a backplane's shared sequence) and tells live subscribers.
   * Numbers only go up: one at or below the newest is ignored, and numbers skipped on the way
   * (trimmed from the shared history before this node read them) are reported as a gap.
   */
  ingest(m: HubMessage): void {
    if (m.seq <= this.seq) return;
    // The first message a fresh node reads opens its history; earlier numbers are a gap for a reader.
    if (this.seq === 0) this.first = m.seq;
    this.keep(m);
  }

  private keep(m: HubMessage): void {
    this.seq = m.seq;
    while (m.seq - this.first >= this.capacity) this.drop();
    this.ring[m.seq % this.capacity] = m;
    this.chars += m.data.length;
    // The newest message is always kept, however large: a reader that keeps up gets it.
    while (this.chars > this.maxChars && this.first < m.seq) this.drop();
    for (const s of this.subscribers) s(m);
  }

  private drop(): void {
    const slot = this.first % this.capacity;
    this.chars -= this.ring[slot]?.data.length ?? 0;
    this.ring[slot] = undefined;
    this.first++;
  }

  /** Registers a live subscriber; returns its removal function. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /**
   * Messages after `cursor` visible to `clientId`, at most `max` of them and, past the first,
   * no more than `maxChars` characters of text (one larger message still goes alone).
   */
  since(cursor: number, clientId?: string, max = Infinity, maxChars = Infinity): SinceResult {
    if (!Number.isSafeInteger(cursor) || cursor < 0) throw new CursorError(`cursor must be a non-negative integer, got ${cursor}`);
    if (cursor > this.seq && !this.aheadIsReset) return { messages: [], next: cursor, gap: null, more: false, reset: false };
    const reset = cursor > this.seq;
    if (reset) cursor = 0;
    let from = cursor + 1;
    let gap: Gap | null = null;
    if (from < this.first && this.seq > 0) {
      gap = { from, to: this.first - 1 };
      from = this.first;
    }
    const messages: HubMessage[] = [];
    let next = gap ? gap.to : cursor;
    let chars = 0;
    for (let s = from; s <= this.seq && messages.length < max; s++) {
      const m = this.ring[s % this.capacity];
      if (m && visibleTo(m, clientId)) {
        if (messages.length > 0 && chars + m.data.length > maxChars) break;
        chars += m.data.length;
        messages.push(m);
      }
      next = s;
    }
    return { messages, next, gap, more: next < this.seq, reset };
  }
}

/** Whether a message goes to this client: broadcasts go to all, echoes only to their sender. */
export function visibleTo(m: HubMessage, clientId: string | undefined): boolean {
  return m.to === undefined || m.to === clientId;
}

/** Parses a cursor from a query string value; undefined when absent. */
export function parseCursor(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw new CursorError(`cursor must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A function of the hub's latest message, worked out once per broadcast and reused for every peer. */
export function perBroadcast<T>(f: (m: HubMessage) => T): (m: HubMessage) => T {
  let last: HubMessage | undefined;
  let value: T;
  return (m) => {
    if (m !== last) {
      last = m;
      value = f(m);
    }
    return value;
  };
}
