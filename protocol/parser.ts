/**
 * The sans-I/O frame parser (RFC 6455 §5). Feed it `Buffer` chunks of any size with `push()`;
 * it calls the handler for every message, ping, pong and close, or once with a `ProtocolError`
 * carrying the close code to fail the connection with. No sockets, no timers.
 *
 * Copies: a small unfragmented message (payload under 126 bytes) is unmasked while it is copied
 * into a shared message pool, and handed out as a view of that pool (one allocation per message,
 * none per chunk; an unmasked one of 32 B or more from an owned chunk stays a view of that
 * chunk). A larger payload that sits inside one chunk is handed
 * out as a view of that chunk, unmasked in place — `push()` takes ownership of the chunk and may
 * modify it; `pushBorrowed()` parses bytes the caller reuses, and copies every payload piece
 * that outlives the call. Header bytes that straddle chunks go to an 8-byte scratch buffer, and a
 * message made of several pieces is joined by one `Buffer.concat` at the end.
 */
import { protocolError, type ProtocolError, type ProtocolErrorCode } from './errors.ts';
import { xorMaskRange } from './mask.ts';
import { Utf8Validator, isValidUtf8 } from './utf8.ts';
import { CloseCode, isValidCloseCode } from './close.ts';

/** Receives what the parser finds. Called synchronously from inside `push()`. */
export interface ParserHandler {
  /** A complete data message; `data` may be a view into a pushed chunk or the message pool. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A ping (RFC 6455 §5.5.2); the payload is at most 125 bytes. */
  onPing(data: Buffer): void;
  /** A pong (RFC 6455 §5.5.3). */
  onPong(data: Buffer): void;
  /** The peer's close frame; code 1005 when it carried no body. Later bytes are ignored. */
  onClose(code: number, reason: string): void;
  /** A protocol violation; the parser accepts nothing more afterwards. */
  onError(err: ProtocolError): void;
}

/** Parser settings. */
export interface ParserOptions {
  /** `'server'` parses client frames (masked), `'client'` parses server frames (unmasked). */
  role: 'server' | 'client';
  /** Largest message in bytes, across all its fragments; larger fails with 1009. Default 64 MiB. */
  maxMessageBytes?: number;
  /** RSV bits claimed by negotiated extensions, as a mask of byte 0 (RSV1 = 0x40). Default 0. */
  extensionsRsv?: number;
  /** Gets the raw bytes (as received, still masked) of every complete frame. Costs copies. */
  onFrame?: (bytes: Buffer) => void;
  /**
   * permessage-deflate was negotiated (RFC 7692): RSV1 on a message's first frame marks it
   * compressed, and this inflates the whole message; it throws a `ProtocolError` (1009 past the
   * size limit, 1007 for data that does not inflate).
   */
  inflate?: (data: Buffer) => Buffer;
}

/** Default `maxMessageBytes`: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

// Parser states: each names what the parser is waiting for next.
/** Waiting for the 2 fixed header bytes (FIN, RSV, opcode, MASK, 7-bit length). */
const STATE_HEADER = 0;
/** Waiting for a 16-bit extended payload length. */
const STATE_LENGTH_16 = 1;
/** Waiting for a 64-bit extended payload length. */
const STATE_LENGTH_64 = 2;
/** Waiting for the 4-byte masking key. */
const STATE_MASK_KEY = 3;
/** Consuming payload bytes. */
const STATE_PAYLOAD = 4;
/** A close frame was received: RFC 6455 §5.5.1, nothing after it is data. */
const STATE_CLOSED = 5;
/** A protocol error was reported, or the owner stopped the parser. */
const STATE_FAILED = 6;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const EMPTY = Buffer.alloc(0);

/**
 * Node's own Buffer class behind `Buffer[Symbol.species]`: constructing a view with it costs a
 * third of `buf.subarray()`, which goes through the generic species lookup on every call.
 */
