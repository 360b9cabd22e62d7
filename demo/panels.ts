/**
 * The lower panels' WebSocket endpoints, on the page's port: `/secure` (one-time tokens),
 * `/app-heartbeat` (the application's own heartbeat) and `/peer` (the helper peer). Over h2 the
 * pane's `/ws` arrives here too, as an extended CONNECT stream (RFC 8441).
 */
import type { DemoContext } from './context.ts';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { abortHandshake, TokenStore, WebSocketServer, type HeartbeatEvent, type WebSocketConnection } from '../protocol/index.ts';
import { DemoError, hostAllowed, hostOf, refusedRequest } from './page-http.ts';
import type { WebSocketPane } from './pane.ts';

/** Most unspent tokens at once; past it `/token` answers 503 until some are spent or expire. */
const MAX_UNSPENT_TOKENS = 1000;

/** Runs a WebSocket handshake with an endpoint's server, whichever way the request came. */
type Accept = (wss: WebSocketServer, cb: (conn: WebSocketConnection) => void) => void;

/** The endpoints' servers, the tokens, and how each socket arrived. */
export class PanelEndpoints {
  readonly tokens: TokenStore;
  private readonly sweeper: NodeJS.Timeout;
  private readonly secureWss: WebSocketServer;
  private readonly appWss: WebSocketServer;
  private readonly peerWss: WebSocketServer;
  /** Pages whose application heartbeat goes unanswered, to show the page going "offline". */
  private readonly silentClients = new Set<string>();
  /** How each WebSocket on the page's port arrived (h2 mode), by path: what a test checks. */
  readonly socketsVia = new Map<string, number>();

  constructor(
    private readonly ctx: DemoContext,
    private readonly pane: WebSocketPane,
    private readonly sessionIds: WeakMap<Http2Session, number>,
  ) {
    const { settings, pageOrigin } = ctx;
    this.tokens = new TokenStore({ ttlMs: settings.tokenTtlMs });
    // Unspent tokens would otherwise stay until someone tries them.
    this.sweeper = setInterval(() => this.tokens.sweep(), Math.min(settings.tokenTtlMs, 60_000));
    this.sweeper.unref();
    this.secureWss = new WebSocketServer({ allowOrigins: [pageOrigin], tokens: this.tokens });
    this.secureWss.on('rejected', (status: number, reason: string, req: IncomingMessage | IncomingHttpHeaders) => {
      const request = refusedRequest(req).map((l) => l.replace(/(token=)[\w-]+/, '$1…'));
      ctx.inspector.inspect('security', { endpoint: '/secure', status, reason, request });
    });
    this.appWss = new WebSocketServer({ allowOrigins: [pageOrigin] });
    this.peerWss = new WebSocketServer({ heartbeatIntervalMs: settings.heartbeatIntervalMs, maxMissedPongs: settings.maxMissedPongs });
  }

  /** Issues a one-time token for `/secure`, or throws 503 while too many are unspent. */
  issueToken(): string {
    if (this.tokens.size >= MAX_UNSPENT_TOKENS) this.tokens.sweep();
    if (this.tokens.size >= MAX_UNSPENT_TOKENS) throw new DemoError(503, `${MAX_UNSPENT_TOKENS} tokens are unspent; try again when some expire`);
    return this.tokens.issue();
  }

  /** Makes the application heartbeat of a page go unanswered, or answered again. */
  setSilent(client: string, silent: boolean): void {
    if (silent) this.silentClients.add(client);
    else this.silentClients.delete(client);
  }

