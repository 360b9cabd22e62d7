/**
 * The link model, with no sockets: bytes handed to one direction of one connection at a time
 * come out as pieces, each with the time it reaches the far end. The relay
 * (runner/link-child.ts) only moves bytes at those times, so the model is tested from memory.
 *
 * Per connection and direction:
 * - propagation: RTT/2;
 * - bandwidth: the bytes are serialised one after another at the link's rate (a token bucket one
 *   segment deep), so a burst waits behind itself as in a router's buffer; the relay stops
 *   reading from the sender while more than `queueBytes` wait, and the sender's own socket
 *   buffer then fills as a real sender's does behind a full link;
 * - jitter: an extra delay drawn per chunk, never letting a byte overtake one sent before it;
 * - loss as TCP shows it to the application: a lost segment arrives one retransmission timeout
 *   late, and every byte behind it waits for it (in-order delivery: head-of-line blocking);
 * - the handshake: the kernel accepted the connection before the relay saw it, so nothing
 *   leaves before one RTT has passed since then (SYN, SYN-ACK), and a client's first bytes
 *   arrive 1.5 RTT after it connected, as on a real path.
 */
/** One emulated link, per connection and per direction (down: server → client, up: client → server). */
export interface LinkParams {
  /** Round-trip propagation delay, ms (RTT/2 each way). */
  rttMs: number;
  /** Bandwidth server → client, bits/s; 0: unlimited. */
  downBps: number;
  /** Bandwidth client → server, bits/s; 0: unlimited. */
  upBps: number;
  /** Extra one-way delay drawn uniformly from 0 to this, ms, per chunk (never reordering bytes). */
  jitterMs: number;
  /** Probability that a segment-sized chunk is lost once and waits a retransmission timeout (0–1). */
  loss: number;
}

/** Bytes of one TCP segment on Ethernet with timestamps (1500 − 20 − 20 − 12): the unit loss is drawn for. */
export const SEGMENT_BYTES = 1448;

/** Linux's least retransmission timeout, ms (TCP_RTO_MIN): an RTO is at least this above the RTT. */
export const MIN_RTO_MS = 200;

/** The least the relay holds per direction before it stops reading from the sender (the router buffer), bytes. */
export const QUEUE_BYTES = 64 * 1024;

/**
 * The queue also holds this much of the link's time, ms: a fast link drains 64 KiB in a few
 * milliseconds, less than the relay's timers can be trusted to refill it in, and would idle.
 */
export const QUEUE_MS = 20;

/** Pieces whose arrivals lie closer than this, ms, are delivered as one write, at the later one's time. */
const MERGE_MS = 1;

/** The retransmission timeout of a link: RTT + 200 ms (Linux's srtt + 4·rttvar with a steady RTT, floored at TCP_RTO_MIN). */
export function rtoMs(p: LinkParams): number {
  return p.rttMs + MIN_RTO_MS;
}

/** A seeded generator of numbers in [0, 1): the same seed gives the same link (the clients' reconnect delays use it too). */
export { seededRandom } from '../clients/reconnect.ts';

/** Where a chunk's bytes go: `end` bytes of it (from the chunk's start) have arrived by `at`. */
export interface Piece {
  end: number;
  at: number;
}

/** One direction of one connection. Times are ms on one clock (performance.now in the relay). */
export class LinkDirection {
  /** When the link finishes serialising what it has been given. */
  private freeAt: number;
  /** The latest arrival handed out: no later byte arrives before it. */
  private lastAt = 0;
  /** Segments lost (and delayed by an RTO) so far. */
  lost = 0;
  /** Chunks admitted so far. */
  chunks = 0;
  private readonly msPerByte: number;
  private readonly oneWayMs: number;
  /** Bytes this direction's queue holds: 64 KiB, or 20 ms at its rate when that is more. */
  readonly queueBytes: number;
  private readonly rto: number;

  /**
   * `bps`: this direction's bandwidth (0: unlimited); `notBefore`: when the first byte may leave
   * (the connection's acceptance plus one RTT).
   */
  constructor(
    private readonly p: LinkParams,
    bps: number,
    private readonly notBefore: number,
    private readonly random: () => number,
  ) {
    this.msPerByte = bps > 0 ? 8000 / bps : 0;
    this.queueBytes = Math.max(QUEUE_BYTES, Math.round((bps / 8000) * QUEUE_MS));
    this.oneWayMs = p.rttMs / 2;
    this.rto = rtoMs(p);
    this.freeAt = notBefore;
  }

  /** Bytes given and not yet serialised at `now`: the queue in front of the link. */
  backlog(now: number): number {
    if (this.msPerByte === 0) return 0;
    return Math.max(0, this.freeAt - Math.max(now, this.notBefore)) / this.msPerByte;
  }

  /** When no more than `bytes` wait in front of the link, ms (when the relay may read from the sender again). */
  queueBelowAt(bytes: number): number {
    return this.freeAt - bytes * this.msPerByte;
  }

  /** When the sender's end of stream (its FIN), given at `now`, arrives: behind every byte before it. */
  finish(now: number): number {
    this.lastAt = Math.max(this.lastAt, Math.max(now, this.freeAt) + this.oneWayMs);
    return this.lastAt;
  }

  /** Takes `bytes` handed over at `now` and says when each part of them arrives, in order. */
  admit(now: number, bytes: number): Piece[] {
    this.chunks++;
    const jitter = this.p.jitterMs > 0 ? this.random() * this.p.jitterMs : 0;
    const pieces: Piece[] = [];
    // When the last piece's first byte arrives: a piece gathers the bytes arriving within MERGE_MS of it.
    let pieceFrom = Number.NEGATIVE_INFINITY;
    let depart = Math.max(now, this.freeAt);
    // One pass per segment only when something differs per segment; otherwise the chunk is one piece.
    const perSegment = this.p.loss > 0 || this.msPerByte > 0;
    const step = perSegment ? SEGMENT_BYTES : bytes;
    for (let off = 0; off < bytes; off += step) {
      const n = Math.min(step, bytes - off);
      depart += n * this.msPerByte;
      let at = depart + this.oneWayMs + jitter;
      if (this.p.loss > 0 && this.random() < this.p.loss) {
        this.lost++;
        at += this.rto;
      }
      // TCP delivers in order: nothing overtakes a byte sent before it (a lost one included).
      at = Math.max(at, this.lastAt);
      this.lastAt = at;
      const last = pieces[pieces.length - 1];
      if (last && at - pieceFrom < MERGE_MS) {
        last.end = off + n;
        last.at = at;
      } else {
        pieces.push({ end: off + n, at });
        pieceFrom = at;
      }
    }
    this.freeAt = Math.max(this.freeAt, depart);
    return pieces;
  }
}
