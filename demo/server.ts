/**
 * The teaching demo's server. It serves the page and runs, each on its own port, the real lab
 * servers of polling, long polling and SSE (so each one's socket bytes are counted by its own
 * meter) and a WebSocket server on the lab's engine whose every frame is observed, described
 * and shipped to the page on a separate channel (an SSE stream from this server).
 *
 * On the page's own port it also hosts what the lower panels need: one-time tokens, an Origin
 * check done with the engine's client, a helper peer process for the heartbeat, and an
 * application-level heartbeat endpoint.
 *
 * With `h2`, the page's server speaks HTTP/2 over TLS (ALPN h2, HTTP/1.1 as fallback) and the
 * page reaches every transport through it, so one connection carries the page, its polls, its
 * event stream and its WebSockets (RFC 8441 extended CONNECT). The polls and the stream go on
 * from there to the transport's own server over cleartext h2, where its meter counts them.
 */
import type { DemoContext, DemoSettings } from './context.ts';
import { createServer } from 'node:http';
import { createSecureServer, type Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { H2_WEBSOCKET_SETTINGS } from '../protocol/index.ts';
import type { TransportServer } from '../servers/contract.ts';
import { createLongPollingServer } from '../servers/long-polling.ts';
import { createPollingServer } from '../servers/polling.ts';
import { createSseServer } from '../servers/sse.ts';
import { startRelay, type LinkRelay } from '../path/link-relay.ts';
import { describeLink, linkNamed } from '../path/links.ts';
import { labCertificate } from '../path/route.ts';
import { type ForwardedTransport, H2Hops } from './h2-hops.ts';
import { HelperPeer } from './helper-peer.ts';
import { Inspector } from './inspector.ts';
import { DemoError, listen, type PageRequest, type PageResponse, sendJson } from './page-http.ts';
import { WebSocketPane } from './pane.ts';
import { PanelEndpoints } from './panels.ts';
import { Router } from './router.ts';

export { frameForPage } from './frames.ts';
export { publishBodyText } from './router.ts';

/** The emulated links the page offers besides loopback; all four panes switch to the same one. */
const DEMO_LINKS = ['4g', '3g', 'satellite'] as const;

/** Settings of the demo. */
export interface DemoOptions {
  /** Port of the page (default 8090); 0 picks a free one. */
  port?: number;
  /** Address to bind every server to (default 127.0.0.1). */
  host?: string;
  /** Server ping interval on the demo's WebSocket connections (default 2000 ms). */
  heartbeatIntervalMs?: number;
  /** Missed pongs before the server drops a peer (default 3). */
  maxMissedPongs?: number;
  /** How long a long poll is held before an empty answer (default 10,000 ms). */
  longPollTimeoutMs?: number;
  /** The page's application heartbeat: interval and misses before "offline" (default 2000 ms, 3). */
  appHeartbeatMs?: number;
  appHeartbeatMaxLoss?: number;
  /** Lifetime of an unspent `/token` (default 120,000 ms); expired ones are swept. */
  tokenTtlMs?: number;
  /** Bytes an `/inspect` stream may have waiting for its reader before it is ended (default 1 MiB). */
  inspectMaxBufferedBytes?: number;
  /**
   * Accept the browser's permessage-deflate offer on the WebSocket pane (default true), without
   * context takeover in either direction, so the inspector can inflate each frame on its own.
   */
  deflate?: boolean;
  /**
   * Serve the page over HTTP/2 (TLS with the lab's certificate, ALPN h2 with HTTP/1.1 as
   * fallback), the transports through the page's origin, WebSockets by RFC 8441 (default false).
   */
  h2?: boolean;
}

/** A running demo. */
export interface DemoServer {
  /** The page's address. */
  readonly url: string;
  /** Ports of the page and of each transport. */
  readonly ports: { page: number; polling: number; 'long-polling': number; sse: number; websocket: number };
  /** One-time tokens issued and not yet spent or swept. */
  readonly unspentTokens: number;
  /** With `h2`: the certificate the page is served with (PEM), for a client to trust. */
  readonly certificate: string | undefined;
  /** With `h2`: how every WebSocket of the pane and the lower panels arrived, by path. */
  readonly socketsVia: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** The demo's options with their defaults. */
function resolveOptions(o: DemoOptions): DemoSettings {
  return {
    port: o.port ?? 8090,
    host: o.host ?? '127.0.0.1',
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 2000,
    maxMissedPongs: o.maxMissedPongs ?? 3,
    longPollTimeoutMs: o.longPollTimeoutMs ?? 10_000,
    appHeartbeatMs: o.appHeartbeatMs ?? 2000,
    appHeartbeatMaxLoss: o.appHeartbeatMaxLoss ?? 3,
    tokenTtlMs: o.tokenTtlMs ?? 120_000,
    inspectMaxBuffered: o.inspectMaxBufferedBytes ?? 1024 * 1024,
    deflate: o.deflate !== false,
    h2: Boolean(o.h2),
  };
}

/** The page's own server, bound, with its open sockets and its h2 connections numbered. */
interface PageServer {
  readonly server: Server;
  readonly sockets: Set<Socket>;
  readonly sessionIds: WeakMap<Http2Session, number>;
  readonly ctx: DemoContext;
}

/**
 * Binds the page's own server: first, because its origin goes into the transports' CORS setting.
 * `handle` answers its requests; what it throws is answered with its status.
 */
async function startPage(settings: DemoSettings, handle: (req: PageRequest, res: PageResponse) => Promise<void>): Promise<PageServer> {
  const { host } = settings;
  const onRequest = (req: PageRequest, res: PageResponse) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof DemoError ? e.status : 500;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, status, { error: status === 500 ? 'internal error' : (e as Error).message });
    });
  };
  // Over HTTP/2 the page is TLS, as browsers speak h2 to https origins only; SETTINGS_ENABLE_CONNECT_PROTOCOL
  // (RFC 8441 §3) lets the browser open its WebSockets as streams of the same connection.
  const tls = settings.h2 ? await labCertificate() : undefined;
  const server: Server = tls
    ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true, settings: H2_WEBSOCKET_SETTINGS }, onRequest)
    : createServer(onRequest);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    // As node:http does; node:http2 leaves Nagle's algorithm on (servers/h2-listener.ts).
    s.setNoDelay(true);
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  // Each h2 connection numbered, so the page can tell which one a pane's requests arrived on.
  const sessionIds = new WeakMap<Http2Session, number>();
  let sessionsSeen = 0;
  server.on('session', (session: Http2Session) => sessionIds.set(session, ++sessionsSeen));
  const pagePort = await listen(server, settings.port, host);
  // Bound to every interface, the page is still opened (and its origin allowed) as 127.0.0.1.
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlHost = shown.includes(':') ? `[${shown}]` : shown;
  const ctx: DemoContext = {
    settings,
    tls,
    pagePort,
    urlHost,
    pageOrigin: `${tls ? 'https' : 'http'}://${urlHost}:${pagePort}`,
    hostNames: new Set(['localhost', host.toLowerCase()]),
    upstreamHost: host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host,
    inspector: new Inspector(settings.inspectMaxBuffered),
  };
  return { server, sockets, sessionIds, ctx };
}