  /**
   * A WebSocket on the page's port, whichever way it came: `accept` runs the handshake with the
   * endpoint's server (an HTTP/1.1 upgrade or an h2 extended CONNECT), `refuse` answers a status.
   */
  private openSocket(
    url: URL,
    origin: string | undefined,
    accept: Accept,
    refuse: (status: number, reason: string) => void,
    via: string,
    connection = 0,
  ): void {
    const key = `${via} ${url.pathname}`;
    this.socketsVia.set(key, (this.socketsVia.get(key) ?? 0) + 1);
    if (url.pathname === '/ws' && this.ctx.tls) {
      this.pane.acceptOnPage(url, accept, via, connection);
    } else if (url.pathname === '/secure') {
      accept(this.secureWss, (conn) => {
        conn.on('error', () => {});
        conn.send('token accepted: this connection is open; the token is now spent');
      });
    } else if (url.pathname === '/app-heartbeat') {
      const client = url.searchParams.get('client') ?? '';
      accept(this.appWss, (conn) => {
        conn.on('error', () => {});
        conn.on('message', (data: Buffer) => {
          if (data.toString() === 'heartbeat' && !this.silentClients.has(client)) conn.send('heartbeat-ack');
        });
      });
    } else if (url.pathname === '/peer') {
      // The helper peer sends no Origin; a page from elsewhere does.
      if (origin !== undefined && origin !== this.ctx.pageOrigin) {
        refuse(403, 'cross-origin request refused');
        return;
      }
      accept(this.peerWss, (conn) => this.servePeer(conn));
    } else {
      refuse(404, 'no WebSocket endpoint here');
    }
  }

  /** The helper peer's connection: its heartbeat shown from the server's side. */
  private servePeer(conn: WebSocketConnection): void {
    const { inspect } = this.ctx.inspector;
    conn.on('error', () => {});
    inspect('peer', { side: 'server', type: 'open', at: Date.now() });
    conn.on('heartbeat', (e: HeartbeatEvent) => inspect('peer', { side: 'server', ...e, at: Date.now() }));
    conn.once('close', (code: number, reason: string) => inspect('peer', { side: 'server', type: 'close', code, reason, at: Date.now() }));
  }

  /** Takes the page server's HTTP/1.1 upgrades and h2 extended CONNECTs. */
  attach(page: Server): void {
    page.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!hostAllowed(req.headers.host, this.ctx.pagePort, this.ctx.hostNames)) {
        abortHandshake(socket, 421, 'Host is not this server');
        return;
      }
      this.openSocket(
        new URL(req.url ?? '/', 'http://x'),
        req.headers.origin,
        (wss, cb) => wss.handleUpgrade(req, socket, head, cb),
        (status, reason) => abortHandshake(socket, status, reason),
        'HTTP/1.1 Upgrade',
      );
    });
    // RFC 8441 §4: a WebSocket over h2 is a CONNECT stream with `:protocol websocket`. Node answers
    // CONNECT 405 when a 'request' listener is set and no 'connect' one takes it (nodejs/node#36977).
    page.on('connect', (req: Http2ServerRequest) => this.onConnect(req));
  }

  private onConnect(req: Http2ServerRequest): void {
    const stream: ServerHttp2Stream | undefined = req.stream;
    if (stream === undefined) {
      // An HTTP/1.1 CONNECT on the fallback: the demo is no proxy.
      (req as unknown as { socket: Duplex }).socket.destroy();
      return;
    }
    const refuse = (status: number, reason: string) => {
      if (stream.destroyed || stream.headersSent) return;
      stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8' });
      stream.end(`${reason}\n`);
    };
    if (req.headers[':protocol'] !== 'websocket') {
      refuse(501, 'only extended CONNECT for websocket');
      return;
    }
    if (!hostAllowed(hostOf(req), this.ctx.pagePort, this.ctx.hostNames)) {
      refuse(421, 'Host is not this server');
      return;
    }
    const url = new URL(req.headers[':path'] ?? '/', 'http://x');
    this.openSocket(
      url,
      req.headers.origin,
      (wss, cb) => {
        // Metered from before the engine reads it: both listen in the same tick, neither misses a chunk.
        if (wss === this.pane.wss) this.pane.meterStream(stream);
        wss.handleStream(stream, req.headers, cb);
      },
      refuse,
      'h2 extended CONNECT',
      stream.session ? (this.sessionIds.get(stream.session) ?? 0) : 0,
    );
  }

  /** Stops the token sweeper. */
  stopSweeper(): void {
    clearInterval(this.sweeper);
  }

  /** The endpoints' WebSocket servers, to close. */
  servers(): WebSocketServer[] {
    return [this.secureWss, this.appWss, this.peerWss];
  }
}
