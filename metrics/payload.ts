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
