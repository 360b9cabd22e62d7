/**
 * Streaming UTF-8 validation (RFC 3629, as required by RFC 6455 §8.1). Bytes may arrive split
 * anywhere — across fragments and across TCP chunks — so the validator keeps the state of a
 * code point whose bytes have not all arrived yet. Complete runs of bytes are checked by Node's
 * native `buffer.isUtf8` (strict: rejects overlongs, surrogates and code points over U+10FFFF);
 * the few bytes at the edges, and short runs, by a byte-level state machine in JS.
 */
import { isUtf8 } from 'node:buffer';

/** Runs shorter than this are validated in JS: cheaper than creating a view for the native call. */
const NATIVE_THRESHOLD = 24;

/** Incremental UTF-8 validator: `update()` for each piece, `finish()` at the end of a message. */
export class Utf8Validator {
  /** Continuation bytes still expected for the current code point. */
  private need = 0;
  /** Allowed range for the next continuation byte (narrowed after E0, ED, F0, F4 leads). */
  private lo = 0x80;
  private hi = 0xbf;

  /** Feeds `bytes[start, end)`; returns false as soon as the stream cannot be valid UTF-8. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let i = start;
    // Finish a code point begun in an earlier piece.
    while (this.need > 0 && i < end) {
      const c = bytes[i]!;
      if (c < this.lo || c > this.hi) return false;
      this.lo = 0x80;
      this.hi = 0xbf;
      this.need--;
      i++;
    }
    if (i >= end) return true;
    // Find where the last complete code point ends: a lead byte among the last 4 bytes whose
    // sequence runs past `end` marks the start of an incomplete tail.
    let cut = end;
    let j = end - 1;
    const stop = Math.max(end - 4, i);
    while (j >= stop && (bytes[j]! & 0xc0) === 0x80) j--;
    if (j >= stop) {
      const c = bytes[j]!;
      const len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (j + len > end) cut = j;
    }
    if (cut - i >= NATIVE_THRESHOLD) {
      if (!isUtf8(bytes.subarray(i, cut))) return false;
      i = cut;
    }
    return this.scan(bytes, i, end);
  }

  /** Ends a message: false if it stopped in the middle of a code point. Resets the state. */
  finish(): boolean {
    const ok = this.need === 0;
    this.reset();
    return ok;
  }

  /** Forgets any partial code point. */
  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  /** Byte-level state machine (RFC 3629 §4 syntax), leaves a trailing partial code point pending. */
  private scan(bytes: Uint8Array, start: number, end: number): boolean {
    let need = this.need;
    let lo = this.lo;
    let hi = this.hi;
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (need > 0) {
        if (c < lo || c > hi) return false;
        lo = 0x80;
        hi = 0xbf;
        need--;
      } else if (c < 0x80) {
      } else if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
      } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c === 0xe0)
          lo = 0xa0; // overlong 3-byte forms
        else if (c === 0xed) hi = 0x9f; // UTF-16 surrogates U+D800..U+DFFF
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c === 0xf0)
          lo = 0x90; // overlong 4-byte forms
        else if (c === 0xf4) hi = 0x8f; // beyond U+10FFFF
      } else {
        return false; // C0, C1 (overlong 2-byte), F5..FF, stray continuation byte
      }
    }
    this.need = need;
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}

/** Checks short strings for `isValidUtf8`; always left reset. */
const shortValidator = new Utf8Validator();

/** One-shot check of a complete byte string. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  if (bytes.length >= NATIVE_THRESHOLD) return isUtf8(bytes);
  const v = shortValidator;
  const ok = v.update(bytes, 0, bytes.length) && v.finish();
  v.reset();
  return ok;
}