export const BufferView = (Buffer as unknown as { [Symbol.species]: new (ab: ArrayBufferLike, offset: number, length: number) => Buffer })[Symbol.species];

/** A Buffer viewing `buf[start, end)` without copying. */
function view(buf: Buffer, start: number, end: number): Buffer {
  return new BufferView(buf.buffer, buf.byteOffset + start, end - start);
}

/** A fresh Buffer holding a copy of `buf[start, end)`. */
function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

/**
 * Small messages are copied here, as Node's own `Buffer.allocUnsafe` pool does for small
 * buffers, but with a DataView kept on the pool, so a payload is unmasked while copied, 4 bytes
 * a step, with no typed-array view made and no `.buffer` read per message (each costs more
 * than the copy itself). A pool is dropped, never reused, when full: messages keep their bytes.
 */
const MESSAGE_POOL_BYTES = 8 * 1024;
let messagePool = new ArrayBuffer(MESSAGE_POOL_BYTES);
let messagePoolView = new DataView(messagePool);
let messagePoolBytes = new Uint8Array(messagePool);
let messagePoolUsed = 0;
/** Every byte `copyUnmasked` copied last was below 0x80: as text, valid UTF-8 with no further check. */
let copiedAscii = false;

/**
 * Copies `length` payload bytes at `src[start]` into the message pool, XORed with the 4-byte key
 * at `src[keyAt]` (none when `keyAt` < 0), and returns them as a Buffer; sets `copiedAscii`.
 */
function copyUnmasked(src: DataView, start: number, length: number, keyAt: number): Buffer {
  const at = reserveMessage(length);
  const dst = messagePoolView;
  // Little-endian reads on both sides: byte i of a word meets key byte i.
  const key = keyAt < 0 ? 0 : src.getUint32(keyAt, true);
  const words = length & ~3;
  // The OR of every byte, kept on the way: text that is all ASCII needs no UTF-8 scan.
  let high = 0;
  let i = 0;
  for (; i < words; i += 4) {
    const word = src.getUint32(start + i, true) ^ key;
    high |= word;
    dst.setUint32(at + i, word, true);
  }
  for (; i < length; i++) {
    const byte = src.getUint8(start + i) ^ ((key >>> ((i & 3) << 3)) & 0xff);
    high |= byte;
    dst.setUint8(at + i, byte);
  }
  copiedAscii = (high & 0x80808080) === 0;
  return new BufferView(messagePool, at, length);
}

/**
 * `copyUnmasked` for a chunk with no DataView on it: byte by byte, since making a DataView
 * (a call into C++, as is reading the chunk's `.buffer`) costs more than the copy of a small payload.
 */
function copyUnmaskedBytes(src: Uint8Array, start: number, length: number, keyAt: number): Buffer {
  const at = reserveMessage(length);
  const dst = messagePoolBytes;
  let k0 = 0;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  if (keyAt >= 0) {
    k0 = src[keyAt]!;
    k1 = src[keyAt + 1]!;
    k2 = src[keyAt + 2]!;
    k3 = src[keyAt + 3]!;
  }
  let high = 0;
  const words = length & ~3;
  let i = 0;
  for (; i < words; i += 4) {
    const p = start + i;
    const b0 = src[p]! ^ k0;
    const b1 = src[p + 1]! ^ k1;
    const b2 = src[p + 2]! ^ k2;
    const b3 = src[p + 3]! ^ k3;
    high |= b0 | b1 | b2 | b3;
    const q = at + i;
    dst[q] = b0;
    dst[q + 1] = b1;
    dst[q + 2] = b2;
    dst[q + 3] = b3;
  }
  if (i < length) {
    const b = src[start + i]! ^ k0;
    high |= b;
    dst[at + i++] = b;
  }
  if (i < length) {
    const b = src[start + i]! ^ k1;
    high |= b;
    dst[at + i++] = b;
  }
  if (i < length) {
    const b = src[start + i]! ^ k2;
    high |= b;
    dst[at + i] = b;
  }
  copiedAscii = (high & 0x80) === 0;
  return new BufferView(messagePool, at, length);
}

