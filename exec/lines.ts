/**
 * A program's stdout as WebSocket text frames, one per line: cut at '\n' (a '\r' before it goes
 * too), a line over the limit ends the stream. The lines of one stdout chunk leave as one buffer
 * of frames in one socket write: a write per line would queue an object per line, and a chunk of
 * `yes` holds 32,768 lines.
 */
import { isUtf8 } from 'node:buffer';

/** End of the line `buf[start, end)` without a '\r' just before its '\n'. */
function withoutCr(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === 0x0d ? end - 1 : end;
}

/**
 * Unmasked text frames (server role) for the lines `buf[bounds[0], bounds[1])`,
 * `buf[bounds[2], bounds[3])`, …, back to back in one buffer. Text frames must be UTF-8
 * (RFC 6455 §5.6): when the bytes are not, each line goes through a string, which turns bad
 * bytes into U+FFFD.
 */
function textFrames(buf: Buffer, bounds: number[]): Buffer {
  let lines: Buffer[] | undefined;
  if (!isUtf8(buf.subarray(bounds[0]!, bounds[bounds.length - 1]!))) {
    lines = [];
    for (let i = 0; i < bounds.length; i += 2) lines.push(Buffer.from(buf.toString('utf8', bounds[i]!, bounds[i + 1]!)));
  }
  const lengthOf = (i: number) => (lines ? lines[i / 2]!.length : bounds[i + 1]! - bounds[i]!);
  let total = 0;
  for (let i = 0; i < bounds.length; i += 2) {
    const n = lengthOf(i);
    total += n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < bounds.length; i += 2) {
    const n = lengthOf(i);
    out[o++] = 0x81; // FIN + text
    if (n < 126) out[o++] = n;
    else if (n < 65536) {
      out[o++] = 126;
      out.writeUInt16BE(n, o);
      o += 2;
    } else {
      out[o++] = 127;
      out.writeBigUInt64BE(BigInt(n), o);
      o += 8;
    }
    if (lines) o += lines[i / 2]!.copy(out, o);
    else if (n < 16) for (let k = bounds[i]!; k < bounds[i + 1]!; k++) out[o++] = buf[k]!;
    else o += buf.copy(out, o, bounds[i]!, bounds[i + 1]!);
  }
  return out;
}

/** What one stdout chunk gave: the frames to send, in order, and whether a line passed the limit after them. */
export interface FramedChunk {
  frames: Buffer[];
  /** A line longer than the limit: nothing after it is framed, and the stream must end (1009). */
  tooLong: boolean;
}

/** Cuts a byte stream into lines and frames them; a line split over chunks is kept until its end comes. */
export class LineFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLine: number) {}

  /** Frames the lines `chunk` completes. */
  push(chunk: Buffer): FramedChunk {
    const frames: Buffer[] = [];
    let start = 0;
    let nl = chunk.indexOf(0x0a);
    if (this.pendingBytes > 0 && nl >= 0) {
      if (this.pendingBytes + nl > this.maxLine) return { frames, tooLong: true };
      frames.push(this.joinPending(chunk.subarray(0, nl)));
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    const bounds: number[] = [];
    for (; nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (nl - start > this.maxLine) break;
      bounds.push(start, withoutCr(chunk, start, nl));
      start = nl + 1;
    }
    if (bounds.length > 0) frames.push(textFrames(chunk, bounds));
    if (nl >= 0) return { frames, tooLong: true };
    if (start >= chunk.length) return { frames, tooLong: false };
    const rest = chunk.subarray(start);
    if (this.pendingBytes + rest.length > this.maxLine) return { frames, tooLong: true };
    // The chunk's buffer may be reused by the stream: what waits for its line's end is a copy.
    this.pending.push(Buffer.from(rest));
    this.pendingBytes += rest.length;
    return { frames, tooLong: false };
  }

  /** The frame of a last line that never got its '\n', or undefined. */
  flush(): Buffer | undefined {
    return this.pendingBytes > 0 ? this.joinPending(Buffer.alloc(0)) : undefined;
  }

  private joinPending(tail: Buffer): Buffer {
    this.pending.push(tail);
    const line = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return textFrames(line, [0, withoutCr(line, 0, line.length)]);
  }
}
