/**
 * The opening handshake (RFC 6455 §4) as pure functions: what a server decides about an
 * upgrade request, and what a client checks in the answer. No sockets here; the server and
 * client adapters turn the decisions into bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { acceptDeflateOffer, checkDeflateResponse, type DeflateOptions, type DeflateParams } from './deflate.ts';
import { HandshakeError } from './errors.ts';

/** RFC 6455 §1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Headers as Node's `IncomingMessage.headers` gives them (lower-case names). */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** The parts of an HTTP request the handshake looks at. */
export interface UpgradeRequest {
  /** HTTP method, e.g. `'GET'`. */
  method?: string | undefined;
  /** Request target, e.g. `'/ws?token=abc'`; needed for one-time tokens. */
  url?: string | undefined;
  /** Request headers with lower-case names. */
  headers: HeaderMap;
  /** HTTP version as Node gives it, e.g. `'1.1'`; checked when present. */
  httpVersion?: string | undefined;
}

/** Picks a subprotocol among those the client offered; return undefined for none. */
export type ProtocolSelector = (offered: string[], request: UpgradeRequest) => string | undefined;

/** What the server accepts. */
export interface UpgradeOptions {
  /** Supported subprotocols in order of preference, or a function choosing one. */
  protocols?: readonly string[] | ProtocolSelector;
  /** Allowed `Origin` values; when set, a missing or unlisted origin gets 403. */
  allowOrigins?: readonly string[];
  /** One-time tokens; when set, the request needs an unspent `?token=` or gets 401. */
  tokens?: TokenStore;
  /** Accept permessage-deflate offers (RFC 7692) with these settings; absent or false: never. */
  perMessageDeflate?: boolean | DeflateOptions;
}

/** The server's decision about an upgrade request. */
export type UpgradeDecision =
  | {
      ok: true;
      /** Value of Sec-WebSocket-Accept. */
      accept: string;
      /** Chosen subprotocol, if any. */
      protocol?: string;
      /** permessage-deflate parameters, when an offer was accepted. */
      deflate?: DeflateParams;
      /** Headers of the 101 response (Upgrade, Connection, Sec-WebSocket-Accept, Sec-WebSocket-Protocol). */
      responseHeaders: Record<string, string>;
    }
  | {
      ok: false;
      /** HTTP status to answer with (400, 401, 403, 405, 426). */
      status: number;
      /** Short human-readable reason, sent as the response body. */
      reason: string;
      /** Extra response headers (e.g. `Sec-WebSocket-Version: 13` with 426). */
      headers?: Record<string, string>;
    };

/** RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)). */
export function computeAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

/** A fresh Sec-WebSocket-Key: §4.1 "a randomly selected 16-byte value … base64-encoded". */
export function makeKey(): string {
  return randomBytes(16).toString('base64');
}

/** One header's value as a single string (repeated headers joined with ", "). */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Splits a comma-separated header into trimmed, non-empty tokens (RFC 9110 §5.6.1). */
export function tokenList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** 16 bytes in base64: 22 characters then "==" (the last one may carry non-zero padding bits). */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

function reject(status: number, reason: string, headers?: Record<string, string>): UpgradeDecision {
  return headers ? { ok: false, status, reason, headers } : { ok: false, status, reason };
}

/** Whether an HTTP version string (`'1.0'`, `'1.1'`, `'2'`) is 1.1 or later. */
function atLeastHttp11(v: string): boolean {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 1);
}

