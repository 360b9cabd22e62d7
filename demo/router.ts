/** The page server's requests: the page's files, the forwarded transports (h2), and the demo's endpoints. */
import type { DemoContext } from './context.ts';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloseCode, connect, connectH2 } from '../protocol/index.ts';
import type { TransportServer } from '../servers/contract.ts';
import type { ForwardedTransport, H2Hops } from './h2-hops.ts';
import type { HelperPeer } from './helper-peer.ts';
import { DemoError, type PageRequest, type PageResponse, clientParam, hostAllowed, hostOf, readJson, readText, sendJson } from './page-http.ts';
import type { WebSocketPane } from './pane.ts';
import type { PanelEndpoints } from './panels.ts';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');

const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/dom.js': ['dom.js', 'text/javascript; charset=utf-8'],
  '/frames.js': ['frames.js', 'text/javascript; charset=utf-8'],
  '/handshake.js': ['handshake.js', 'text/javascript; charset=utf-8'],
  '/pane-view.js': ['pane-view.js', 'text/javascript; charset=utf-8'],
  '/panels.js': ['panels.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** The transports the h2 page forwards under `/transport/<name>/…` to their own servers. */
const FORWARDED = /^\/transport\/(polling|long-polling|sse)(\/[^?]*)$/;

/** Longest text accepted by `/publish`. */
const MAX_PUBLISH_CHARS = 4096;

/** What `/publish` sends to every transport: the text with its sequence number and publish time. */
interface Stamped {
  seq: number;
  /** Publish time, ms since the epoch (the page computes now − sentAt; same machine, same clock). */
  sentAt: number;
  text: string;
}

/**
 * The text of a `/publish` body: JSON `{"text": "…"}` or a JSON string when the Content-Type
 * says JSON, plain text otherwise. Anything else is a 400 with the reason.
 */
export function publishBodyText(body: string, contentType: string | undefined): string {
  let text: unknown = body;
  if (contentType && /\bjson\b/i.test(contentType)) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      throw new DemoError(400, 'body is not valid JSON');
    }
    if (typeof value === 'string') text = value;
    else if (value && typeof value === 'object' && !Array.isArray(value) && 'text' in value) text = (value as { text: unknown }).text;
    else throw new DemoError(400, 'JSON body must be {"text": "…"} or a string');
  }
  if (typeof text !== 'string') throw new DemoError(400, '"text" must be a string');
  if (text.trim().length === 0) throw new DemoError(400, 'message is empty');
  if (text.length > MAX_PUBLISH_CHARS) throw new DemoError(400, `message longer than ${MAX_PUBLISH_CHARS} characters`);
  return text;
}

/** The parts of a running demo the router answers from. */
export interface RouterParts {
  readonly ctx: DemoContext;
  readonly http: Record<ForwardedTransport, TransportServer>;
  readonly httpPorts: Record<ForwardedTransport, number>;
  readonly wsPort: number;
  /** The emulated links the page offers, with the ports of each transport behind each. */
  readonly links: readonly unknown[];
  readonly pane: WebSocketPane;
  readonly panels: PanelEndpoints;
  readonly peer: HelperPeer;
  readonly hops: H2Hops;
}

type Route = (req: PageRequest, res: PageResponse, url: URL) => void | Promise<void>;

/** Answers the page server's requests. */
export class Router {
  private seq = 0;
  private readonly routes: Record<string, Route> = {
    'GET /config': (_req, res) => this.config(res),
    'POST /publish': async (req, res) => sendJson(res, 202, this.publish(publishBodyText(await readText(req), req.headers['content-type']))),
    'GET /stats': (_req, res) => this.stats(res),
    'GET /inspect': (_req, res, url) => this.inspect(res, url),
    'POST /fragment': (_req, res, url) => this.fragment(res, url),
    'GET /token': (_req, res) => sendJson(res, 200, { token: this.p.panels.issueToken(), ttlMs: this.p.ctx.settings.tokenTtlMs }),
    'POST /origin-test': (_req, res) => this.originTest(res),
    'POST /peer/start': (_req, res) => {
      this.p.peer.start();
      sendJson(res, 202, { started: true });
    },
    'POST /peer/answer': (req, res) => this.peerAnswer(req, res),
    'POST /app-heartbeat/silent': (req, res, url) => this.silent(req, res, url),
  };

  constructor(private readonly p: RouterParts) {}

