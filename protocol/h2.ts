/**
 * WebSocket over HTTP/2 (RFC 8441): the opening handshake is an extended CONNECT on one h2
 * stream instead of an HTTP/1.1 Upgrade, and after it the stream carries the very frames RFC 6455
 * defines, masked as before. There is no Sec-WebSocket-Key or Accept (the stream cannot be a
 * confused HTTP/1.1 exchange); subprotocol, extensions and Origin keep their header fields. The
 * same `WebSocketConnection` runs over the stream, which is a Duplex like a socket: its half-close
 * is END_STREAM, and a connection dropped without a closing handshake resets the stream with CANCEL.
 */
import {
  connect as h2Connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
  type ServerHttp2Stream,
} from 'node:http2';
import { isIP } from 'node:net';
import { type AcceptSettings, acceptedConnection } from './accept.ts';
import { type ConnectOptions, connectionSettings } from './client.ts';
import { WebSocketConnection, type HandshakeInfo } from './connection.ts';
import { deflateOffer, type DeflateOptions, type DeflateParams } from './deflate.ts';
import { HandshakeError } from './errors.ts';
import { checkNegotiation, headerValue, negotiate, type HeaderMap, type UpgradeDecision, type UpgradeOptions } from './handshake.ts';

/**
 * What an accepted extended CONNECT reads of the server's options: the settings every accepted
 * connection takes (accept.ts) and the negotiation's. protocol/server.ts's `ServerOptions` has
 * every one of them; it is not imported, so that the server, which calls this module, is the
 * only one of the two to import the other.
 */
interface ConnectOptionsOfServer extends UpgradeOptions, AcceptSettings {
  recordHandshake?: boolean;
}

/** The settings an h2 server gives `node:http2` so that clients may open WebSockets on it (RFC 8441 §3). */
export const H2_WEBSOCKET_SETTINGS = { enableConnectProtocol: true } as const;

/**
 * RFC 8441 §4: decides whether an extended CONNECT is a WebSocket this server accepts, and how
 * to answer it (200 with the negotiated fields, or an error status). Pure: no stream here.
 */
export function validateExtendedConnect(headers: HeaderMap, options: UpgradeOptions = {}): UpgradeDecision {
  // §4: "A new pseudo-header field :protocol MAY be included on request HEADERS indicating the
  // desired protocol to be spoken on the tunnel created by CONNECT."
  if (headerValue(headers, ':method') !== 'CONNECT')
    return { ok: false, status: 405, reason: 'WebSocket over HTTP/2 requires CONNECT', headers: { allow: 'CONNECT' } };
  if (headerValue(headers, ':protocol')?.toLowerCase() !== 'websocket') return { ok: false, status: 400, reason: 'unsupported :protocol (only websocket)' };
  // §4: "On requests bearing the :protocol pseudo-header field, the :scheme and :path
  // pseudo-header fields of the target URI MUST also be included."
  if (!headerValue(headers, ':scheme') || !headerValue(headers, ':path'))
    return { ok: false, status: 400, reason: 'extended CONNECT without :scheme or :path' };
  // §5 keeps Sec-WebSocket-Version. RFC 6455 §4.2.2 answers a wrong one with 426, which needs an
  // Upgrade header HTTP/2 forbids (RFC 9113 §8.2.2): 400 with the supported version instead.
  if (headerValue(headers, 'sec-websocket-version')?.trim() !== '13') {
    return { ok: false, status: 400, reason: 'unsupported WebSocket version', headers: { 'sec-websocket-version': '13' } };
  }
  return negotiate({ method: 'CONNECT', url: headerValue(headers, ':path'), headers }, options, {});
}

/**
 * RFC 8441 §5: "RST exceptions are represented with the RST_STREAM frame with the CANCEL error
 * code". Node resets a stream destroyed without an error with NO_ERROR; a WebSocket dropped
 * without its closing handshake (timeout, missed pongs) resets with CANCEL instead.
 */
function cancelOnDestroy(stream: Http2Stream): void {
  const destroy = stream.destroy;
  stream.destroy = function (this: Http2Stream, err?: Error) {
    if (err === undefined && !this.closed && !this.destroyed) {
      this.close(constants.NGHTTP2_CANCEL);
      return this;
    }
    return destroy.call(this, err);
  };
}

