/**
 * Client adapter: `connect()` opens a TCP (ws://) or TLS (wss://) connection, performs the
 * opening handshake of RFC 6455 §4.1 and resolves with a client-role connection.
 */
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type HandshakeInfo } from './connection.ts';
import type { FrameObserver } from './core.ts';
import { deflateOffer, type DeflateOptions } from './deflate.ts';
import { HandshakeError } from './errors.ts';
import { checkUpgradeResponse, makeKey, parseResponseHead, type ResponseHead } from './handshake.ts';

/** How long a client waits for its opening handshake to complete by default, ms. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Settings of `connect()`. */
export interface ConnectOptions {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
  /** Value of the Origin header. */
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Largest incoming message in bytes (1009 above). Default 64 MiB. */
  maxMessageBytes?: number;
  /** Cap on queued outgoing bytes. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Reject if the handshake does not complete within this time. Default `HANDSHAKE_TIMEOUT_MS`. */
  handshakeTimeoutMs?: number;
  /** Wait this long for the peer during the closing handshake. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** Ping every this many ms (0 = off). */
  heartbeatIntervalMs?: number;
  /** Drop the server after this many unanswered pings. Default 2. */
  maxMissedPongs?: number;
  /** Raw frame observer. */
  onFrame?: FrameObserver;
  /** Offer permessage-deflate (RFC 7692) with these settings; absent or false: no offer. */
  perMessageDeflate?: boolean | DeflateOptions;
  /**
   * How the connection reaches a plain TCP socket: 'handle' (the default) reads into one reused
   * buffer and writes to the TCP handle below Node's stream layer, as the server does
   * (handle-io.ts); 'stream' keeps Node's stream path. TLS sockets always keep the stream path.
   */
  socketIo?: 'handle' | 'stream';
  /** wss:// only: TLS settings such as `ca` (trust a private certificate) or `rejectUnauthorized`. */
  tls?: Pick<TlsOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername' | 'minVersion'>;
}

/** Largest response head we accept. */
const MAX_HEAD = 16 * 1024;

/** Where a ws:// or wss:// URL points: the host to connect to (brackets off an IPv6 literal), its port, whether over TLS. */
interface Target {
  url: URL;
  secure: boolean;
  host: string;
  port: number;
}

/** The target of `url`; a HandshakeError for a URL that does not parse or is not ws:// or wss://. */
function targetOf(url: string): Target {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new HandshakeError(`invalid URL: ${url}`);
  }
  const secure = target.protocol === 'wss:';
  if (!secure && target.protocol !== 'ws:') throw new HandshakeError(`unsupported scheme ${target.protocol}`);
  return { url: target, secure, host: target.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(target.port || (secure ? 443 : 80)) };
}

/** What an opening handshake offers and adds: subprotocols, permessage-deflate, an Origin, headers of the caller's. */
export interface UpgradeOffers {
  protocols?: string[];
  deflate?: DeflateOptions | undefined;
  origin?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/**
 * RFC 6455 §4.1: the opening handshake's request lines (no blank line after them) for `target`
 * with `key`, the offers after the required fields and the caller's headers last.
 */
export function upgradeRequestLines(target: URL, key: string, offers: UpgradeOffers = {}): string[] {
  const offered = offers.protocols ?? [];
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (offered.length > 0) lines.push(`Sec-WebSocket-Protocol: ${offered.join(', ')}`);
  if (offers.deflate) lines.push(`Sec-WebSocket-Extensions: ${deflateOffer(offers.deflate)}`);
  if (offers.origin !== undefined) lines.push(`Origin: ${offers.origin}`);
  for (const [k, v] of Object.entries(offers.headers ?? {})) lines.push(`${k}: ${v}`);
  return lines;
}

/** Opens a WebSocket connection to `url` (ws:// or wss://). */
export function connect(url: string, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  return new Promise((resolve, reject) => {
    let target: Target;
    try {
      target = targetOf(url);
    } catch (e) {
      reject(e);
      return;
    }
    const { host, port } = target;
    // RFC 6066 §3: SNI carries host names only, never an IP literal.
    const sni = isIP(host) === 0 ? { servername: host } : {};
    const socket: Duplex = target.secure ? tlsConnect({ host, port, ...sni, ...options.tls }) : netConnect({ host, port });

    const key = makeKey();
    const offered = options.protocols ?? [];
    const pmd = options.perMessageDeflate;
    const deflateWanted: DeflateOptions | undefined = pmd ? (pmd === true ? {} : pmd) : undefined;
    const requestLines = upgradeRequestLines(target.url, key, { protocols: offered, deflate: deflateWanted, origin: options.origin, headers: options.headers });
    socket.write(`${requestLines.join('\r\n')}\r\n\r\n`);

    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => fail(new HandshakeError('handshake timed out')), options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);

    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => fail(new HandshakeError('connection closed during the handshake'));
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let head: ResponseHead | null;
      try {
        head = parseResponseHead(received);
      } catch (e) {
        fail(e as Error);
        return;
      }
      if (head === null) {
        if (received.length > MAX_HEAD) fail(new HandshakeError('response head too large'));
        return;
      }
      const { status, headers, end } = head;
      const check = checkUpgradeResponse(status, headers, key, offered, deflateWanted);
      if (!check.ok) {
        const body = status !== 101 ? received.subarray(end).toString('utf8').trim() : '';
        fail(new HandshakeError(`${check.reason}${body ? ` (${body.slice(0, 200)})` : ''}`, status));
        return;
      }
      settled = true;
      cleanup();
      const handshake: HandshakeInfo = { requestHeaders: requestLines, responseHeaders: `${head.text}\r\n\r\n` };
      const conn = new WebSocketConnection(socket, {
        role: 'client',
        head: received.subarray(end),
        handshake,
        handleIo: options.socketIo !== 'stream',
        ...(check.protocol !== undefined && { protocol: check.protocol }),
        ...(check.deflate !== undefined && { deflate: check.deflate }),
        ...(deflateWanted !== undefined && { deflateOptions: deflateWanted }),
        ...connectionSettings(options),
      });
      resolve(conn);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** The settings of `connect()` (and `connectH2()`) that the connection itself takes, those given only. */
export function connectionSettings(
  o: Pick<ConnectOptions, 'maxMessageBytes' | 'maxBufferedBytes' | 'closeTimeoutMs' | 'heartbeatIntervalMs' | 'maxMissedPongs' | 'onFrame'>,
) {
  return {
    ...(o.maxMessageBytes !== undefined && { maxMessageBytes: o.maxMessageBytes }),
    ...(o.maxBufferedBytes !== undefined && { maxBufferedBytes: o.maxBufferedBytes }),
    ...(o.closeTimeoutMs !== undefined && { closeTimeoutMs: o.closeTimeoutMs }),
    ...(o.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: o.heartbeatIntervalMs }),
    ...(o.maxMissedPongs !== undefined && { maxMissedPongs: o.maxMissedPongs }),
    ...(o.onFrame !== undefined && { onFrame: o.onFrame }),
  };
}
