/**
 * HTTP/2 bytes by frame type, above TLS: a load process's h2 sessions run over a tap that reads
 * the 9-byte header of every frame (RFC 9113 §4.1) in both directions, so a run can say what
 * HEADERS (their HPACK blocks), DATA framing, WINDOW_UPDATE, SETTINGS and PING cost per message.
 * The tap sits between TLS and node:http2, on the load side: node's h2 server reads its sockets
 * in C++ and shows no plaintext to JavaScript, and a tap there would add its own cost to the
 * server's CPU. Both ends of a connection see the same frames.
 */
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, isIP } from 'node:net';

/** RFC 9113 §6: the frame types, by their type code. */
const FRAME_TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'] as const;
/** A frame type's name, `OTHER` for an extension's. */
export type FrameType = (typeof FRAME_TYPES)[number] | 'OTHER' | 'PREFACE';

/** Bytes and frames of one type in one direction: frame headers included in `bytes`. */
export interface FrameTally {
  frames: number;
  bytes: number;
  /** HEADERS and CONTINUATION: the header block (HPACK) bytes alone, without padding and priority. */
  blockBytes?: number;
}

/** Per direction (`up`: client → server), per frame type. */
export type FrameCounts = Record<'up' | 'down', Partial<Record<FrameType, FrameTally>>>;

/** RFC 9113 §3.4: the client connection preface. */
const PREFACE_BYTES = 24;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

/**
 * Reads frame headers out of one direction's byte stream, chunk by chunk (a header may straddle
 * chunks). Only the first bytes of a HEADERS payload are looked at (pad length, priority).
 */
export class FrameReader {
  private header = Buffer.alloc(9);
  private have = 0;
  /** Payload bytes of the current frame still to skip. */
  private skip = 0;
  private preface: number;
  /** Every HEADERS / CONTINUATION frame seen (its flags and header block), when a test asks for them. */
  blocks: { type: FrameType; flags: number; length: number; block: Buffer }[] | undefined;
  private blockMeta: { type: FrameType; flags: number; length: number } = { type: 'HEADERS', flags: 0, length: 0 };
  private block: Buffer[] = [];
  private blockLeft = 0;
  private blockTrim = 0;

  constructor(
    private readonly tally: Partial<Record<FrameType, FrameTally>>,
    clientSide: boolean,
  ) {
    this.preface = clientSide ? PREFACE_BYTES : 0;
  }

  push(chunk: Buffer): void {
    let i = 0;
    if (this.preface > 0) {
      const n = Math.min(this.preface, chunk.length);
      this.preface -= n;
      i = n;
      if (this.preface === 0) add(this.tally, 'PREFACE', PREFACE_BYTES);
    }
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        if (this.blocks && this.blockLeft > 0) this.keepBlock(chunk.subarray(i, i + n));
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(9 - this.have, chunk.length - i);
      chunk.copy(this.header, this.have, i, i + n);
      this.have += n;
      i += n;
      if (this.have < 9) return;
      this.have = 0;
      const h = this.header;
      const length = h.readUIntBE(0, 3);
      const code = h[3]!;
      const flags = h[4]!;
      const type: FrameType = FRAME_TYPES[code] ?? 'OTHER';
      const t = add(this.tally, type, 9 + length);
      if (type === 'HEADERS' || type === 'CONTINUATION') {
        // §6.2: a HEADERS payload may open with a pad length and five bytes of priority; they are
        // not HPACK. Their exact size needs the payload's first byte, so it is read below when kept.
        const trim = type === 'HEADERS' ? (flags & FLAG_PRIORITY ? 5 : 0) + (flags & FLAG_PADDED ? 1 : 0) : 0;
        t.blockBytes = (t.blockBytes ?? 0) + length - trim;
        if (this.blocks) {
          this.blockLeft = length;
          this.blockTrim = trim;
          this.block = [];
          this.blockMeta = { type, flags, length };
          if (length === 0) this.blocks.push({ ...this.blockMeta, block: Buffer.alloc(0) });
        }
      }
      this.skip = length;
    }
  }

  private keepBlock(bytes: Buffer): void {
    this.block.push(Buffer.from(bytes));
    this.blockLeft -= bytes.length;
    if (this.blockLeft === 0) this.blocks!.push({ ...this.blockMeta, block: Buffer.concat(this.block).subarray(this.blockTrim) });
  }
}

function add(tally: Partial<Record<FrameType, FrameTally>>, type: FrameType, bytes: number): FrameTally {
  let t = tally[type];
  if (t === undefined) {
    t = { frames: 0, bytes: 0 };
    tally[type] = t;
  }
  t.frames++;
  t.bytes += bytes;
  return t;
}

/** This process's counts over every tapped session, from its first. */
const processCounts: FrameCounts = { up: {}, down: {} };

/** The frame counts of this process's h2 sessions so far (a copy). */
export function h2FrameCounts(): FrameCounts {
  return structuredClone(processCounts);
}

/**
 * A plaintext byte stream between node:http2 and its TLS (or TCP) socket that counts frames into
 * `counts` as they pass. node:http2 takes it as a session's socket through `createConnection`.
 */
export class FrameTap extends Duplex {
  readonly up: FrameReader;
  readonly down: FrameReader;

  constructor(
    private readonly inner: Duplex,
    counts: FrameCounts = processCounts,
  ) {
    super({ allowHalfOpen: false });
    this.up = new FrameReader(counts.up, true);
    this.down = new FrameReader(counts.down, false);
    inner.on('data', (chunk: Buffer) => {
      this.down.push(chunk);
      if (!this.push(chunk)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.once('error', (e: Error) => this.destroy(e));
    inner.once('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.up.push(chunk);
    this.inner.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}

/**
 * `createConnection` for `http2.connect`: TLS with ALPN h2 (https:) or TCP with prior knowledge
 * (http:), under a tap that counts frames.
 */
export function tappedConnection(ca: string | undefined, counts?: FrameCounts, onTap?: (tap: FrameTap) => void): (authority: URL) => Duplex {
  return (authority: URL) => {
    const host = authority.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(authority.port || (authority.protocol === 'https:' ? 443 : 80));
    const inner =
      authority.protocol === 'https:'
        ? tlsConnect({ host, port, ALPNProtocols: ['h2'], ...(isIP(host) === 0 && { servername: host }), ...(ca !== undefined && { ca }) })
        : netConnect({ host, port });
    inner.setNoDelay?.(true);
    const tap = new FrameTap(inner, counts);
    onTap?.(tap);
    return tap;
  };
}