/** The three HTTP transports: the lab's real servers (cleartext h2 behind an h2 page), each on its own port. */
async function startTransports(ctx: DemoContext) {
  const { host, longPollTimeoutMs } = ctx.settings;
  const front = ctx.settings.h2 ? ({ httpServer: 'h2' } as const) : {};
  const corsOrigin = ctx.pageOrigin;
  const http: Record<ForwardedTransport, TransportServer> = {
    polling: createPollingServer({ corsOrigin, ...front }),
    'long-polling': createLongPollingServer({ corsOrigin, longPollTimeoutMs, ...front }),
    sse: createSseServer({ corsOrigin, ...front }),
  };
  const httpPorts = {
    polling: await http.polling.listen(0, host),
    'long-polling': await http['long-polling'].listen(0, host),
    sse: await http.sse.listen(0, host),
  };
  return { http, httpPorts };
}

/** The ports of each transport's server, directly or behind one link's relays. */
type TransportPorts = Record<ForwardedTransport | 'websocket', number>;

/** The link selector: a relay per link and transport (path/link-relay.ts) in front of each server. */
async function startLinks(ctx: DemoContext, pane: WebSocketPane, direct: TransportPorts) {
  const relays: LinkRelay[] = [];
  const links: { name: string; model: string; rttMs: number; ports: TransportPorts }[] = [
    { name: 'loopback', model: 'this machine, no emulation', rttMs: 0, ports: direct },
  ];
  // Over h2 every pane shares the page's connection, which no per-transport relay sits on: loopback only.
  for (const name of ctx.settings.h2 ? [] : DEMO_LINKS) {
    const l = linkNamed(name)!;
    const ports = { ...direct };
    for (const t of Object.keys(direct) as (keyof TransportPorts)[]) {
      const r = await startRelay(l.params, [{ host: ctx.upstreamHost, port: direct[t] }], relays.length, ctx.upstreamHost);
      relays.push(r);
      ports[t] = r.port;
    }
    pane.allowRelayPort(ports.websocket);
    links.push({ name, model: describeLink(l.params), rttMs: l.params.rttMs, ports });
  }
  return { relays, links };
}

/** Starts the demo: page server, the four transports, the helper endpoints. */
export async function startDemo(o: DemoOptions = {}): Promise<DemoServer> {
  const settings = resolveOptions(o);
  let router: Router | undefined;
  const page = await startPage(settings, async (req, res) => {
    if (!router) throw new Error('the demo is still starting');
    return router.handle(req, res);
  });
  const { ctx } = page;
  const { http, httpPorts } = await startTransports(ctx);
  const pane = new WebSocketPane(ctx);
  const wsPort = await pane.listen();
  const { relays, links } = await startLinks(ctx, pane, { ...httpPorts, websocket: wsPort });
  const panels = new PanelEndpoints(ctx, pane, page.sessionIds);
  panels.attach(page.server);
  const peer = new HelperPeer(ctx);
  const hops = new H2Hops(ctx, httpPorts, page.sessionIds);
  router = new Router({ ctx, http, httpPorts, wsPort, links, pane, panels, peer, hops });

  return {
    url: `${ctx.pageOrigin}/`,
    ports: { page: ctx.pagePort, ...httpPorts, websocket: wsPort },
    certificate: ctx.tls?.cert,
    socketsVia: panels.socketsVia,
    get unspentTokens() {
      return panels.tokens.size;
    },
    async close() {
      panels.stopSweeper();
      peer.stop();
      ctx.inspector.close();
      const quick = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 500))]);
      await Promise.all([pane.wss.close(), ...panels.servers().map((s) => s.close())].map(quick));
      await Promise.all([...Object.values(http).map((s) => s.close()), ...relays.map((r) => r.close())]);
      await pane.closePort();
      hops.close();
      for (const s of page.sockets) s.destroy();
      await new Promise<void>((r) => page.server.close(() => r()));
    },
  };
}