/** From this size on, an unmasked small message of an owned chunk is handed out as a view of it rather than copied. */
const VIEW_MIN_BYTES = 32;

/** Room for `length` bytes in the message pool (a new pool when full); returns where. */
function reserveMessage(length: number): number {
  if (messagePoolUsed + length > MESSAGE_POOL_BYTES) {
    messagePool = new ArrayBuffer(MESSAGE_POOL_BYTES);
    messagePoolView = new DataView(messagePool);
    messagePoolBytes = new Uint8Array(messagePool);
    messagePoolUsed = 0;
  }
  const at = messagePoolUsed;
  // 8-byte aligned, as Node's pool, so any view on a message is aligned.
  messagePoolUsed = (at + length + 7) & ~7;
  return at;
}

/** Incremental WebSocket frame parser; see the module comment. */
export class FrameParser {
  private readonly isServer: boolean;
  private readonly maxMessageBytes: number;
  private readonly rsvAllowed: number;
  private readonly inflate: ((data: Buffer) => Buffer) | null;
  /** The current data message has RSV1 set: compressed (RFC 7692 §6). */
  private messageCompressed = false;
  private readonly handler: ParserHandler;
  private observer: ((bytes: Buffer) => void) | null;
  /** The observer sees bytes only from a frame boundary on (set mid-frame, it waits). */
  private capturing = false;

  private state = STATE_HEADER;
  // The chunk being parsed, the read position in it and where its bytes end.
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  /** The chunk is the caller's (`pushBorrowed`): payload bytes that outlive the call are copied. */
  private borrowed = false;
  /** A DataView on all of a borrowed chunk (the caller's), for copying small messages out; else null. */
  private chunkView: DataView | null = null;
  // Header bytes that straddle chunks are gathered here.
  private readonly scratch = Buffer.allocUnsafe(8);
  private scratchLen = 0;
  /** Where the bytes returned by `take()` start. */
  private at = 0;

  // Current frame.
  private fin = false;
  private opcode = 0;
  private masked = false;
  private payloadLength = 0;
  private remaining = 0;
  private readonly maskKey = Buffer.alloc(4);

  // Current data message (possibly fragmented) and current control frame.
  private messageOpcode = 0;
  private messageLength = 0;
  private readonly pieces: Buffer[] = [];
  private readonly controlPieces: Buffer[] = [];
  private readonly utf8 = new Utf8Validator();

  // Raw bytes for the frame observer (only used when one is set).
  private rawPieces: Buffer[] = [];
  private rawLength = 0;
  private headerLength = 0;

  constructor(options: ParserOptions, handler: ParserHandler) {
    this.isServer = options.role === 'server';
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.inflate = options.inflate ?? null;
    this.rsvAllowed = ((options.extensionsRsv ?? 0) | (this.inflate ? 0x40 : 0)) & 0x70;
    this.handler = handler;
    this.observer = options.onFrame ?? null;
  }

  /** True once a close frame was parsed or an error reported: later bytes are ignored. */
  get finished(): boolean {
    return this.state >= STATE_CLOSED;
  }

  /** Sets or removes the raw frame observer (see `ParserOptions.onFrame`). */
  setObserver(observer: ((bytes: Buffer) => void) | null): void {
    this.observer = observer;
    if (observer === null) {
      this.capturing = false;
      this.rawPieces = [];
      this.rawLength = 0;
    }
  }

  /** Stops parsing; later `push()` calls do nothing. Safe to call from inside a handler. */
  stop(): void {
    this.state = STATE_FAILED;
  }

  /** Parses `chunk` (taking ownership: masked payloads are unmasked in place). */
  push(chunk: Buffer): void {
    this.parse(chunk, chunk.length, false, null);
  }