  /** Answers one request; a thrown DemoError becomes its status (the page server's caller answers it). */
  async handle(req: PageRequest, res: PageResponse): Promise<void> {
    const { ctx } = this.p;
    // DNS rebinding: a page whose host name now points here would be same-origin with us.
    if (!hostAllowed(hostOf(req), ctx.pagePort, ctx.hostNames)) throw new DemoError(421, `Host ${hostOf(req) ?? '(none)'} is not this server`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = this.crossOrigin(req);
      if (refused) throw new DemoError(403, refused);
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname}`;
    const hop = ctx.tls ? FORWARDED.exec(url.pathname) : null;
    if (hop) {
      const t = hop[1] as ForwardedTransport;
      this.p.hops.reportProtocol(req, t, url.searchParams.get('client'));
      return this.p.hops.forward(t, `${hop[2]}${url.search}`, req, res);
    }
    const file = STATIC[url.pathname];
    if (req.method === 'GET' && file) return serveFile(res, file);
    const answer = Object.hasOwn(this.routes, route) ? this.routes[route] : undefined;
    if (!answer) throw new DemoError(404, `no such endpoint: ${route}`);
    return answer(req, res, url);
  }

  /**
   * Why a request may not change state here, or undefined when it may: a browser names the page
   * that made it in Origin (and Sec-Fetch-Site), and only this demo's own page may publish,
   * start the peer, and so on. A client that is not a browser sends neither and is let through.
   */
  private crossOrigin(req: PageRequest): string | undefined {
    const { pageOrigin } = this.p.ctx;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== pageOrigin) return `cross-origin request refused: Origin ${origin} is not ${pageOrigin}`;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-origin request refused: Sec-Fetch-Site ${site}`;
    return undefined;
  }

  private config(res: PageResponse): void {
    const { ctx, httpPorts, wsPort, links } = this.p;
    const { settings, tls } = ctx;
    sendJson(res, 200, {
      pageOrigin: ctx.pageOrigin,
      // Over h2 the panes reach their servers through the page's origin, at these paths.
      h2: tls !== undefined,
      paths: tls && { polling: '/transport/polling', 'long-polling': '/transport/long-polling', sse: '/transport/sse', websocket: '/ws' },
      ports: { page: ctx.pagePort, ...httpPorts, websocket: wsPort },
      links,
      heartbeat: { intervalMs: settings.heartbeatIntervalMs, maxMissedPongs: settings.maxMissedPongs },
      appHeartbeat: { intervalMs: settings.appHeartbeatMs, maxLoss: settings.appHeartbeatMaxLoss },
      longPollTimeoutMs: settings.longPollTimeoutMs,
    });
  }

  /** Sends a message to every transport, stamped with its sequence number and publish time. */
  private publish(text: string): Stamped {
    const { http, pane } = this.p;
    const m: Stamped = { seq: ++this.seq, sentAt: Date.now(), text };
    const data = JSON.stringify(m);
    http.polling.hub.publish(data);
    http['long-polling'].hub.publish(data);
    http.sse.hub.publish(data);
    pane.broadcast(data);
    return m;
  }

  private stats(res: PageResponse): void {
    const { http, pane } = this.p;
    sendJson(res, 200, {
      polling: http.polling.counters(),
      'long-polling': http['long-polling'].counters(),
      sse: http.sse.counters(),
      websocket: pane.stats(),
    });
  }

  private inspect(res: PageResponse, url: URL): void {
    const client = clientParam(url);
    this.p.ctx.inspector.open(client, res);
    this.p.pane.replayHandshake(client);
  }

  private fragment(res: PageResponse, url: URL): void {
    const conn = this.p.pane.connectionOf(clientParam(url));
    if (!conn) throw new DemoError(409, 'no open WebSocket for this page: connect first');
    const text = 'One message, several frames: FIN=0 on all but the last, opcode 0 (continuation) after the first.';
    const fragmentSize = 16;
    conn.send(text, { fragmentSize });
    sendJson(res, 202, { text, fragmentSize, frames: Math.ceil(Buffer.byteLength(text) / fragmentSize) });
  }

  private async originTest(res: PageResponse): Promise<void> {
    const { tls, urlHost, pagePort } = this.p.ctx;
    // A browser cannot lie about Origin, so the server's own client tries it.
    const evil = 'http://evil.example';
    try {
      // Over h2 the pane's WebSocket is an extended CONNECT on the page's port; tried the same way.
      const conn = tls
        ? await connectH2(`wss://${urlHost}:${pagePort}/ws?client=origin-test`, { origin: evil, handshakeTimeoutMs: 3000, ca: tls.cert })
        : await connect(`ws://${urlHost}:${this.p.wsPort}/?client=origin-test`, { origin: evil, handshakeTimeoutMs: 3000 });
      conn.close(CloseCode.NORMAL);
      sendJson(res, 200, { origin: evil, status: 101, refused: false });
    } catch (e) {
      const err = e as Error & { status?: number };
      sendJson(res, 200, { origin: evil, status: err.status ?? 0, refused: true, reason: err.message });
    }
  }

  private async peerAnswer(req: PageRequest, res: PageResponse): Promise<void> {
    const body = (await readJson(req)) as { answer?: unknown };
    if (typeof body.answer !== 'boolean') throw new DemoError(400, 'body must be {"answer": true|false}');
    this.p.peer.answer(body.answer);
    sendJson(res, 202, { answer: body.answer });
  }

  private async silent(req: PageRequest, res: PageResponse, url: URL): Promise<void> {
    const client = clientParam(url);
    const body = (await readJson(req)) as { silent?: unknown };
    if (typeof body.silent !== 'boolean') throw new DemoError(400, 'body must be {"silent": true|false}');
    this.p.panels.setSilent(client, body.silent);
    sendJson(res, 202, { silent: body.silent });
  }
}

/** Answers one of the page's own files, never cached. */
async function serveFile(res: PageResponse, [name, type]: [file: string, type: string]): Promise<void> {
  const body = await readFile(join(PUBLIC, name));
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', body.length);
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
