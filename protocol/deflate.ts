/**
 * permessage-deflate (RFC 7692): negotiation in pure code, and a per-connection codec that
 * compresses and inflates whole messages synchronously, so the sans-I/O core stays synchronous
 * and messages keep their order.
 *
 * Node's zlib only exposes persistent (context-taking-over) streams asynchronously; its sync
 * helpers make a fresh context per call. The codec therefore drives the stream's native handle
 * the way node's own `zlib.*Sync` functions do (`_handle.writeSync` with `_writeState`), without
 * closing it after each call. That handle is internal to node (stable from 12 to 22); the tests
 * cover it, so a node that changes it fails loudly. The public alternative was measured and
 * declined: `deflateRawSync` with the last window of history as its `dictionary` keeps the
 * context, but builds a fresh zlib state and hashes the whole dictionary per message, 13× the
 * cost for a 100 B message (158 µs against 12 µs on node 20).
 */
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

/** The parts of a node zlib stream this codec drives (see the module comment). */
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

/** Rough zlib state size (zlib's own formula in zconf.h), for per-connection memory accounting. */
function deflateMemory(bits: number): number {
  return (1 << (bits + 2)) + (1 << (8 + 9));
}
function inflateMemory(bits: number): number {
  return (1 << bits) + 7 * 1024;
}

/** One connection's compressor and decompressor. */
export class PerMessageDeflate {
  private deflater: Engine | null = null;
  private inflater: Engine | null = null;
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
    if (this.deflater === null) {
      this.deflater = zlib.createDeflateRaw({ windowBits: this.ownBits, level: this.level, memLevel: 8 }) as Engine;
      this.deflater.on('error', () => {});
    }
    const input = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    const out = run(this.deflater, input, Number.POSITIVE_INFINITY)!;
    if (this.resetOwn) this.deflater.reset();
    // §7.2.1: an empty message compresses to a single 0x00 octet after the tail is removed.
    return out.length >= 4 ? out.subarray(0, out.length - 4) : Buffer.from([0]);
  }

  /**
   * Inflates one whole message (§7.2.2: append the tail, inflate). Throws a 1009 protocol error
   * as soon as the output passes the message limit, without inflating the rest (a bomb).
   */
  decompress(data: Buffer): Buffer {
    if (this.inflater === null) {
      this.inflater = zlib.createInflateRaw({ windowBits: Math.max(this.peerBits, 9) }) as Engine;
      this.inflater.on('error', () => {});
    }
    const out = run(this.inflater, Buffer.concat([data, TAIL]), this.maxMessageBytes);
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
