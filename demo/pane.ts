/**
 * The WebSocket pane: the lab's engine on its own port with its own meter, echoing what the page
 * sends and showing every frame to the page's inspector. Over h2 the pane's WebSockets arrive
 * instead as extended CONNECT streams of the page's connection (see panels.ts).
 */
import type { DemoContext } from './context.ts';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WireMeter } from '../metrics/wire.ts';
import { abortHandshake, WebSocketServer, type HeartbeatEvent, type WebSocketConnection } from '../protocol/index.ts';
import { frameForPage } from './frames.ts';
import { clientParam, hostAllowed, listen, redactHeaders, refusedRequest } from './page-http.ts';

/** The pane's server, its connections by page, and what it counts. */
export class WebSocketPane {
  private readonly meter = new WireMeter();
  /** Requests to the pane's port (and over h2 its streams), upgrades or not. */
  private requests = 0;
  // The pane's port and its links' relay ports: a relay passes the page's Host (with its own port) on unchanged.
  private readonly ports: number[] = [];
  private readonly http: Server;
  /** Each open connection's page. */
  private readonly clients = new Map<WebSocketConnection, string>();
  /** Over h2: the bytes of the pane's WebSocket streams, both ways (frames, without h2's framing and TLS). */
  private readonly streamBytes = { read: 0, written: 0 };
  private readonly handshakes = new Map<string, { request: string[]; response: string }>();
  readonly wss: WebSocketServer;

