/**
 * permessage-deflate (RFC 7692): negotiation in pure code, and a per-connection codec that
 * compresses and inflates whole messages synchronously, so the sans-I/O core stays synchronous
 * and messages keep their order.
 *
 * Node's zlib only exposes persistent (context-taking-over) streams asynchronously; its sync
 * helpers make a fresh context per call. The codec therefore drives the stream's native handle
 * the way node's own `zlib.*Sync` functions do (`_handle.writeSync` with `_writeState`), without
 * closing it after each call. That handle is internal to node: a self-test on first use checks
 * that it still means what this code expects (round trips both ways against the public API, the
 * context kept, the bomb check stopping), and where it does not the codec falls back to the public
 * one-shot functions with the last window of history as a preset dictionary — an order of
 * magnitude more per small message (docs/MEASUREMENTS.md), which is why it is not the default. */
import zlib from 'node:zlib';
import { protocolError } from './errors.ts';

/** What an endpoint asks for or accepts (RFC 7692 §7.1). */
export interface DeflateOptions {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover?: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window of the server's compressor, 9 to 15 (8 is declined: zlib's raw deflate cannot do it). */
  serverMaxWindowBits?: number;
  /** Largest LZ77 window of the client's compressor, 9 to 15. */
  clientMaxWindowBits?: number;
  /** Messages shorter than this many bytes go uncompressed (RSV1 clear). Default 0: all. */
  threshold?: number;
  /** zlib compression level, 0 to 9. Default 6 (zlib's). */
  level?: number;
}

/** What both ends agreed on for one connection. */
export interface DeflateParams {
  /** The server resets its context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its context after each message. */
  clientNoContextTakeover: boolean;
  /** The server's compressor window, in bits. */
  serverMaxWindowBits: number;
  /** The client's compressor window, in bits. */
  clientMaxWindowBits: number;
}

/** The extension token. */
const NAME = 'permessage-deflate';
/** §7.2.1: the 4 octets a sync flush ends with, removed from the wire and put back to inflate. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

type Offer = Map<string, string | true>;

/** Parses a Sec-WebSocket-Extensions value into (name, params) pairs; params keep their order-free values. */
function parseExtensions(header: string): Array<{ name: string; params: Offer; duplicate: boolean }> {
  const out: Array<{ name: string; params: Offer; duplicate: boolean }> = [];
  for (const item of header.split(',')) {
    const parts = item.split(';').map((p) => p.trim());
    const name = parts.shift()?.toLowerCase() ?? '';
    if (name === '') continue;
    const params: Offer = new Map();
    let duplicate = false;
    for (const p of parts) {
      if (p === '') continue;
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      // §7.1: values may be quoted strings (RFC 6455 §9.1), e.g. client_max_window_bits="10".
      const value =
        eq < 0
          ? true
          : p
              .slice(eq + 1)
              .trim()
              .replace(/^"(.*)"$/, '$1');
      if (params.has(key)) duplicate = true;
      params.set(key, value);
    }
    out.push({ name, params, duplicate });
  }
  return out;
}

/** A window-bits value: 8..15 as written, or null when invalid. */
function windowBits(v: string | true): number | null {
  if (v === true || !/^\d{1,2}$/.test(v)) return null;
  const n = Number(v);
  return n >= 8 && n <= 15 ? n : null;
}

const KNOWN = new Set(['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits']);

/**
 * The server's answer to a client's offers (RFC 7692 §7.1.1): the first acceptable
 * permessage-deflate offer wins; an offer with unknown, duplicate or invalid parameters is
 * declined (§7.1). Returns the response header value and the agreed parameters, or null.
 */
