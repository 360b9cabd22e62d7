/**
 * Pure frame encoding (RFC 6455 §5.2) and a decoder that annotates one frame for teaching.
 * Headers can be written into a caller's buffer so several frames share one allocation and one
 * socket write.
 */
import { xorMaskRange, writeRandomMaskKey } from './mask.ts';
import { isValidCloseCode, MAX_CLOSE_REASON_BYTES } from './close.ts';

/** Frame opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** How to encode one frame. */
export interface FrameOptions {
  /** Frame opcode, see `Opcode`. */
  opcode: number;
  /** Last fragment of the message. Default true. */
  fin?: boolean;
  /** Mask the payload: `true` for a fresh random key, or a specific 4-byte key. Default false. */
  mask?: boolean | Uint8Array;
  /** Set RSV1 (only meaningful with an extension such as permessage-deflate). Default false. */
  rsv1?: boolean;
}

/** Header size in bytes for a payload length: 2, 4 or 10, plus 4 when masked (§5.2). */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header at `target[offset]` and returns the offset just after it. With `maskKey`
 * (4 bytes) the key is written too; with `maskKey === true` a fresh random key is written.
 * The payload is not touched: see `encodeFrameInto` to write header and payload together.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  payloadLength: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | boolean | null,
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey ? 0x80 : 0;
  let o = offset + 2;
  // §5.2: "the minimal number of bytes MUST be used to encode the length"
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength < 65536) {
    target[offset + 1] = maskBit | 126;
    target[o] = payloadLength >>> 8;
    target[o + 1] = payloadLength & 0xff;
    o += 2;
  } else {
    target[offset + 1] = maskBit | 127;
    const high = Math.floor(payloadLength / 0x100000000);
    const low = payloadLength >>> 0;
    target[o] = high >>> 24;
    target[o + 1] = (high >>> 16) & 0xff;
    target[o + 2] = (high >>> 8) & 0xff;
    target[o + 3] = high & 0xff;
    target[o + 4] = low >>> 24;
    target[o + 5] = (low >>> 16) & 0xff;
    target[o + 6] = (low >>> 8) & 0xff;
    target[o + 7] = low & 0xff;
    o += 8;
  }
  if (maskKey === true) {
    writeRandomMaskKey(target, o);
    o += 4;
  } else if (maskKey) {
    if (maskKey.length !== 4) throw new RangeError('masking key must be 4 bytes');
    target[o] = maskKey[0]!;
    target[o + 1] = maskKey[1]!;
    target[o + 2] = maskKey[2]!;
    target[o + 3] = maskKey[3]!;
    o += 4;
  }
  return o;
}

/**
 * Writes a whole frame (header, then the payload, masked when asked) at `target[offset]` and
 * returns the offset after it. `target` needs `frameHeaderSize(len, masked) + len` free bytes.
 */
export function encodeFrameInto(
  target: Uint8Array,
  offset: number,
  payload: Uint8Array,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | boolean | null,
): number {
  const start = writeFrameHeader(target, offset, payload.length, opcode, fin, rsv1, maskKey);
  const length = payload.length;
  const end = start + length;
  if (length < SMALL_PAYLOAD) {
    // Tiny payloads: one fused copy(-and-mask) loop beats a memcpy call plus a masking pass.
    if (maskKey) {
      const k = start - 4;
      for (let i = 0; i < length; i++) target[start + i] = payload[i]! ^ target[k + (i & 3)]!;
    } else {
      for (let i = 0; i < length; i++) target[start + i] = payload[i]!;
    }
    return end;
  }
  target.set(payload, start);
  if (maskKey) xorMaskRange(target, start, end, target, start - 4, 0);
  return end;
}

/**
 * Writes a whole frame whose payload is bytes or a string of `length` UTF-8 bytes at
 * `target[offset]` (a fresh random key when `masked`) and returns the offset after it: a string
 * is encoded straight into place, without an intermediate buffer.
 */
export function encodePayloadInto(
  target: Buffer,
  offset: number,
  payload: Uint8Array | string,
  length: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  masked: boolean,
): number {
  if (typeof payload !== 'string') return encodeFrameInto(target, offset, payload, opcode, fin, rsv1, masked);
  const start = writeFrameHeader(target, offset, length, opcode, fin, rsv1, masked);
  target.write(payload, start, length, 'utf8');
  if (masked) xorMaskRange(target, start, start + length, target, start - 4, 0);
  return start + length;
}

/** Payloads shorter than this are copied byte by byte. */
const SMALL_PAYLOAD = 32;

function toBytes(payload: Uint8Array | string): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

/** Encodes one frame into a single new Buffer (header and payload, masked copy when masked). */
export function encodeFrame(payload: Uint8Array | string, options: FrameOptions): Buffer {
  const bytes = toBytes(payload);
  const maskKey = options.mask ?? false;
  const out = Buffer.allocUnsafe(frameHeaderSize(bytes.length, maskKey !== false) + bytes.length);
  encodeFrameInto(out, 0, bytes, options.opcode, options.fin ?? true, options.rsv1 ?? false, maskKey);
  return out;
}

/**
 * Encodes one frame as `[header, payload]` for a vectored write, without copying an unmasked
 * payload (the second element is then the caller's own buffer). Masked payloads are copied.
 */