  /**
   * Parses `buf[0, length)`, which the caller reuses once this returns: every payload handed
   * out or kept for a later chunk is a copy. `bufView` is a DataView on all of `buf`. Masked
   * payloads are still unmasked in place in `buf`.
   */
  pushBorrowed(buf: Buffer, length: number, bufView: DataView): void {
    this.parse(buf, length, true, bufView);
  }

  private parse(chunk: Buffer, length: number, borrowed: boolean, chunkView: DataView | null): void {
    if (this.state >= STATE_CLOSED) return;
    if (this.observer !== null) {
      // A chunk that starts while no header is half-read starts on a frame boundary.
      if (!this.capturing && this.state === STATE_HEADER && this.scratchLen === 0) this.capturing = true;
    }
    if (this.capturing) {
      this.rawPieces.push(Buffer.from(chunk.subarray(0, length)));
      this.rawLength += length;
    }
    this.chunk = chunk;
    this.pos = 0;
    this.end = length;
    this.borrowed = borrowed;
    this.chunkView = chunkView;
    let more = true;
    while (more) {
      switch (this.state) {
        case STATE_HEADER:
          more = this.readHeader();
          break;
        case STATE_LENGTH_16:
          more = this.readLength16();
          break;
        case STATE_LENGTH_64:
          more = this.readLength64();
          break;
        case STATE_MASK_KEY:
          more = this.readMaskKey();
          break;
        case STATE_PAYLOAD:
          more = this.readPayload();
          break;
        default:
          more = false;
      }
    }
    this.chunk = EMPTY;
    this.chunkView = null;
  }

  /** A payload piece `chunk[start, end)` to keep: a view of an owned chunk, a copy of a borrowed one. */
  private piece(start: number, end: number): Buffer {
    return this.borrowed ? copyOf(this.chunk, start, end) : view(this.chunk, start, end);
  }

  /**
   * Makes `n` header bytes available: returns the buffer to read them from (the chunk itself
   * when it holds them all, else the scratch buffer once enough bytes were gathered), or null
   * when the chunk ran out. `this.at` tells where they start.
   */
  private take(n: number): Buffer | null {
    const avail = this.end - this.pos;
    if (this.scratchLen === 0 && avail >= n) {
      this.at = this.pos;
      this.pos += n;
      return this.chunk;
    }
    const want = n - this.scratchLen;
    const count = Math.min(want, avail);
    for (let i = 0; i < count; i++) this.scratch[this.scratchLen + i] = this.chunk[this.pos + i]!;
    this.scratchLen += count;
    this.pos += count;
    if (this.scratchLen < n) return null;
    this.scratchLen = 0;
    this.at = 0;
    return this.scratch;
  }

  private fail(code: ProtocolErrorCode, detail?: string): false {
    return this.failWith(protocolError(code, detail));
  }

  private failWith(err: ProtocolError): false {
    this.state = STATE_FAILED;
    this.pieces.length = 0;
    this.controlPieces.length = 0;
    this.handler.onError(err);
    return false;
  }