/** The request's header fields as display lines (the demo shows them as it shows an HTTP/1.1 head). */
function headerLines(headers: HeaderMap | OutgoingHttpHeaders): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) lines.push(`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return lines;
}

/** What the server adapter reports when it refuses an extended CONNECT. */
export type RejectListener = (status: number, reason: string) => void;

/**
 * Server side: answers an extended CONNECT on `stream` — a 200 and a server-role connection over
 * the stream, or an error status with the reason as body (then null).
 */
export function acceptExtendedConnect(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  o: ConnectOptionsOfServer,
  onReject?: RejectListener,
): WebSocketConnection | null {
  const decision = validateExtendedConnect(headers as HeaderMap, o);
  if (!decision.ok) {
    onReject?.(decision.status, decision.reason);
    if (!stream.destroyed && !stream.headersSent) {
      stream.respond({ ':status': decision.status, 'content-type': 'text/plain; charset=utf-8', ...decision.headers });
      stream.end(`${decision.reason}\n`);
    }
    return null;
  }
  if (stream.destroyed) return null;
  const response: OutgoingHttpHeaders = { ':status': 200 };
  for (const [k, v] of Object.entries(decision.responseHeaders)) response[k.toLowerCase()] = v;
  stream.respond(response);
  cancelOnDestroy(stream);
  const conn = acceptedConnection(
    stream,
    o,
    decision,
    o.recordHandshake ? { handshake: { requestHeaders: headerLines(headers as HeaderMap), responseHeaders: headerLines(response).join('\r\n') } } : {},
  );
  return conn;
}

/** Whether an h2 stream's request is an extended CONNECT (the ones `acceptExtendedConnect` takes). */
export function isExtendedConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol'] !== undefined;
}

/** Sessions whose SETTINGS the engine watches; what their peer's last SETTINGS said about extended CONNECT. */
const watched = new WeakSet<ClientHttp2Session>();
const connectAllowed = new WeakMap<ClientHttp2Session, boolean>();

/** Records the peer's SETTINGS of a session, so a WebSocket opened on it later knows whether it may. */
function watchSettings(session: ClientHttp2Session): void {
  if (watched.has(session)) return;
  watched.add(session);
  session.on('remoteSettings', (s) => connectAllowed.set(session, s.enableConnectProtocol === true));
}

/**
 * An h2 session to `origin` (`https:` over TLS with ALPN h2, `http:` cleartext with prior
 * knowledge), ready to carry WebSockets (RFC 8441) beside other streams.
 */
export function openH2Session(
  origin: string,
  options: Pick<SecureClientSessionOptions, 'ca' | 'rejectUnauthorized' | 'servername' | 'createConnection'> = {},
): ClientHttp2Session {
  const host = new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1');
  // RFC 6066 §3: SNI carries host names only, never an IP literal.
  const sni = isIP(host) === 0 ? { servername: host } : {};
  const session = h2Connect(origin, { ...sni, ...options });
  watchSettings(session);
  return session;
}

/** Settings of `connectH2()`: those of `connect()` that apply over HTTP/2, and an optional session to share. */
export interface ConnectH2Options
  extends Pick<
    ConnectOptions,
    | 'protocols'
    | 'origin'
    | 'maxMessageBytes'
    | 'maxBufferedBytes'
    | 'handshakeTimeoutMs'
    | 'closeTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'maxMissedPongs'
    | 'onFrame'
    | 'perMessageDeflate'
  > {
  /** An open session to the server: the WebSocket becomes one more stream on it. Default: a session of its own, closed with it. */
  session?: ClientHttp2Session;
  /** Extra request header fields (names are lower-cased, as HTTP/2 requires). */
  headers?: Record<string, string>;
  /** https/wss only, for a session of its own: a certificate to trust. */
  ca?: string;
}

/** A ws:// or wss:// URL, or the handshake error that refuses it. */
function wsTarget(url: string): URL | HandshakeError {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return new HandshakeError(`invalid URL: ${url}`);
  }
  if (target.protocol !== 'wss:' && target.protocol !== 'ws:') return new HandshakeError(`unsupported scheme ${target.protocol}`);
  return target;
}

/**
 * RFC 8441 §4: the extended CONNECT's header fields — `:protocol websocket`, the target as
 * `:scheme`/`:path`/`:authority`, and the RFC 6455 fields that stay (version, subprotocols,
 * extensions, Origin), then the caller's own, lower-cased as HTTP/2 requires.
 */
function extendedConnect(target: URL, scheme: string, options: ConnectH2Options, deflateWanted: DeflateOptions | undefined): OutgoingHttpHeaders {
  const offered = options.protocols ?? [];
  const request: OutgoingHttpHeaders = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': scheme,
    ':path': `${target.pathname}${target.search}`,
    ':authority': target.host,
    'sec-websocket-version': '13',
  };
  if (offered.length > 0) request['sec-websocket-protocol'] = offered.join(', ');
  if (deflateWanted) request['sec-websocket-extensions'] = deflateOffer(deflateWanted);
  if (options.origin !== undefined) request.origin = options.origin;
  for (const [k, v] of Object.entries(options.headers ?? {})) request[k.toLowerCase()] = v;
  return request;
}

/** The client-role connection on an accepted stream, with what the handshake agreed and the caller's settings. */
function clientOnStream(
  s: ClientHttp2Stream,
  handshake: HandshakeInfo,
  agreed: { protocol?: string; deflate?: DeflateParams },
  deflateWanted: DeflateOptions | undefined,
  options: ConnectH2Options,
): WebSocketConnection {
  return new WebSocketConnection(s, {
    role: 'client',
    handshake,
    ...(agreed.protocol !== undefined && { protocol: agreed.protocol }),
    ...(agreed.deflate !== undefined && { deflate: agreed.deflate }),
    ...(deflateWanted !== undefined && { deflateOptions: deflateWanted }),
    ...connectionSettings(options),
  });
}

/**
 * Opens a WebSocket over HTTP/2 to `url` (wss:// over TLS with ALPN h2; ws:// is h2c with prior
 * knowledge, which no browser does): waits for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL,
 * sends the extended CONNECT and resolves with a client-role connection on that stream.
 */
export function connectH2(url: string, options: ConnectH2Options = {}): Promise<WebSocketConnection> {
  return new Promise((resolve, reject) => {
    const target = wsTarget(url);
    if (target instanceof HandshakeError) {
      reject(target);
      return;
    }
    const scheme = target.protocol === 'wss:' ? 'https' : 'http';
    const owned = options.session === undefined;
    const session = options.session ?? openH2Session(`${scheme}://${target.host}`, options.ca !== undefined ? { ca: options.ca } : {});
    watchSettings(session);
    let stream: ClientHttp2Stream | undefined;
    let settled = false;
    const timer = setTimeout(() => fail(new HandshakeError('handshake timed out')), options.handshakeTimeoutMs ?? 10_000);
    const onSessionError = (e: Error) => fail(e);
    const onSessionClose = () => fail(new HandshakeError('HTTP/2 session closed during the handshake'));
    session.on('error', onSessionError);
    session.on('close', onSessionClose);
    const cleanup = (): void => {
      clearTimeout(timer);
      session.off('error', onSessionError);
      session.off('close', onSessionClose);
      session.off('remoteSettings', onSettings);
    };
    function fail(err: Error): void {
      if (settled) return;
      settled = true;
      cleanup();
      stream?.close(constants.NGHTTP2_CANCEL);
      if (owned) session.destroy();
      reject(err);
    }

    const offered = options.protocols ?? [];
    const pmd = options.perMessageDeflate;
    const deflateWanted: DeflateOptions | undefined = pmd ? (pmd === true ? {} : pmd) : undefined;
    const request = extendedConnect(target, scheme, options, deflateWanted);

    const open = (): void => {
      // RFC 8441 §3: a client uses :protocol only once the server sent
      // SETTINGS_ENABLE_CONNECT_PROTOCOL with the value 1.
      if (connectAllowed.get(session) !== true && session.remoteSettings.enableConnectProtocol !== true) {
        fail(new HandshakeError('the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): no WebSocket over this HTTP/2 connection'));
        return;
      }
      session.off('remoteSettings', onSettings);
      const s = session.request(request);
      stream = s;
      s.on('error', (e: Error) => fail(e));
      s.once('response', (headers) => {
        const status = Number(headers[':status']);
        // §5: the server accepts with a 2xx; anything else is an ordinary HTTP answer.
        if (status < 200 || status > 299) {
          fail(new HandshakeError(`server answered ${status} instead of 200`, status));
          return;
        }
        const check = checkNegotiation(status, headers as HeaderMap, offered, deflateWanted);
        if (!check.ok) {
          fail(new HandshakeError(check.reason, status));
          return;
        }
        settled = true;
        cleanup();
        s.removeAllListeners('error');
        cancelOnDestroy(s);
        if (owned) s.once('close', () => session.close());
        const handshake: HandshakeInfo = { requestHeaders: headerLines(request), responseHeaders: headerLines(headers as HeaderMap).join('\r\n') };
        resolve(clientOnStream(s, handshake, check, deflateWanted, options));
      });
    };
    function onSettings(): void {
      open();
    }
    // The server's SETTINGS may still be on their way: decide when they are here.
    if (connectAllowed.has(session) || session.remoteSettings.enableConnectProtocol === true) open();
    else session.once('remoteSettings', onSettings);
  });
}