  constructor(private readonly ctx: DemoContext) {
    const { settings } = ctx;
    this.http = createServer((req, res) => {
      this.requests++;
      if (!this.hostAllowed(req.headers.host)) {
        res.writeHead(421, { 'Content-Type': 'text/plain' }).end('Host is not this server\n');
        return;
      }
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end('WebSocket only\n');
    });
    this.http.on('connection', (s: Socket) => this.meter.track(s));
    this.wss = new WebSocketServer({
      allowOrigins: [ctx.pageOrigin],
      recordHandshake: true,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      maxMissedPongs: settings.maxMissedPongs,
      // Every message compressed (threshold 0), each on its own: the inspector shows RSV1 and inflates any frame.
      ...(settings.deflate && { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 } }),
    });
    ctx.inspector.onReadersChanged = (client) => this.syncObserver(client);
    this.wss.on('rejected', (status: number, reason: string, req: IncomingMessage | IncomingHttpHeaders) => {
      ctx.inspector.inspect('security', { endpoint: 'websocket pane', status, reason, request: refusedRequest(req) });
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.requests++;
      if (!this.hostAllowed(req.headers.host)) {
        abortHandshake(socket, 421, 'Host is not this server');
        return;
      }
      const client = this.clientOf(new URL(req.url ?? '/', 'http://x'));
      this.wss.handleUpgrade(req, socket, head, (conn) => this.serve(conn, client, 'HTTP/1.1 Upgrade'));
    });
  }

  /** Binds the pane's port. */
  async listen(): Promise<number> {
    const port = await listen(this.http, 0, this.ctx.settings.host);
    this.ports.push(port);
    return port;
  }

  /** Lets a Host header name a link relay's port in front of the pane. */
  allowRelayPort(port: number): void {
    this.ports.push(port);
  }

  private hostAllowed(h: string | undefined): boolean {
    return this.ports.some((port) => hostAllowed(h, port, this.ctx.hostNames));
  }

  /**
   * The frame observer is installed only on a connection whose page has an inspector open: an
   * observer makes the parser copy every chunk, which nobody should pay for unobserved.
   */
  private syncObserver(client: string): void {
    const watched = this.ctx.inspector.watched(client);
    for (const [conn, c] of this.clients) {
      if (c !== client) continue;
      if (!watched) {
        conn.onFrame = undefined;
        continue;
      }
      // Whether a compressed message is under way, per direction: its continuation frames carry no RSV1 of their own.
      const midCompressed = { in: false, out: false };
      conn.onFrame = (dir, bytes) => {
        const b0 = bytes[0]!;
        const opcode = b0 & 0x0f;
        const fin = (b0 & 0x80) !== 0;
        const continues = opcode === 0 && midCompressed[dir];
        if (opcode === 0x1 || opcode === 0x2) midCompressed[dir] = !fin && (b0 & 0x40) !== 0;
        else if (opcode === 0 && fin) midCompressed[dir] = false;
        this.describeToPage(client, dir, bytes, continues);
      };
    }
  }

  private describeToPage(client: string, dir: 'in' | 'out', bytes: Buffer, inCompressedMessage: boolean): void {
    try {
      this.ctx.inspector.inspect('frame', frameForPage(bytes, dir, inCompressedMessage), client);
    } catch {
      // A description can only fail on a cut-short header, which the engine never hands out.
    }
  }

  private clientOf(url: URL): string {
    try {
      return clientParam(url);
    } catch {
      return `anon-${this.requests}`;
    }
  }

  /** The pane's WebSocket, accepted: `via` says whether it came as an HTTP/1.1 upgrade or an h2 stream (RFC 8441). */
  private serve(conn: WebSocketConnection, client: string, via: string, connection = 0): void {
    const { inspect } = this.ctx.inspector;
    this.clients.set(conn, client);
    this.syncObserver(client);
    const hs = { request: redactHeaders(conn.handshake?.requestHeaders ?? []), response: conn.handshake?.responseHeaders ?? '', via, connection };
    this.handshakes.set(client, hs);
    inspect('handshake', hs, client);
    conn.on('heartbeat', (e: HeartbeatEvent) => inspect('heartbeat', { who: 'browser', ...e, at: Date.now() }, client));
    conn.on('message', (data: Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
    conn.on('error', () => {});
    conn.once('close', (code: number, reason: string) => {
      this.clients.delete(conn);
      inspect('wsclose', { code, reason }, client);
    });
  }

  /**
   * Over h2: a pane WebSocket arriving on the page's port as an extended CONNECT; `accept` runs
   * the handshake with the pane's server.
   */
  acceptOnPage(url: URL, accept: (wss: WebSocketServer, cb: (conn: WebSocketConnection) => void) => void, via: string, connection: number): void {
    this.requests++;
    const client = this.clientOf(url);
    accept(this.wss, (conn) => this.serve(conn, client, via, connection));
  }

  /** Over h2: counts a pane stream's bytes both ways. */
  meterStream(stream: Duplex): void {
    const bytes = this.streamBytes;
    stream.on('data', (c: Buffer) => {
      bytes.read += c.length;
    });
    const write = stream.write;
    stream.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
      bytes.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length;
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }

  /** Shows a page that opens its inspector the handshake of its open WebSocket. */
  replayHandshake(client: string): void {
    const hs = this.handshakes.get(client);
    if (hs) this.ctx.inspector.inspect('handshake', hs, client);
  }

  /** Sends a published message to every open pane. */
  broadcast(data: string): void {
    for (const conn of this.clients.keys()) conn.send(data);
  }

  /** The open WebSocket of a page, if it has one. */
  connectionOf(client: string): WebSocketConnection | undefined {
    return [...this.clients].find(([, c]) => c === client)?.[0];
  }

  /** The pane's counters, as `/stats` reports them beside the HTTP transports'. */
  stats() {
    return {
      connections: this.meter.accepted,
      connectionsOpen: this.meter.open,
      requests: this.requests,
      emptyResponses: 0,
      ...this.meter.totals(),
      // Over h2 the pane's WebSockets are streams of the page's connection: their own bytes.
      ...(this.ctx.tls && { bytesRead: this.streamBytes.read, bytesWritten: this.streamBytes.written }),
      subscribers: this.clients.size,
    };
  }

  /** Closes the pane's port and every connection left on it. */
  closePort(): Promise<void> {
    return new Promise<void>((r) => {
      this.http.close(() => r());
      this.http.closeAllConnections();
    });
  }
}