export function encodeFrameParts(payload: Uint8Array | string, options: FrameOptions): [Buffer, Buffer] {
  const bytes = toBytes(payload);
  const maskKey = options.mask ?? false;
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (maskKey === false) {
    // Unmasked (every server frame): a header of 2, 4 or 10 bytes and the caller's payload as is.
    const len = body.length;
    const b0 = (options.fin === false ? 0 : 0x80) | (options.rsv1 ? 0x40 : 0) | options.opcode;
    if (len < 126) {
      const header = Buffer.allocUnsafe(2);
      header[0] = b0;
      header[1] = len;
      return [header, body];
    }
    if (len < 65536) {
      const header = Buffer.allocUnsafe(4);
      header[0] = b0;
      header[1] = 126;
      header.writeUInt16BE(len, 2);
      return [header, body];
    }
  }
  const header = Buffer.allocUnsafe(frameHeaderSize(body.length, maskKey !== false));
  writeFrameHeader(header, 0, body.length, options.opcode, options.fin ?? true, options.rsv1 ?? false, maskKey);
  if (!maskKey) return [header, body];
  const masked = Buffer.from(body);
  xorMaskRange(masked, 0, masked.length, header, header.length - 4, 0);
  return [header, masked];
}

/**
 * The body of a close frame (§5.5.1): 2-byte code then a UTF-8 reason; empty when `code` is
 * undefined. Throws on codes that may not be sent or a body over 125 bytes.
 */
export function encodeClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '') throw new TypeError('a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) throw new RangeError(`close reason over ${MAX_CLOSE_REASON_BYTES} bytes`);
  const body = Buffer.allocUnsafe(2 + reasonLength);
  body.writeUInt16BE(code, 0);
  body.write(reason, 2, 'utf8');
  return body;
}

/** A complete close frame (§5.5.1). */
export function encodeClose(code?: number, reason = '', mask: boolean | Uint8Array = false): Buffer {
  return encodeFrame(encodeClosePayload(code, reason), { opcode: Opcode.CLOSE, mask });
}

const OPCODE_NAMES: Record<number, string> = {
  0: 'continuation',
  1: 'text',
  2: 'binary',
  8: 'close',
  9: 'ping',
  10: 'pong',
};

/** One frame taken apart field by field, as the teaching demo shows it. */
export interface FrameDescription {
  /** FIN bit: last fragment of a message. */
  fin: boolean;
  /** RSV1..RSV3 bits: reserved for extensions. */
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  /** Opcode number and its name (`'reserved'` for 0x3-0x7 and 0xB-0xF). */
  opcode: number;
  opcodeName: string;
  /** MASK bit. */
  masked: boolean;
  /** Which length form the header uses: 7-bit, 16-bit or 64-bit extended length. */
  lengthForm: 7 | 16 | 64;
  /** Payload length declared in the header. */
  payloadLength: number;
  /** Header size in bytes (2 to 14). */
  headerLength: number;
  /** Masking key as hex, or null when not masked. */
  maskingKey: string | null;
  /** Payload as it travels (masked), or null when not masked. */
  maskedPayload: Buffer | null;
  /** Payload after unmasking (as much as the input holds). */
  payload: Buffer;
  /** The input holds the whole frame. */
  complete: boolean;
  /** Total frame size in bytes (header + payload). */
  frameLength: number;
  /** Close code and reason, for a close frame with a body. */
  close?: { code: number; reason: string };
}

/** Decodes the frame at the start of `bytes` without modifying them. Throws if the header is cut short. */
export function describeFrame(bytes: Uint8Array): FrameDescription {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < 2) throw new RangeError('a frame header has at least 2 bytes');
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  let o = 2;
  let lengthForm: 7 | 16 | 64 = 7;
  let payloadLength = len7;
  if (len7 === 126) {
    if (buf.length < 4) throw new RangeError('frame header cut short');
    payloadLength = buf.readUInt16BE(2);
    lengthForm = 16;
    o = 4;
  } else if (len7 === 127) {
    if (buf.length < 10) throw new RangeError('frame header cut short');
    payloadLength = buf.readUInt32BE(2) * 0x100000000 + buf.readUInt32BE(6);
    lengthForm = 64;
    o = 10;
  }
  let maskingKey: string | null = null;
  let key: Buffer | null = null;
  if (masked) {
    if (buf.length < o + 4) throw new RangeError('frame header cut short');
    key = buf.subarray(o, o + 4);
    maskingKey = key.toString('hex');
    o += 4;
  }
  const available = Math.min(payloadLength, buf.length - o);
  const raw = buf.subarray(o, o + available);
  const payload = Buffer.from(raw);
  if (key) xorMaskRange(payload, 0, payload.length, key, 0, 0);
  const opcode = b0 & 0x0f;
  const description: FrameDescription = {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode,
    opcodeName: OPCODE_NAMES[opcode] ?? 'reserved',
    masked,
    lengthForm,
    payloadLength,
    headerLength: o,
    maskingKey,
    maskedPayload: key ? Buffer.from(raw) : null,
    payload,
    complete: available === payloadLength,
    frameLength: o + payloadLength,
  };
  if (opcode === Opcode.CLOSE && payload.length >= 2) {
    description.close = { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
  }
  return description;
}