  /**
   * STATE_HEADER: RFC 6455 §5.2 base framing — FIN, RSV1-3, opcode, MASK, payload len.
   * One method on purpose: with its opcode checks and its fast path moved into two helpers,
   * `npm run bench:micro -- --filter parse` parsed 6 B frames and unmasked 125 B ones 10–14 %
   * slower (medians of three paired runs each way), so it stays whole despite its length.
   */
  private readHeader(): boolean {
    const src = this.take(2);
    if (src === null) return false;
    const b0 = src[this.at]!;
    const b1 = src[this.at + 1]!;

    // §5.2: "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values"
    if ((b0 & 0x70 & ~this.rsvAllowed) !== 0) return this.fail('WS_ERR_UNEXPECTED_RSV');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const rsv1 = (b0 & 0x40) !== 0;

    // RFC 7692 §6.1: only a message's first frame may carry the "Per-Message Compressed" bit.
    if (rsv1 && this.inflate !== null && (opcode >= OP_CLOSE || opcode === OP_CONTINUATION))
      return this.fail('WS_ERR_UNEXPECTED_RSV', 'RSV1 on a control or continuation frame');
    if (opcode >= OP_CLOSE) {
      // §5.2: "%xB-F are reserved for further control frames"
      if (opcode > OP_PONG) return this.fail('WS_ERR_INVALID_OPCODE', `0x${opcode.toString(16)}`);
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!fin) return this.fail('WS_ERR_FRAGMENTED_CONTROL_FRAME');
      if (len7 > 125) return this.fail('WS_ERR_CONTROL_FRAME_TOO_LONG');
    } else if (opcode === OP_CONTINUATION) {
      if (this.messageOpcode === 0) return this.fail('WS_ERR_UNEXPECTED_CONTINUATION');
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      // §5.4: "The fragments of one message MUST NOT be interleaved between the fragments of another message"
      if (this.messageOpcode !== 0) return this.fail('WS_ERR_EXPECTED_CONTINUATION');
      this.messageOpcode = opcode;
      this.messageCompressed = rsv1 && this.inflate !== null;
    } else {
      // §5.2: "%x3-7 are reserved for further non-control frames"
      return this.fail('WS_ERR_INVALID_OPCODE', `0x${opcode.toString(16)}`);
    }

    // §5.1: "a server MUST close the connection upon receiving a frame that is not masked";
    // "A client MUST close a connection if it detects a masked frame."
    if (masked !== this.isServer) return this.fail(masked ? 'WS_ERR_UNEXPECTED_MASK' : 'WS_ERR_UNMASKED_FRAME');

