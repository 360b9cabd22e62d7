/**
 * Behind an h2 page: the polls and the event stream go on from the page's connection to their
 * transport's server over cleartext h2, where its meter counts them, and the page is told which
 * protocol (and which connection) each pane's requests arrived on.
 */
import type { DemoContext } from './context.ts';
import { connect as h2Connect, constants as h2Constants, type ClientHttp2Session, type Http2Session, type OutgoingHttpHeaders } from 'node:http2';
import type { PageRequest, PageResponse } from './page-http.ts';

/** The transports the h2 page forwards to their own servers. */
export type ForwardedTransport = 'polling' | 'long-polling' | 'sse';

/** Response header fields not passed on from a transport's server to the page (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te']);

/** The h2 sessions to the transports' servers and what each page was told. */
export class H2Hops {
  private readonly hops = new Map<string, ClientHttp2Session>();
  /** What the page was last told about a pane's requests, per page: a new report only when it changes. */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly ctx: DemoContext,
    private readonly ports: Record<ForwardedTransport, number>,
    private readonly sessionIds: WeakMap<Http2Session, number>,
  ) {}

  /** A cleartext h2 session to a transport's server, opened on first use and again after it ends. */
  private hopTo(t: ForwardedTransport): ClientHttp2Session {
    let s = this.hops.get(t);
    if (s === undefined || s.closed || s.destroyed) {
      const up = this.ctx.upstreamHost;
      s = h2Connect(`http://${up.includes(':') ? `[${up}]` : up}:${this.ports[t]}`);
      s.on('error', () => {});
      this.hops.set(t, s);
    }
    return s;
  }

  /** Tells a page which protocol (and which h2 connection of the page's port) a pane's request arrived on. */
  reportProtocol(req: PageRequest, pane: string, client: string | null): void {
    if (client === null) return;
    const session = 'stream' in req ? req.stream.session : undefined;
    const what = { pane, protocol: session ? 'h2' : `http/${req.httpVersion}`, connection: session ? (this.sessionIds.get(session) ?? 0) : 0 };
    const key = `${client} ${pane}`;
    if (this.reported.get(key) === JSON.stringify(what)) return;
    if (this.reported.size >= 10_000) this.reported.clear();
    this.reported.set(key, JSON.stringify(what));
    this.ctx.inspector.inspect('protocol', what, client);
  }

  /**
   * Forwards a pane's request to its transport's server over cleartext h2 and streams the answer
   * back: a held poll and an event stream stay open as long as the page's stream does, and end with it.
   */
  forward(t: ForwardedTransport, path: string, req: PageRequest, res: PageResponse): void {
    const headers: OutgoingHttpHeaders = {
      ':method': req.method ?? 'GET',
      ':path': path,
      ':scheme': 'http',
      ':authority': `${this.ctx.urlHost}:${this.ports[t]}`,
    };
    for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':') && !HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const up = this.hopTo(t).request(headers, { endStream: !hasBody });
    if (hasBody) req.pipe(up);
    up.on('response', (h) => {
      res.statusCode = Number(h[':status'] ?? 502);
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && !HOP_BY_HOP.has(k) && v !== undefined) res.setHeader(k, v);
      // Headers now, before any body: an event stream's first event may be a while away.
      if ('stream' in res) res.writeHead(res.statusCode);
      else res.flushHeaders();
      up.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!up.closed) up.close(h2Constants.NGHTTP2_CANCEL);
    });
  }

  /** Ends every session to the transports' servers. */
  close(): void {
    for (const s of this.hops.values()) s.destroy();
  }
}