export function acceptDeflateOffer(header: string | undefined, ours: DeflateOptions): { response: string; params: DeflateParams } | null {
  if (!header) return null;
  for (const offer of parseExtensions(header)) {
    if (offer.name !== NAME || offer.duplicate) continue;
    const p = offer.params;
    if ([...p.keys()].some((k) => !KNOWN.has(k))) continue;
    const noServerCtx = p.get('server_no_context_takeover');
    const noClientCtx = p.get('client_no_context_takeover');
    if ((noServerCtx !== undefined && noServerCtx !== true) || (noClientCtx !== undefined && noClientCtx !== true)) continue;
    const askedServerBits = p.get('server_max_window_bits');
    const askedServer = askedServerBits === undefined ? 15 : windowBits(askedServerBits);
    // zlib's raw deflate turns a window of 8 into 9, which would break the client's limit: decline.
    if (askedServer === null || askedServer === 8) continue;
    const clientBitsOffer = p.get('client_max_window_bits');
    const clientAdvertised = clientBitsOffer !== undefined;
    const clientLimit = clientBitsOffer === undefined || clientBitsOffer === true ? 15 : windowBits(clientBitsOffer);
    if (clientLimit === null) continue;

    const serverBits = Math.min(askedServer, ours.serverMaxWindowBits ?? 15);
    // §7.1.2.2: the server may limit the client's window only when the client advertised support.
    let clientBits = clientLimit;
    if (clientAdvertised && ours.clientMaxWindowBits !== undefined) clientBits = Math.min(clientBits, ours.clientMaxWindowBits);
    const params: DeflateParams = {
      serverNoContextTakeover: noServerCtx === true || ours.serverNoContextTakeover === true,
      clientNoContextTakeover: noClientCtx === true || ours.clientNoContextTakeover === true,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const parts = [NAME];
    if (params.serverNoContextTakeover) parts.push('server_no_context_takeover');
    if (params.clientNoContextTakeover) parts.push('client_no_context_takeover');
    if (serverBits < 15 || askedServerBits !== undefined) parts.push(`server_max_window_bits=${serverBits}`);
    if (clientAdvertised && (clientBits < 15 || typeof clientBitsOffer === 'string')) parts.push(`client_max_window_bits=${clientBits}`);
    return { response: parts.join('; '), params };
  }
  return null;
}

/** The client's offer (RFC 7692 §7.1): always advertises client_max_window_bits support. */
export function deflateOffer(ours: DeflateOptions): string {
  const parts = [NAME];
  if (ours.serverNoContextTakeover) parts.push('server_no_context_takeover');
  if (ours.clientNoContextTakeover) parts.push('client_no_context_takeover');
  if (ours.serverMaxWindowBits !== undefined) parts.push(`server_max_window_bits=${ours.serverMaxWindowBits}`);
  parts.push(ours.clientMaxWindowBits !== undefined ? `client_max_window_bits=${ours.clientMaxWindowBits}` : 'client_max_window_bits');
  return parts.join('; ');
}

/**
 * Checks the server's Sec-WebSocket-Extensions answer against our offer (RFC 7692 §7.1.1 –
 * §7.1.2): the agreed parameters, or the reason the client must fail the connection.
 */
export function checkDeflateResponse(header: string, ours: DeflateOptions): { ok: true; params: DeflateParams } | { ok: false; reason: string } {
  const exts = parseExtensions(header);
  if (exts.length !== 1 || exts[0]!.name !== NAME) return { ok: false, reason: `server selected extensions that were not offered: ${header}` };
  const { params: p, duplicate } = exts[0]!;
  if (duplicate) return { ok: false, reason: 'duplicate permessage-deflate parameter' };
  for (const k of p.keys()) if (!KNOWN.has(k)) return { ok: false, reason: `unknown permessage-deflate parameter ${k}` };
  const flag = (k: string): boolean | null => {
    const v = p.get(k);
    return v === undefined ? false : v === true ? true : null;
  };
  const noServerCtx = flag('server_no_context_takeover');
  const noClientCtx = flag('client_no_context_takeover');
  if (noServerCtx === null || noClientCtx === null) return { ok: false, reason: 'invalid permessage-deflate parameter value' };
  if (ours.serverNoContextTakeover && !noServerCtx) return { ok: false, reason: 'server ignored server_no_context_takeover' };
  const sb = p.get('server_max_window_bits');
  const serverBits = sb === undefined ? 15 : windowBits(sb);
  if (serverBits === null) return { ok: false, reason: 'invalid server_max_window_bits' };
  if (ours.serverMaxWindowBits !== undefined && serverBits > ours.serverMaxWindowBits)
    return { ok: false, reason: 'server_max_window_bits above the one offered' };
  const cb = p.get('client_max_window_bits');
  const clientBits = cb === undefined ? (ours.clientMaxWindowBits ?? 15) : windowBits(cb);
  if (clientBits === null) return { ok: false, reason: 'invalid client_max_window_bits' };
  if (clientBits === 8) return { ok: false, reason: 'client_max_window_bits=8 is not supported' };
  return {
    ok: true,
    params: {
      serverNoContextTakeover: noServerCtx,
      clientNoContextTakeover: noClientCtx || ours.clientNoContextTakeover === true,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: Math.min(clientBits, ours.clientMaxWindowBits ?? 15),
    },
  };
}

/** The parts of a node zlib stream the handle codec drives (see the module comment). */
type Engine = zlib.DeflateRaw & {
  _handle: { writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void } | null;
  _writeState: Uint32Array;
};

const OUT_CHUNK = 16 * 1024;

/** Runs `input` through `engine` with a sync flush; stops (returning null) once output passes `limit`. */
function run(engine: Engine, input: Buffer, limit: number): Buffer | null {
  const handle = engine._handle;
  if (handle === null) throw protocolError('WS_ERR_INFLATE', 'compression context is closed');
  const state = engine._writeState;
  const pieces: Buffer[] = [];
  let total = 0;
  let inOff = 0;
  let inLen = input.length;
  for (;;) {
    const out = Buffer.allocUnsafe(OUT_CHUNK);
    handle.writeSync(zlib.constants.Z_SYNC_FLUSH, input, inOff, inLen, out, 0, OUT_CHUNK);
    // A zlib error destroys the stream from inside writeSync.
    if (engine.destroyed) throw protocolError('WS_ERR_INFLATE');
    const availOut = state[0]!;
    const availIn = state[1]!;
    const have = OUT_CHUNK - availOut;
    if (have > 0) {
      pieces.push(have === OUT_CHUNK ? out : out.subarray(0, have));
      total += have;
      // The bomb check: never more than one chunk past the limit is inflated.
      if (total > limit) return null;
    }
    inOff += inLen - availIn;
    inLen = availIn;
    if (availOut !== 0) break;
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total);
}

/** One direction's zlib context: compresses or inflates whole messages with a sync flush. */
interface Codec {
  /** Output of `input` with a sync flush (the 4-octet tail included); null once it passes `limit`. */
  process(input: Buffer, limit: number): Buffer | null;
  /** Forgets the context (no context takeover). */
  reset(): void;
  close(): void;
}

/** The fast codec: one persistent zlib stream driven through its native handle. */
class HandleCodec implements Codec {
  private readonly engine: Engine;
  constructor(deflating: boolean, bits: number, level: number) {
    this.engine = (deflating ? zlib.createDeflateRaw({ windowBits: bits, level, memLevel: 8 }) : zlib.createInflateRaw({ windowBits: bits })) as Engine;
    this.engine.on('error', () => {});
  }
  process(input: Buffer, limit: number): Buffer | null {
    return run(this.engine, input, limit);
  }
  reset(): void {
    this.engine.reset();
  }
  close(): void {
    this.engine.close();
  }
}

/**
 * The fallback codec, on zlib's public one-shot functions: the context is carried as a preset
 * dictionary of the last window of plaintext (RFC 7692 §7.2.3 only needs the peer to find the
 * same history behind each back-reference). It costs a fresh zlib state per message (13× the
 * handle codec's time for a 100 B message), so it runs only where the handle codec failed its
 * self-test.
 */
class PublicCodec implements Codec {
  private history: Buffer = Buffer.alloc(0);
  constructor(
    private readonly deflating: boolean,
    private readonly bits: number,
    private readonly level: number,
  ) {}
  process(input: Buffer, limit: number): Buffer | null {
    const options: zlib.ZlibOptions = {
      windowBits: this.bits,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      ...(this.history.length > 0 && { dictionary: this.history }),
    };
    let out: Buffer;
    if (this.deflating) {
      out = zlib.deflateRawSync(input, { ...options, level: this.level, memLevel: 8 });
    } else {
      try {
        // maxOutputLength stops inflating there: the bomb check.
        out = zlib.inflateRawSync(input, { ...options, ...(Number.isFinite(limit) && { maxOutputLength: limit }) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
        throw protocolError('WS_ERR_INFLATE');
      }
      if (out.length > limit) return null;
    }
    const plain = this.deflating ? input : out;
    const window = 1 << this.bits;
    const joined = this.history.length === 0 ? plain : Buffer.concat([this.history, plain]);
    this.history = Buffer.from(joined.subarray(Math.max(0, joined.length - window)));
    return out;
  }
  reset(): void {
    this.history = Buffer.alloc(0);
  }
  close(): void {
    this.history = Buffer.alloc(0);
  }
}

/**
 * Start-up self-test of the handle codec: compresses a message twice (the second must use the
 * context), inflates both through a handle inflater, checks the public API reads the same bytes
 * the same way and the handle inflater reads the public API's, and that the bomb check stops.
 * A Node whose zlib internals are gone or mean something else fails it, and the engine then
 * uses the public codec.
 */
function handleCodecWorks(): boolean {
  const codecs: HandleCodec[] = [];
  try {
    const make = (deflating: boolean) => {
      const c = new HandleCodec(deflating, 15, 6);
      codecs.push(c);
      return c;
    };
    const sample = Buffer.from('{"type":"quote","symbol":"ACME","price":100}'.repeat(8));
    const deflater = make(true);
    const inflater = make(false);
    // Bounded: a handle whose state reads wrong could otherwise report output without end.
    const first = deflater.process(sample, 1 << 16);
    const second = deflater.process(sample, 1 << 16);
    if (first === null || second === null || !first.subarray(-4).equals(TAIL) || !(second.length < first.length)) return false;
    if (!zlib.inflateRawSync(first, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(sample)) return false;
    if (!inflater.process(first, 1 << 20)?.equals(sample) || !inflater.process(second, 1 << 20)?.equals(sample)) return false;
    const theirs = zlib.deflateRawSync(sample, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    if (
      !make(false)
        .process(theirs, 1 << 20)
        ?.equals(sample)
    )
      return false;
    const bomb = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return make(false).process(bomb, 64 * 1024) === null;
  } catch {
    return false;
  } finally {
    for (const c of codecs) c.close();
  }
}

let handleCodecOk: boolean | undefined;

/** Which codec this process uses, decided by the self-test on first use. */
export function deflateCodecKind(): 'zlib-handle' | 'public-api' {
  handleCodecOk ??= handleCodecWorks();
  return handleCodecOk ? 'zlib-handle' : 'public-api';
}

function makeCodec(deflating: boolean, bits: number, level: number): Codec {
  return deflateCodecKind() === 'zlib-handle' ? new HandleCodec(deflating, bits, level) : new PublicCodec(deflating, bits, level);
}

/** Rough zlib state size (zlib's own formula in zconf.h), for per-connection memory accounting. */
function deflateMemory(bits: number): number {
  return (1 << (bits + 2)) + (1 << (8 + 9));
}
function inflateMemory(bits: number): number {
  return (1 << bits) + 7 * 1024;
}

/** One connection's compressor and decompressor. */
export class PerMessageDeflate {
  private deflater: Codec | null = null;
  private inflater: Codec | null = null;
  private readonly ownBits: number;
  private readonly peerBits: number;
  private readonly resetOwn: boolean;
  private readonly resetPeer: boolean;
  /** Messages shorter than this go out uncompressed. */
  readonly threshold: number;
  private readonly level: number;

  constructor(
    params: DeflateParams,
    role: 'server' | 'client',
    private readonly maxMessageBytes: number,
    options: DeflateOptions = {},
  ) {
    const server = role === 'server';
    this.ownBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    this.peerBits = server ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    this.resetOwn = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.resetPeer = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.threshold = options.threshold ?? 0;
    this.level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  }

  /** Compresses one whole message (§7.2.1): deflate, sync flush, drop the 4-octet tail. */
  compress(data: Uint8Array): Buffer {
    this.deflater ??= makeCodec(true, this.ownBits, this.level);
    const input = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    const out = this.deflater.process(input, Number.POSITIVE_INFINITY)!;
    if (this.resetOwn) this.deflater.reset();
    // §7.2.1: an empty message compresses to a single 0x00 octet after the tail is removed.
    return out.length >= 4 ? out.subarray(0, out.length - 4) : Buffer.from([0]);
  }

  /**
   * Inflates one whole message (§7.2.2: append the tail, inflate). Throws a 1009 protocol error
   * as soon as the output passes the message limit, without inflating the rest (a bomb).
   */
  decompress(data: Buffer): Buffer {
    this.inflater ??= makeCodec(false, Math.max(this.peerBits, 9), this.level);
    const out = this.inflater.process(Buffer.concat([data, TAIL]), this.maxMessageBytes);
    if (out === null) {
      // The context is mid-message now: it cannot be used again, and the connection fails anyway.
      this.close();
      throw protocolError('WS_ERR_MESSAGE_TOO_BIG', `inflated past ${this.maxMessageBytes} bytes`);
    }
    if (this.resetPeer) this.inflater.reset();
    return out;
  }

  /** Bytes of zlib state this connection holds now (contexts are made on first use). */
  get memoryBytes(): number {
    return (this.deflater ? deflateMemory(this.ownBits) : 0) + (this.inflater ? inflateMemory(this.peerBits) : 0);
  }

  /** Frees both contexts. */
  close(): void {
    this.deflater?.close();
    this.inflater?.close();
    this.deflater = null;
    this.inflater = null;
  }
}