    // Fast path: a whole unfragmented small data frame inside this chunk is copied out (unmasked
    // on the way) and delivered at once, without walking the remaining states or collecting pieces.
    if (fin && !rsv1 && len7 < 126 && opcode !== OP_CONTINUATION && opcode < OP_CLOSE && src === this.chunk && !this.capturing) {
      const keyAt = this.pos;
      const start = masked ? keyAt + 4 : keyAt;
      const end = start + len7;
      if (end <= this.end && len7 <= this.maxMessageBytes) {
        this.pos = end;
        this.messageOpcode = 0;
        let data: Buffer = EMPTY;
        let ascii = true;
        if (len7 > 0) {
          const chunkView = this.chunkView;
          if (chunkView !== null) {
            data = copyUnmasked(chunkView, start, len7, masked ? keyAt : -1);
            ascii = copiedAscii;
          } else if (masked || len7 < VIEW_MIN_BYTES) {
            data = copyUnmaskedBytes(src, start, len7, masked ? keyAt : -1);
            ascii = copiedAscii;
          } else {
            // Unmasked bytes of a chunk this parser owns: a view costs less than the copy.
            data = view(src, start, end);
            ascii = false;
          }
        }
        if (opcode === OP_TEXT && !ascii && !isValidUtf8(data)) return this.fail('WS_ERR_INVALID_UTF8');
        this.handler.onMessage(data, opcode === OP_BINARY);
        return this.state === STATE_HEADER;
      }
    }

    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    this.headerLength = masked ? 6 : 2;
    if (len7 === 126) {
      this.state = STATE_LENGTH_16;
      this.headerLength += 2;
      return true;
    }
    if (len7 === 127) {
      this.state = STATE_LENGTH_64;
      this.headerLength += 8;
      return true;
    }
    return this.haveLength(len7);
  }

  /**
   * STATE_LENGTH_16: §5.2 "If 126, the following 2 bytes interpreted as a 16-bit unsigned integer".
   *
   * Shortest form: §5.2 says "the minimal number of bytes MUST be used to encode the length", so
   * each length has one valid encoding, and this parser fails any other with 1002, in both roles.
   * Servers differ here: ws 8 reads the value and goes on, Chromium's frame parser fails the
   * connection. We side with the strict reading because no conforming encoder (browsers, ws,
   * this engine) ever writes a longer form, so only a broken or probing peer does; failing it
   * early costs one comparison on the extended-length path and none on the 7-bit fast path; and
   * a peer that gets the framing basics wrong should be told so (1002) rather than half trusted.
   */
  private readLength16(): boolean {
    const src = this.take(2);
    if (src === null) return false;
    const length = (src[this.at]! << 8) | src[this.at + 1]!;
    if (length < 126) return this.fail('WS_ERR_NON_MINIMAL_LENGTH', `${length} in 16 bits`);
    return this.haveLength(length);
  }

  /** STATE_LENGTH_64: §5.2 "If 127, the following 8 bytes … (the most significant bit MUST be 0)". */
  private readLength64(): boolean {
    const src = this.take(8);
    if (src === null) return false;
    const high = src.readUInt32BE(this.at);
    const low = src.readUInt32BE(this.at + 4);
    if (high > 0x7fffffff) return this.fail('WS_ERR_INVALID_LENGTH');
    // Lengths past 2^53 cannot be represented exactly; they are far over any size limit anyway.
    if (high > 0x1fffff) return this.fail('WS_ERR_MESSAGE_TOO_BIG');
    if (high === 0 && low < 0x10000) return this.fail('WS_ERR_NON_MINIMAL_LENGTH', `${low} in 64 bits`);
    return this.haveLength(high * 0x100000000 + low);
  }

  /** The payload length is known: enforce the size limit now, before any payload arrives. */
  private haveLength(length: number): boolean {
    if (this.opcode < OP_CLOSE) {
      const total = this.messageLength + length;
      if (total > this.maxMessageBytes) {
        return this.fail('WS_ERR_MESSAGE_TOO_BIG', `${total} > ${this.maxMessageBytes} bytes`);
      }
      this.messageLength = total;
    }
    this.payloadLength = length;
    this.remaining = length;
    this.state = this.masked ? STATE_MASK_KEY : STATE_PAYLOAD;
    return true;
  }

  /** STATE_MASK_KEY: §5.3 the 32-bit masking key. */
  private readMaskKey(): boolean {
    const src = this.take(4);
    if (src === null) return false;
    const key = this.maskKey;
    const at = this.at;
    key[0] = src[at]!;
    key[1] = src[at + 1]!;
    key[2] = src[at + 2]!;
    key[3] = src[at + 3]!;
    this.state = STATE_PAYLOAD;
    return true;
  }

  /** STATE_PAYLOAD: consume what this chunk holds of the payload, unmask it in place. */
  private readPayload(): boolean {
    const remaining = this.remaining;
    if (remaining > 0) {
      const start = this.pos;
      const avail = this.end - start;
      if (avail === 0) return false;
      const n = Math.min(avail, remaining);
      const end = start + n;
      this.pos = end;
      this.remaining = remaining - n;
      if (this.masked) xorMaskRange(this.chunk, start, end, this.maskKey, 0, this.payloadLength - remaining);
      if (this.opcode >= OP_CLOSE) {
        this.controlPieces.push(this.piece(start, end));
      } else {
        // §8.1: text is checked as it arrives, so invalid UTF-8 fails the connection early.
        if (this.messageOpcode === OP_TEXT && !this.messageCompressed && !this.utf8.update(this.chunk, start, end)) {
          return this.fail('WS_ERR_INVALID_UTF8');
        }
        this.pieces.push(this.piece(start, end));
      }
      if (this.remaining > 0) return false;
    }
    this.state = STATE_HEADER;
    if (this.capturing) this.observeFrame();
    return this.opcode >= OP_CLOSE ? this.controlFrame() : this.dataFrame();
  }

  /** End of a data frame: deliver the message if it was the last fragment (FIN). */
  private dataFrame(): boolean {
    if (!this.fin) return true;
    const isBinary = this.messageOpcode === OP_BINARY;
    const compressed = this.messageCompressed;
    if (!isBinary && !compressed && !this.utf8.finish()) return this.fail('WS_ERR_INVALID_UTF8', 'truncated code point');
    const pieces = this.pieces;
    let data: Buffer = EMPTY;
    if (pieces.length === 1) {
      data = pieces[0]!;
      pieces.pop();
    } else if (pieces.length > 1) {
      data = Buffer.concat(pieces, this.messageLength);
      pieces.length = 0;
    }
    this.messageOpcode = 0;
    this.messageLength = 0;
    if (compressed) {
      this.messageCompressed = false;
      try {
        data = this.inflate!(data);
      } catch (err) {
        return this.failWith(err as ProtocolError);
      }
      // §8.1 applies to the message as the application sees it: the inflated text.
      if (!isBinary && !isValidUtf8(data)) return this.fail('WS_ERR_INVALID_UTF8');
    }
    this.handler.onMessage(data, isBinary);
    return this.state === STATE_HEADER;
  }

  /** End of a control frame (§5.5), possibly between fragments of a data message. */
  private controlFrame(): boolean {
    const pieces = this.controlPieces;
    const data = pieces.length === 1 ? pieces[0]! : pieces.length === 0 ? EMPTY : Buffer.concat(pieces, this.payloadLength);
    pieces.length = 0;
    if (this.opcode === OP_PING) this.handler.onPing(data);
    else if (this.opcode === OP_PONG) this.handler.onPong(data);
    else return this.closeFrame(data);
    return this.state === STATE_HEADER;
  }

  /** §5.5.1 Close: optional 2-byte code then a UTF-8 reason. */
  private closeFrame(data: Buffer): false {
    let code: number = CloseCode.NO_STATUS; // §7.1.5: "If this Close control frame contains no status code, … 1005"
    let reason = '';
    if (data.length === 1) return this.fail('WS_ERR_INVALID_CLOSE_PAYLOAD');
    if (data.length >= 2) {
      code = (data[0]! << 8) | data[1]!;
      // §7.4.2: reserved, local-only (1005, 1006, 1015) and unassigned codes cannot come from a peer → 1002.
      if (!isValidCloseCode(code)) return this.fail('WS_ERR_INVALID_CLOSE_CODE', String(code));
      const reasonBytes = data.subarray(2);
      // §5.5.1: "the data … is not guaranteed to be human readable" but it is UTF-8 (§8.1).
      if (!isValidUtf8(reasonBytes)) return this.fail('WS_ERR_INVALID_UTF8', 'close reason');
      reason = reasonBytes.toString('utf8');
    }
    this.state = STATE_CLOSED;
    this.pieces.length = 0;
    this.handler.onClose(code, reason);
    return false;
  }

  /** Hands the observer the raw bytes of the frame that just ended. */
  private observeFrame(): void {
    // The raw pieces start at this frame's first byte: earlier frames were cut off already.
    const frameLength = this.headerLength + this.payloadLength;
    const all = this.rawPieces.length === 1 ? this.rawPieces[0]! : Buffer.concat(this.rawPieces, this.rawLength);
    this.observer?.(all.subarray(0, frameLength));
    const rest = all.subarray(frameLength);
    this.rawPieces = rest.length > 0 ? [rest] : [];
    this.rawLength = rest.length;
  }
}

/** A parser event as a value, for tests, tools and the teaching demo. */
export type ParserEvent =
  | { type: 'message'; data: Buffer; isBinary: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; error: ProtocolError };

/** A handler that records events in order; `data` buffers are copied so they outlive the chunk. */
export class EventCollector implements ParserHandler {
  /** Events seen so far. */
  readonly events: ParserEvent[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), isBinary });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data: Buffer.from(data) });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data: Buffer.from(data) });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onError(error: ProtocolError): void {
    this.events.push({ type: 'error', error });
  }
}

/** Parses a whole byte stream given as chunks (copied first, so the inputs stay untouched). */
export function parseChunks(chunks: readonly Uint8Array[], options: ParserOptions): ParserEvent[] {
  const collector = new EventCollector();
  const parser = new FrameParser(options, collector);
  for (const c of chunks) parser.push(Buffer.from(c));
  return collector.events;
}