/** Decides whether to accept an upgrade request (RFC 6455 §4.2.1) and how to answer it. */
export function validateUpgradeRequest(request: UpgradeRequest, options: UpgradeOptions = {}): UpgradeDecision {
  const h = request.headers;
  // §4.1: "The method of the request MUST be GET"
  if ((request.method ?? '').toUpperCase() !== 'GET') return reject(405, 'WebSocket upgrade requires GET', { Allow: 'GET' });
  // §4.1: "the HTTP version MUST be at least 1.1"
  if (request.httpVersion !== undefined && !atLeastHttp11(request.httpVersion)) return reject(400, 'WebSocket upgrade requires HTTP/1.1 or later');
  // §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket", … case-insensitive"
  if (!tokenList(headerValue(h, 'upgrade')).some((t) => t.toLowerCase() === 'websocket')) {
    return reject(400, 'missing or invalid Upgrade header');
  }
  // §4.2.1 item 4: "A |Connection| header field that includes the token "Upgrade""
  if (!tokenList(headerValue(h, 'connection')).some((t) => t.toLowerCase() === 'upgrade')) {
    return reject(400, 'missing or invalid Connection header');
  }
  // §4.2.2 item 4: unsupported version → "a |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of"
  if (headerValue(h, 'sec-websocket-version')?.trim() !== '13') {
    return reject(426, 'unsupported WebSocket version', { 'Sec-WebSocket-Version': '13' });
  }
  // §4.2.1 item 5: "when decoded, is 16 bytes in length"
  const key = headerValue(h, 'sec-websocket-key')?.trim();
  if (key === undefined || !KEY_PATTERN.test(key)) return reject(400, 'missing or invalid Sec-WebSocket-Key');

  const accept = computeAccept(key);
  return negotiate(request, options, { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': accept }, accept);
}

/**
 * What an opening handshake decides beyond its own framing, the same over HTTP/1.1 (RFC 6455
 * §4.2) and over an HTTP/2 extended CONNECT (RFC 8441 §5, which keeps these header fields):
 * origin, one-time token, permessage-deflate and subprotocol. `responseHeaders` starts as given.
 */
export function negotiate(request: UpgradeRequest, options: UpgradeOptions, responseHeaders: Record<string, string>, accept = ''): UpgradeDecision {
  const h = request.headers;
  // §10.2: servers "that are not intended to process input from any web page" may check Origin.
  if (options.allowOrigins) {
    const origin = headerValue(h, 'origin');
    if (origin === undefined || !options.allowOrigins.includes(origin)) return reject(403, 'origin not allowed');
  }
  if (options.tokens) {
    const token = tokenFromUrl(request.url);
    if (token === undefined || !options.tokens.consume(token)) return reject(401, 'missing, unknown or spent token');
  }

  const pmd = options.perMessageDeflate;
  const deflate = pmd ? acceptDeflateOffer(headerValue(h, 'sec-websocket-extensions'), pmd === true ? {} : pmd) : null;
  if (deflate !== null) responseHeaders['Sec-WebSocket-Extensions'] = deflate.response;
  const extra = deflate !== null ? { deflate: deflate.params } : {};
  // §4.2.2 item 5.4: "either a single value representing the subprotocol the server is ready to use … or null"
  const protocol = selectProtocol(request, options.protocols);
  if (protocol === undefined) return { ok: true, accept, responseHeaders, ...extra };
  responseHeaders['Sec-WebSocket-Protocol'] = protocol;
  return { ok: true, accept, protocol, responseHeaders, ...extra };
}

/** The server's choice of subprotocol: only ever one the client offered. */
function selectProtocol(request: UpgradeRequest, supported: UpgradeOptions['protocols']): string | undefined {
  const offered = tokenList(headerValue(request.headers, 'sec-websocket-protocol'));
  if (offered.length === 0 || supported === undefined) return undefined;
  if (typeof supported === 'function') {
    const chosen = supported(offered, request);
    return chosen !== undefined && offered.includes(chosen) ? chosen : undefined;
  }
  return supported.find((p) => offered.includes(p));
}

function tokenFromUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('token') ?? undefined;
}

/** One-time tokens: `issue()` hands out a random token, `consume()` spends it (true once). */
export class TokenStore {
  private readonly live = new Map<string, number>();
  private readonly ttlMs: number;

  /** `ttlMs`: tokens expire after this long unspent (default 60 s). */
  constructor(options: { ttlMs?: number } = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
  }

  /** A new random token (128 bits, URL-safe). */
  issue(): string {
    const token = randomBytes(16).toString('base64url');
    this.live.set(token, Date.now() + this.ttlMs);
    return token;
  }

  /** Spends `token`: true if it was issued, unexpired and unspent. */
  consume(token: string): boolean {
    const expires = this.live.get(token);
    if (expires === undefined) return false;
    this.live.delete(token);
    return expires >= Date.now();
  }

  /** Number of issued, unspent tokens (expired ones included until swept). */
  get size(): number {
    return this.live.size;
  }

  /** Drops expired tokens. */
  sweep(now = Date.now()): void {
    for (const [t, expires] of this.live) if (expires < now) this.live.delete(t);
  }
}

/** The server's answer to an upgrade request, up to the blank line. */
export interface ResponseHead {
  /** HTTP status code, e.g. 101. */
  status: number;
  /** Header fields with lower-case names; repeated fields joined with ", ". */
  headers: HeaderMap;
  /** The head as text, status line to the last header line (without the blank line). */
  text: string;
  /** Offset in the input of the first byte after the blank line: frames (or a body) start there. */
  end: number;
}

/**
 * Parses the HTTP/1.1 response head at the start of `bytes` (RFC 9112 §4 status line, §5 field
 * lines). Returns null while the blank line that ends the head has not arrived; throws a
 * `HandshakeError` when the status line is malformed.
 */
export function parseResponseHead(bytes: Buffer): ResponseHead | null {
  const blank = bytes.indexOf('\r\n\r\n');
  if (blank < 0) return null;
  const text = bytes.subarray(0, blank).toString('latin1');
  const lines = text.split('\r\n');
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw new HandshakeError('malformed HTTP response');
  const headers: HeaderMap = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    // RFC 9110 §5.3: repeated field lines combine into one comma-separated value.
    headers[name] = prev === undefined ? value : `${String(prev)}, ${value}`;
  }
  return { status: Number(m[1]), headers, text, end: blank + 4 };
}

