/**
 * The measurement payload. Every message the lab sends starts with its sequence
 * number, its intended send time and how late it actually left, all from
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC, comparable across processes on
 * one host), so one-way latency and loss are measured, not guessed.
 *
 * Layout (ASCII, safe in JSON strings, SSE `data:` lines and WebSocket text):
 *   `<seq base36>.<intended ns base36>.<late ns base36>.` then `x` up to the size.
 */

/**
 * Decoded measurement fields of a payload, as numbers: monotonic nanoseconds fit a double exactly
 * for the first 104 days after boot and to a few nanoseconds for years after, far below what a
 * latency histogram resolves, and numbers spare the load's hot path a BigInt allocation per field.
 */
export interface Stamp {
  /** Sequence number given by the sender. */
  seq: number;
  /** When the schedule meant it to be sent (ns, monotonic). */
  intendedNs: number;
  /** How much later than that it actually left (ns). */
  lateNs: number;
}

/** Builds a payload of exactly `size` bytes (or the stamp's own length when larger). */
export function encodePayload(seq: number, intendedNs: bigint, actualNs: bigint, size: number): string {
  const late = actualNs > intendedNs ? actualNs - intendedNs : 0n;
  const head = `${seq.toString(36)}.${intendedNs.toString(36)}.${late.toString(36)}.`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/** The longest base-36 field read: 13 digits pass 2^64, more than any monotonic clock gives. */
const MAX_DIGITS = 13;

/** The base-36 number in text[from, to), or -1 when the field is empty, too long or not base 36. */
function base36(text: string, from: number, to: number): number {
  if (to <= from || to - from > MAX_DIGITS) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 36 + d;
  }
  return v;
}

/**
 * Parses a payload made by encodePayload into `out` (reused by the caller, so the hot path
 * allocates nothing); false when the text carries no stamp.
 */
export function decodePayload(text: string, out: Stamp): boolean {
  const a = text.indexOf('.');
  const b = a < 0 ? -1 : text.indexOf('.', a + 1);
  const c = b < 0 ? -1 : text.indexOf('.', b + 1);
  if (c < 0) return false;
  const seq = base36(text, 0, a);
  const intended = base36(text, a + 1, b);
  const late = base36(text, b + 1, c);
  if (seq < 0 || !Number.isSafeInteger(seq) || intended < 0 || late < 0) return false;
  out.seq = seq;
  out.intendedNs = intended;
  out.lateNs = late;
  return true;
}

/** `base36` on bytes (the same digits as the text's char codes): a shared accessor would cost a call per digit on the load's hot path. */
function base36Bytes(bytes: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > MAX_DIGITS) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 36 + d;
  }
  return v;
}

/**
 * decodePayload on the message's bytes as they arrived (UTF-8; the stamp is ASCII): a load
 * client that holds the bytes reads the stamp without making a string of every message.
 */
export function decodePayloadBytes(bytes: Uint8Array, out: Stamp): boolean {
  const n = bytes.length;
  let a = -1;
  let b = -1;
  let c = -1;
  // The stamp's three dots lie within its first 3 × (13 + 1) bytes.
  const end = Math.min(n, 3 * (MAX_DIGITS + 1));
  for (let i = 0; i < end; i++) {
    if (bytes[i] !== 46) continue;
    if (a < 0) a = i;
    else if (b < 0) b = i;
    else {
      c = i;
      break;
    }
  }
  if (c < 0) return false;
  const seq = base36Bytes(bytes, 0, a);
  const intended = base36Bytes(bytes, a + 1, b);
  const late = base36Bytes(bytes, b + 1, c);
  if (seq < 0 || !Number.isSafeInteger(seq) || intended < 0 || late < 0) return false;
  out.seq = seq;
  out.intendedNs = intended;
  out.lateNs = late;
  return true;
}

/** Writes `v` (≥ 0) in base 36 at `at`, as `toString(36)` spells it; returns the end. */
function writeBase36(into: Uint8Array, at: number, v: bigint | number): number {
  if (typeof v === 'bigint' && v > MAX_SAFE) {
    const text = v.toString(36);
    for (let i = 0; i < text.length; i++) into[at + i] = text.charCodeAt(i);
    return at + text.length;
  }
  let n = Number(v);
  let digits = 1;
  for (let x = n; x >= 36; x = Math.floor(x / 36)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    const d = n % 36;
    into[i] = d < 10 ? 48 + d : 87 + d;
    n = Math.floor(n / 36);
  }
  return at + digits;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** The filler byte of every payload: 'x'. */
const FILL = 0x78;

/**
 * Makes encodePayload's text as bytes in one reused buffer, without a string per message: sent
 * as a text frame, they are exactly the frame encodePayload's string makes. The bytes returned
 * are overwritten by the next `encode`.
 */
export class PayloadWriter {
  private buf = Buffer.alloc(0);
  /** Bytes of `buf` that may hold something other than the filler. */
  private dirty = 0;

  /** encodePayload(seq, intendedNs, actualNs, size) as bytes. */
  encode(seq: number, intendedNs: bigint, actualNs: bigint, size: number): Buffer {
    // The stamp is at most three fields of 13 digits and their dots.
    const need = Math.max(size, 3 * (MAX_DIGITS + 1));
    if (this.buf.length < need) {
      this.buf = Buffer.alloc(need, FILL);
      this.dirty = 0;
    }
    const into = this.buf;
    const late = actualNs > intendedNs ? actualNs - intendedNs : 0n;
    let at = writeBase36(into, 0, seq);
    into[at++] = 46;
    at = writeBase36(into, at, intendedNs);
    into[at++] = 46;
    at = writeBase36(into, at, late);
    into[at++] = 46;
    if (at < this.dirty) into.fill(FILL, at, this.dirty);
    this.dirty = at;
    return into.subarray(0, Math.max(at, size));
  }
}
