/**
 * The measurement payload. Every message the lab sends starts with its sequence
 * number, its intended send time and how late it actually left, all from
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC, comparable across processes on
 * one host), so one-way latency and loss are measured, not guessed.
 *
 * Layout (ASCII, safe in JSON strings, SSE `data:` lines and WebSocket text):
 *   `<seq base36>.<intended ns base36>.<late ns base36>.` then `x` up to the size.
 */

/** Decoded measurement fields of a payload. */
export interface Stamp {
  /** Sequence number given by the sender. */
  seq: number;
  /** When the schedule meant it to be sent (ns, monotonic). */
  intendedNs: bigint;
  /** When it was actually sent (ns, monotonic). */
  actualNs: bigint;
}

/** Builds a payload of exactly `size` bytes (or the stamp's own length when larger). */
export function encodePayload(seq: number, intendedNs: bigint, actualNs: bigint, size: number): string {
  const late = actualNs > intendedNs ? actualNs - intendedNs : 0n;
  const head = `${seq.toString(36)}.${intendedNs.toString(36)}.${late.toString(36)}.`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}

/** Parses a payload made by encodePayload; null when the text carries no stamp. */
export function decodePayload(text: string): Stamp | null {
  const a = text.indexOf('.');
  const b = a < 0 ? -1 : text.indexOf('.', a + 1);
  const c = b < 0 ? -1 : text.indexOf('.', b + 1);
  if (c < 0) return null;
  const seq = parseInt(text.slice(0, a), 36);
  if (!Number.isSafeInteger(seq)) return null;
  try {
    const intendedNs = parseBase36BigInt(text.slice(a + 1, b));
    const late = parseBase36BigInt(text.slice(b + 1, c));
    return { seq, intendedNs, actualNs: intendedNs + late };
  } catch {
    return null;
  }
}

function parseBase36BigInt(s: string): bigint {
  if (s.length === 0 || !/^[0-9a-z]+$/.test(s)) throw new Error('not base36');
  // Ten base-36 digits stay below 2^53, so each chunk parses exactly as a double.
  let out = 0n;
  for (let i = 0; i < s.length; i += 10) {
    const chunk = s.slice(i, i + 10);
    out = out * 36n ** BigInt(chunk.length) + BigInt(parseInt(chunk, 36));
  }
  return out;
}
