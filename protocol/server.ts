/**
 * Server adapter: accepts WebSocket upgrades on an existing `http.Server` (or through
 * `handleUpgrade` for callers that route upgrades themselves) and hands out connections.
 *
 * Handshake timeouts — what covers what:
 * - A client that never finishes its request head is node:http's business: the `'upgrade'`
 *   event only fires once the head is complete, and until then `server.headersTimeout`
 *   (default 60 s, checked every `connectionsCheckingInterval`) and `requestTimeout` apply.
 * - `handshakeTimeoutMs` adds a tighter bound of our own: every new TCP connection on the
 *   attached server must produce a request or an upgrade within that time or it is destroyed.
 *   It only applies when set, because it affects all HTTP traffic on that server.
 * - After the upgrade, the 101 answer is written synchronously; dead peers are then found by
 *   the heartbeat (`heartbeatIntervalMs`, `maxMissedPongs`).
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { type WebSocketConnection, whenGone } from './connection.ts';
import { validateUpgradeRequest, type UpgradeOptions } from './handshake.ts';
import { acceptExtendedConnect } from './h2.ts';
import { acceptedConnection } from './accept.ts';
import { CloseCode } from './close.ts';

/** Settings of a `WebSocketServer`. */
export interface ServerOptions extends UpgradeOptions {
  /** HTTP server to attach to (its `'upgrade'` event). Omit and call `handleUpgrade` yourself. */
  server?: Server;
  /** Accept upgrades only on this path (query string ignored). Default: any path. */
  path?: string;
  /** Largest incoming message in bytes (1009 above). Default 64 MiB. */
  maxMessageBytes?: number;
  /** Cap on bytes queued per connection before it is dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Stop reading a connection while more than this many bytes wait to be sent (0 = never). Default 1 MiB. */
  pauseReadingAboveBytes?: number;
  /** Ping every this many ms (0 = off). */
  heartbeatIntervalMs?: number;
  /** Drop a client after this many unanswered pings. Default 2. */
  maxMissedPongs?: number;
  /** Destroy TCP connections on `server` that send no complete request head within this time. */
  handshakeTimeoutMs?: number;
  /** Wait this long for the peer during the closing handshake. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** Keep each connection's raw handshake text in `conn.handshake` (for display; costs memory per connection). */
  recordHandshake?: boolean;
  /**
   * `'handle'` (default): plain TCP sockets are read and written below Node's stream layer
   * (handle-io.ts), cheaper per message; `'stream'`: every socket through `net.Socket`'s streams.
   * TLS sockets, and any socket the handle path cannot take, always use the stream path.
   */
  socketIo?: 'handle' | 'stream';
  /** Raw frame observer installed on every connection. */
  onFrame?: (conn: WebSocketConnection, dir: 'in' | 'out', bytes: Buffer) => void;
}

/** Writes a complete HTTP error response and closes the socket. */
export function abortHandshake(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** The request head as sent: request line then `Name: value` lines. */
export function rawRequestLines(req: IncomingMessage): string[] {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return lines;
}

/** Events: `'connection' (conn, req)`, `'rejected' (status, reason, req)` (over HTTP/2: the request's header fields for `req`). */
export class WebSocketServer extends EventEmitter {
  /** Live connections. */
  readonly clients = new Set<WebSocketConnection>();
  private readonly options: ServerOptions;
  private readonly onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  private readonly onTcpConnection: ((socket: Socket) => void) | undefined;
  private readonly onRequest: ((req: IncomingMessage) => void) | undefined;
  private readonly pending = new Map<Duplex, NodeJS.Timeout>();

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    const server = options.server;
    if (!server) return;
    this.onUpgrade = (req, socket, head) => {
      this.clearPending(socket);
      if (!this.pathMatches(req)) {
        // Leave it to another upgrade handler on the same server, if there is one.
        if (server.listenerCount('upgrade') <= 1) abortHandshake(socket, 404, 'no WebSocket endpoint here');
        return;
      }
      this.handleUpgrade(req, socket, head, (conn) => this.emit('connection', conn, req));
    };
    server.on('upgrade', this.onUpgrade);
    const timeout = options.handshakeTimeoutMs;
    if (timeout !== undefined && timeout > 0) {
      this.onTcpConnection = (socket) => {
        const timer = setTimeout(() => {
          this.pending.delete(socket);
          socket.destroy();
        }, timeout);
        timer.unref();
        this.pending.set(socket, timer);
        socket.once('close', () => this.clearPending(socket));
      };
      this.onRequest = (req) => this.clearPending(req.socket);
      server.on('connection', this.onTcpConnection);
      server.on('request', this.onRequest);
    }
  }

  /**
   * Completes (or refuses, with an HTTP error response) the upgrade of `req`. On success the
   * 101 response is written and `cb` gets the new connection.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (conn: WebSocketConnection, req: IncomingMessage) => void): void {
    const o = this.options;
    const decision = validateUpgradeRequest(req, o);
    if (!decision.ok) {
      this.emit('rejected', decision.status, decision.reason, req);
      abortHandshake(socket, decision.status, decision.reason, decision.headers);
      return;
    }
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const headerLines = Object.entries(decision.responseHeaders).map(([k, v]) => `${k}: ${v}`);
    const response = `HTTP/1.1 101 Switching Protocols\r\n${headerLines.join('\r\n')}\r\n\r\n`;
    socket.write(response);
    const conn = acceptedConnection(socket, o, decision, {
      head,
      handleIo: o.socketIo !== 'stream',
      ...(o.recordHandshake && { handshake: { requestHeaders: rawRequestLines(req), responseHeaders: response } }),
    });
    this.clients.add(conn);
    // Not a 'close' listener: the first one of those ends the hold on early events (see connection.ts).
    whenGone(conn, () => this.clients.delete(conn));
    cb(conn, req);
  }

  /**
   * RFC 8441: completes (or refuses, with an HTTP/2 error status) an extended CONNECT on an h2
   * stream; on success the stream answers 200 and `cb` gets a connection running over it.
   * The h2 server must advertise `H2_WEBSOCKET_SETTINGS` and route CONNECT streams here from
   * its 'stream' event.
   */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, cb: (conn: WebSocketConnection) => void): void {
    const conn = acceptExtendedConnect(stream, headers, this.options, (status, reason) => this.emit('rejected', status, reason, headers));
    if (conn === null) return;
    this.clients.add(conn);
    whenGone(conn, () => this.clients.delete(conn));
    cb(conn);
  }

  /** Closes every connection with 1001 ("going away") and detaches from the HTTP server. */
  async close(): Promise<void> {
    const server = this.options.server;
    if (server) {
      if (this.onUpgrade) server.off('upgrade', this.onUpgrade);
      if (this.onTcpConnection) server.off('connection', this.onTcpConnection);
      if (this.onRequest) server.off('request', this.onRequest);
    }
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    const closing = [...this.clients].map(
      (conn) =>
        new Promise<void>((resolve) => {
          conn.once('close', () => resolve());
          conn.close(CloseCode.GOING_AWAY, 'server shutting down');
        }),
    );
    await Promise.all(closing);
  }

  private pathMatches(req: IncomingMessage): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return (q < 0 ? url : url.slice(0, q)) === path;
  }

  private clearPending(socket: Duplex): void {
    const timer = this.pending.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.pending.delete(socket);
  }
}