/** A client's verdict on the server's answer. */
export type UpgradeResponseCheck = { ok: true; protocol?: string; deflate?: DeflateParams } | { ok: false; status: number; reason: string };

/** Client side of §4.1: checks the server's response to our upgrade request. */
export function checkUpgradeResponse(
  status: number,
  headers: HeaderMap,
  key: string,
  offeredProtocols: readonly string[] = [],
  offeredDeflate?: DeflateOptions,
): UpgradeResponseCheck {
  // §4.1 item 1: "If the status code received from the server is not 101, the client handles the response per HTTP"
  if (status !== 101) return { ok: false, status, reason: `server answered ${status} instead of 101` };
  if (headerValue(headers, 'upgrade')?.trim().toLowerCase() !== 'websocket') {
    return { ok: false, status, reason: 'missing or invalid Upgrade header' };
  }
  if (!tokenList(headerValue(headers, 'connection')).some((t) => t.toLowerCase() === 'upgrade')) {
    return { ok: false, status, reason: 'missing or invalid Connection header' };
  }
  // §4.1 item 4: the Accept value must be base64(SHA-1(key + GUID))
  if (headerValue(headers, 'sec-websocket-accept')?.trim() !== computeAccept(key)) {
    return { ok: false, status, reason: 'invalid Sec-WebSocket-Accept' };
  }
  return checkNegotiation(status, headers, offeredProtocols, offeredDeflate);
}

/**
 * The client's check of what the server chose (extension, subprotocol): the same after a 101
 * (RFC 6455 §4.1) and after the 2xx that accepts an extended CONNECT (RFC 8441 §5).
 */
export function checkNegotiation(
  status: number,
  headers: HeaderMap,
  offeredProtocols: readonly string[] = [],
  offeredDeflate?: DeflateOptions,
): UpgradeResponseCheck {
  // §4.1 item 5: an extension "not present in the client's handshake" fails the connection.
  const extensions = headerValue(headers, 'sec-websocket-extensions');
  let deflate: DeflateParams | undefined;
  if (extensions) {
    if (offeredDeflate === undefined) return { ok: false, status, reason: 'server selected an extension that was not offered' };
    const checked = checkDeflateResponse(extensions, offeredDeflate);
    if (!checked.ok) return { ok: false, status, reason: checked.reason };
    deflate = checked.params;
  }
  const extra = deflate !== undefined ? { deflate } : {};
  // §4.1 item 6: a subprotocol "that was not present in the client's handshake" fails the connection.
  const protocol = headerValue(headers, 'sec-websocket-protocol')?.trim();
  if (protocol === undefined || protocol === '') return { ok: true, ...extra };
  if (!offeredProtocols.includes(protocol)) {
    return { ok: false, status, reason: `server selected subprotocol "${protocol}" that was not offered` };
  }
  return { ok: true, protocol, ...extra };
}
