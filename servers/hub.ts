/**
 * The message hub every server shares: it numbers messages, keeps a bounded
 * history for cursors and resume, and tells live subscribers.
 *
 * Cursor rule: a cursor is the sequence number of the last message a client
 * has seen (0 before any). `since(cursor)` returns the messages after it.
 *
 * History bound: the newest `capacity` messages are kept (default 10,000).
 * A cursor older than the oldest kept message cannot be served losslessly:
 * `since` then returns what is kept and `gap: { from, to }`, the range of
 * sequence numbers that were dropped, so a client always learns about a loss —
 * polling and long polling put it in the JSON body, SSE sends an `event: gap`.
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
  /** More messages are waiting after `next` (the read stopped at `max`). */
  more: boolean;
}

/** Raised for a cursor the hub cannot interpret; HTTP servers answer 400 with its message. */
export class CursorError extends Error {
  readonly status = 400;
}

export type Subscriber = (m: HubMessage) => void;

/** Default number of messages kept for cursors and resume. */
export const DEFAULT_HISTORY = 10_000;

export class Hub {
  private readonly ring: (HubMessage | undefined)[];
  private seq = 0;
  private readonly subscribers = new Set<Subscriber>();

  constructor(readonly capacity = DEFAULT_HISTORY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('history capacity must be a positive integer');
    this.ring = new Array(capacity);
  }

  /** Sequence number of the newest message (0 when none). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Sequence number of the oldest message still kept. */
  get firstKept(): number {
    return Math.max(1, this.seq - this.capacity + 1);
  }

  /** Live subscriber count. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a message for everyone (or for the client `to`) and tells live subscribers. */
  publish(data: string, to?: string): HubMessage {
    const m: HubMessage = { seq: ++this.seq, data, to };
    this.ring[m.seq % this.capacity] = m;
    for (const s of this.subscribers) s(m);
    return m;
  }

  /** Registers a live subscriber; returns its removal function. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Messages after `cursor` visible to `clientId`, at most `max` of them. */
  since(cursor: number, clientId?: string, max = Infinity): SinceResult {
    if (!Number.isSafeInteger(cursor) || cursor < 0) throw new CursorError(`cursor must be a non-negative integer, got ${cursor}`);
    if (cursor > this.seq) throw new CursorError(`cursor ${cursor} is ahead of the newest message (${this.seq})`);
    let from = cursor + 1;
    let gap: Gap | null = null;
    if (from < this.firstKept && this.seq > 0) {
      gap = { from, to: this.firstKept - 1 };
      from = this.firstKept;
    }
    const messages: HubMessage[] = [];
    let next = gap ? gap.to : cursor;
    for (let s = from; s <= this.seq && messages.length < max; s++) {
      const m = this.ring[s % this.capacity];
      next = s;
      if (m && visibleTo(m, clientId)) messages.push(m);
    }
    return { messages, next, gap, more: next < this.seq };
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
