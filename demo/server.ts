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
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  connect as h2Connect,
  constants as h2Constants,
  createSecureServer,
  type ClientHttp2Session,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { isIP, type Server, type Socket } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { WireMeter } from '../metrics/wire.ts';
import {
  abortHandshake,
  CloseCode,
  connect,
  connectH2,
  describeFrame,
  H2_WEBSOCKET_SETTINGS,
  rawRequestLines,
  TokenStore,
  WebSocketServer,
  type HeartbeatEvent,
  type WebSocketConnection,
} from '../protocol/index.ts';
import type { TransportServer } from '../servers/contract.ts';
import { createLongPollingServer } from '../servers/long-polling.ts';
import { createPollingServer } from '../servers/polling.ts';
import { createSseServer } from '../servers/sse.ts';
import { startRelay, type LinkRelay } from '../path/link-relay.ts';
import { describeLink, linkNamed } from '../path/links.ts';
import { labCertificate } from '../path/route.ts';

/** The emulated links the page offers besides loopback; all four panes switch to the same one. */
const DEMO_LINKS = ['4g', '3g', 'satellite'] as const;

const HERE = dirname(fileURLToPath(import.meta.url));
const PUBLIC = join(HERE, 'public');
const REPO = dirname(HERE);

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

/** A request of the page's server: node:http's, or node:http2's (whose HTTP/1.1 fallback gives node:http's). */
type PageRequest = IncomingMessage | Http2ServerRequest;
/** A response of the page's server. */
type PageResponse = ServerResponse | Http2ServerResponse;

/** The transports the h2 page forwards under `/transport/<name>/…` to their own servers. */
const FORWARDED = /^\/transport\/(polling|long-polling|sse)(\/[^?]*)$/;

/** Response header fields not passed on from a transport's server to the page (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te']);

/** The Host of a request: `:authority` over HTTP/2 (RFC 9113 §8.3.1), else the Host header. */
function hostOf(req: PageRequest): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

/** Bytes queued on a response for its reader: its h2 stream's over HTTP/2. */
function bufferedOf(res: PageResponse): number {
  return 'stream' in res ? res.stream.writableLength : res.writableLength;
}

/** Writes to a response of either kind (their overloads differ, both are Writable). */
function writeTo(res: PageResponse, text: string): boolean {
  return (res as Writable).write(text);
}

/** Header fields as display lines, as a refused request's head is shown. */
function fieldLines(headers: IncomingHttpHeaders): string[] {
  return Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${Array.isArray(v) ? v.join(', ') : v}`]));
}

/** What `/publish` sends to every transport: the text with its sequence number and publish time. */
interface Stamped {
  seq: number;
  /** Publish time, ms since the epoch (the page computes now − sentAt; same machine, same clock). */
  sentAt: number;
  text: string;
}

/** Longest text accepted by `/publish`. */
const MAX_PUBLISH_CHARS = 4096;
/** Most unspent tokens at once; past it `/token` answers 503 until some are spent or expire. */
const MAX_UNSPENT_TOKENS = 1000;

/** Request header lines the inspector never shows: they carry credentials. */
const SENSITIVE_HEADER = /^(cookie|authorization|proxy-authorization)\s*:/i;

/** Request head lines with the values of credential-carrying headers replaced. */
function redactHeaders(lines: string[]): string[] {
  return lines.map((l) => (SENSITIVE_HEADER.test(l) ? `${l.slice(0, l.indexOf(':'))}: (not shown)` : l));
}

/**
 * Whether a Host header names this server: `localhost`, the bound name, or any IP literal, on
 * `port`. A DNS-rebinding page reaches the server under its own host name, which is refused;
 * an IP literal cannot be rebound.
 */
function hostAllowed(hostHeader: string | undefined, port: number, names: ReadonlySet<string>): boolean {
  if (!hostHeader) return false;
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}`);
  } catch {
    return false;
  }
  if ((url.port || '80') !== String(port)) return false;
  const name = url.hostname.toLowerCase();
  return names.has(name) || isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** An error with the HTTP status it is answered with. */
class DemoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
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

/** RFC 7692 §7.2.2: the 4 octets a sender removed from the end of a compressed message. */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * The message a compressed (RSV1) single-frame message inflates to, or null when it cannot be
 * inflated on its own: its compressor kept a context from earlier messages, or the message goes
 * on in continuation frames. Bounded: a frame that inflates past 64 KiB is not shown.
 */
function inflateForPage(payload: Buffer): Buffer | null {
  try {
    return inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 });
  } catch {
    return null;
  }
}

/**
 * A frame as the page shows it: the description's fields, bytes as hex (long payloads cut).
 * `inCompressedMessage`: this frame continues a message whose first frame had RSV1 set.
 */
export function frameForPage(bytes: Buffer, dir: 'in' | 'out', inCompressedMessage = false) {
  const d = describeFrame(bytes);
  const SHOW = 64;
  const hex = (b: Buffer | null) => (b ? b.subarray(0, SHOW).toString('hex') : null);
  // RFC 7692 §6: RSV1 on a data message's first frame marks the whole message compressed (permessage-deflate).
  const compressed = (d.rsv1 && (d.opcode === 0x1 || d.opcode === 0x2)) || (d.opcode === 0x0 && inCompressedMessage);
  const inflated = compressed && d.fin ? inflateForPage(d.payload) : null;
  const isText = (d.opcode === 0x1 || d.opcode === 0x0) && !(compressed && inflated === null);
  const shown = inflated ?? d.payload;
  return {
    dir,
    at: Date.now(),
    fin: d.fin,
    rsv1: d.rsv1,
    rsv2: d.rsv2,
    rsv3: d.rsv3,
    opcode: d.opcode,
    opcodeName: d.opcodeName,
    masked: d.masked,
    lengthForm: d.lengthForm,
    payloadLength: d.payloadLength,
    headerLength: d.headerLength,
    frameLength: d.frameLength,
    header: bytes.subarray(0, d.headerLength).toString('hex'),
    maskingKey: d.maskingKey,
    maskedPayload: hex(d.maskedPayload),
    payload: hex(d.payload),
    truncated: d.payload.length > SHOW,
    compressed,
    inflatedLength: inflated?.length ?? null,
    inflated: hex(inflated),
    text: isText ? shown.subarray(0, 200).toString('utf8') : null,
    ...(d.close && { close: d.close }),
  };
}

function sendJson(res: PageResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

function readText(req: PageRequest, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new DemoError(413, `body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: PageRequest): Promise<Record<string, unknown>> {
  const text = await readText(req);
  let v: unknown;
  try {
    v = JSON.parse(text || '{}');
  } catch {
    throw new DemoError(400, 'body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DemoError(400, 'body must be a JSON object');
  return v as Record<string, unknown>;
}

function clientParam(url: URL): string {
  const c = url.searchParams.get('client') ?? '';
  if (!/^[\w.:-]{1,64}$/.test(c)) throw new DemoError(400, 'query parameter "client" must be 1–64 characters of [A-Za-z0-9_.:-]');
  return c;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** Starts the demo: page server, the four transports, the helper endpoints. */
export async function startDemo(o: DemoOptions = {}): Promise<DemoServer> {
  const host = o.host ?? '127.0.0.1';
  const heartbeatIntervalMs = o.heartbeatIntervalMs ?? 2000;
  const maxMissedPongs = o.maxMissedPongs ?? 3;
  const longPollTimeoutMs = o.longPollTimeoutMs ?? 10_000;
  const appHeartbeatMs = o.appHeartbeatMs ?? 2000;
  const appHeartbeatMaxLoss = o.appHeartbeatMaxLoss ?? 3;
  const tokenTtlMs = o.tokenTtlMs ?? 120_000;
  const inspectMaxBuffered = o.inspectMaxBufferedBytes ?? 1024 * 1024;

  // --- the page's own server: bound first, because its origin goes into the CORS setting ---
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
  const tls = o.h2 ? await labCertificate() : undefined;
  const page = tls
    ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: true, settings: H2_WEBSOCKET_SETTINGS }, onRequest)
    : createServer(onRequest);
  const pageSockets = new Set<Socket>();
  page.on('connection', (s: Socket) => {
    // As node:http does; node:http2 leaves Nagle's algorithm on (servers/h2-listener.ts).
    s.setNoDelay(true);
    pageSockets.add(s);
    s.once('close', () => pageSockets.delete(s));
  });
  // Each h2 connection numbered, so the page can tell which one a pane's requests arrived on.
  const sessionIds = new WeakMap<Http2Session, number>();
  let sessionsSeen = 0;
  page.on('session', (session: Http2Session) => sessionIds.set(session, ++sessionsSeen));
  const pagePort = await listen(page, o.port ?? 8090, host);
  // Bound to every interface, the page is still opened (and its origin allowed) as 127.0.0.1.
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const urlHost = shown.includes(':') ? `[${shown}]` : shown;
  const pageOrigin = `${tls ? 'https' : 'http'}://${urlHost}:${pagePort}`;
  const hostNames = new Set(['localhost', host.toLowerCase()]);

  // --- the three HTTP transports: the lab's real servers (cleartext h2 behind an h2 page) ---
  const front = o.h2 ? ({ httpServer: 'h2' } as const) : {};
  const http: Record<'polling' | 'long-polling' | 'sse', TransportServer> = {
    polling: createPollingServer({ corsOrigin: pageOrigin, ...front }),
    'long-polling': createLongPollingServer({ corsOrigin: pageOrigin, longPollTimeoutMs, ...front }),
    sse: createSseServer({ corsOrigin: pageOrigin, ...front }),
  };
  const httpPorts = {
    polling: await http.polling.listen(0, host),
    'long-polling': await http['long-polling'].listen(0, host),
    sse: await http.sse.listen(0, host),
  };

  // --- inspector channel: an SSE stream per page, filtered by the page's client id ---
  const inspectors = new Set<{ client: string; res: PageResponse }>();
  const inspect = (event: string, data: unknown, client?: string) => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const i of inspectors) {
      if (client !== undefined && i.client !== client) continue;
      writeTo(i.res, text);
      // A reader that does not keep up is cut off rather than buffered for without end; its
      // EventSource reconnects and carries on from the next event.
      if (bufferedOf(i.res) > inspectMaxBuffered) {
        inspectors.delete(i);
        i.res.destroy();
        syncObserver(i.client);
      }
    }
  };

  // --- the WebSocket pane: the lab's engine on its own port with its own meter ---
  const wsMeter = new WireMeter();
  let wsRequests = 0;
  // The pane's port and its links' relay ports: a relay passes the page's Host (with its own port) on unchanged.
  const paneWsPorts: number[] = [];
  const paneHostAllowed = (h: string | undefined) => paneWsPorts.some((port) => hostAllowed(h, port, hostNames));
  const wsHttp = createServer((req, res) => {
    wsRequests++;
    if (!paneHostAllowed(req.headers.host)) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('Host is not this server\n');
      return;
    }
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end('WebSocket only\n');
  });
  wsHttp.on('connection', (s: Socket) => wsMeter.track(s));
  const paneClient = new Map<WebSocketConnection, string>();
  /** Over h2: the bytes of the pane's WebSocket streams, both ways (frames, without h2's framing and TLS). */
  const paneStreamBytes = { read: 0, written: 0 };
  const meterStream = (stream: Duplex) => {
    stream.on('data', (c: Buffer) => {
      paneStreamBytes.read += c.length;
    });
    const write = stream.write;
    stream.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
      paneStreamBytes.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length;
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  };
  const handshakes = new Map<string, { request: string[]; response: string }>();
  const paneWss = new WebSocketServer({
    allowOrigins: [pageOrigin],
    recordHandshake: true,
    heartbeatIntervalMs,
    maxMissedPongs,
    // Every message compressed (threshold 0), each on its own: the inspector shows RSV1 and inflates any frame.
    ...(o.deflate !== false && { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 } }),
  });
  /**
   * The frame observer is installed only on a connection whose page has an inspector open: an
   * observer makes the parser copy every chunk, which nobody should pay for unobserved.
   */
  const syncObserver = (client: string) => {
    const watched = [...inspectors].some((i) => i.client === client);
    for (const [conn, c] of paneClient) {
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
        describeToPage(client, dir, bytes, continues);
      };
    }
  };
  const describeToPage = (client: string, dir: 'in' | 'out', bytes: Buffer, inCompressedMessage: boolean) => {
    try {
      inspect('frame', frameForPage(bytes, dir, inCompressedMessage), client);
    } catch {
      // A description can only fail on a cut-short header, which the engine never hands out.
    }
  };
  /** A refused handshake's request as the security panel shows it: an HTTP/1.1 head, or an h2 stream's header fields. */
  const refusedRequest = (req: IncomingMessage | IncomingHttpHeaders) =>
    redactHeaders('rawHeaders' in req ? rawRequestLines(req as IncomingMessage) : fieldLines(req));
  paneWss.on('rejected', (status: number, reason: string, req: IncomingMessage | IncomingHttpHeaders) => {
    inspect('security', { endpoint: 'websocket pane', status, reason, request: refusedRequest(req) });
  });
  const paneClientOf = (url: URL) => {
    try {
      return clientParam(url);
    } catch {
      return `anon-${wsRequests}`;
    }
  };
  /** The pane's WebSocket, accepted: `via` says whether it came as an HTTP/1.1 upgrade or an h2 stream (RFC 8441). */
  const servePane = (conn: WebSocketConnection, client: string, via: string, connection = 0) => {
    paneClient.set(conn, client);
    syncObserver(client);
    const hs = { request: redactHeaders(conn.handshake?.requestHeaders ?? []), response: conn.handshake?.responseHeaders ?? '', via, connection };
    handshakes.set(client, hs);
    inspect('handshake', hs, client);
    conn.on('heartbeat', (e: HeartbeatEvent) => inspect('heartbeat', { who: 'browser', ...e, at: Date.now() }, client));
    conn.on('message', (data: Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
    conn.on('error', () => {});
    conn.once('close', (code: number, reason: string) => {
      paneClient.delete(conn);
      inspect('wsclose', { code, reason }, client);
    });
  };
  wsHttp.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    wsRequests++;
    if (!paneHostAllowed(req.headers.host)) {
      abortHandshake(socket, 421, 'Host is not this server');
      return;
    }
    const client = paneClientOf(new URL(req.url ?? '/', 'http://x'));
    paneWss.handleUpgrade(req, socket, head, (conn) => servePane(conn, client, 'HTTP/1.1 Upgrade'));
  });
  const wsPort = await listen(wsHttp, 0, host);
  paneWsPorts.push(wsPort);

  // --- the link selector: a relay per link and transport (path/link-relay.ts) in front of each server ---
  const direct = { ...httpPorts, websocket: wsPort };
  const upstreamHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const relays: LinkRelay[] = [];
  const links: { name: string; model: string; rttMs: number; ports: typeof direct }[] = [
    { name: 'loopback', model: 'this machine, no emulation', rttMs: 0, ports: direct },
  ];
  // Over h2 every pane shares the page's connection, which no per-transport relay sits on: loopback only.
  for (const name of o.h2 ? [] : DEMO_LINKS) {
    const l = linkNamed(name)!;
    const ports = { ...direct };
    for (const t of Object.keys(direct) as (keyof typeof direct)[]) {
      const r = await startRelay(l.params, [{ host: upstreamHost, port: direct[t] }], relays.length, upstreamHost);
      relays.push(r);
      ports[t] = r.port;
    }
    paneWsPorts.push(ports.websocket);
    links.push({ name, model: describeLink(l.params), rttMs: l.params.rttMs, ports });
  }

  // --- the lower panels' WebSocket endpoints, on the page's port ---
  const tokens = new TokenStore({ ttlMs: tokenTtlMs });
  // Unspent tokens would otherwise stay until someone tries them.
  const sweeper = setInterval(() => tokens.sweep(), Math.min(tokenTtlMs, 60_000));
  sweeper.unref();
  const secureWss = new WebSocketServer({ allowOrigins: [pageOrigin], tokens });
  secureWss.on('rejected', (status: number, reason: string, req: IncomingMessage | IncomingHttpHeaders) => {
    inspect('security', { endpoint: '/secure', status, reason, request: refusedRequest(req).map((l) => l.replace(/(token=)[\w-]+/, '$1…')) });
  });
  const appWss = new WebSocketServer({ allowOrigins: [pageOrigin] });
  const silentClients = new Set<string>();
  const peerWss = new WebSocketServer({ heartbeatIntervalMs, maxMissedPongs });

  /** How each WebSocket on the page's port arrived (h2 mode), by path: what a test checks. */
  const socketsVia = new Map<string, number>();
  /**
   * A WebSocket on the page's port, whichever way it came: `accept` runs the handshake with the
   * endpoint's server (an HTTP/1.1 upgrade or an h2 extended CONNECT), `refuse` answers a status.
   */
  const openSocket = (
    url: URL,
    origin: string | undefined,
    accept: (wss: WebSocketServer, cb: (conn: WebSocketConnection) => void) => void,
    refuse: (status: number, reason: string) => void,
    via: string,
    connection = 0,
  ) => {
    socketsVia.set(`${via} ${url.pathname}`, (socketsVia.get(`${via} ${url.pathname}`) ?? 0) + 1);
    if (url.pathname === '/ws' && tls) {
      wsRequests++;
      const client = paneClientOf(url);
      accept(paneWss, (conn) => servePane(conn, client, via, connection));
    } else if (url.pathname === '/secure') {
      accept(secureWss, (conn) => {
        conn.on('error', () => {});
        conn.send('token accepted: this connection is open; the token is now spent');
      });
    } else if (url.pathname === '/app-heartbeat') {
      const client = url.searchParams.get('client') ?? '';
      accept(appWss, (conn) => {
        conn.on('error', () => {});
        conn.on('message', (data: Buffer) => {
          if (data.toString() === 'heartbeat' && !silentClients.has(client)) conn.send('heartbeat-ack');
        });
      });
    } else if (url.pathname === '/peer') {
      // The helper peer sends no Origin; a page from elsewhere does.
      if (origin !== undefined && origin !== pageOrigin) {
        refuse(403, 'cross-origin request refused');
        return;
      }
      accept(peerWss, (conn) => {
        conn.on('error', () => {});
        inspect('peer', { side: 'server', type: 'open', at: Date.now() });
        conn.on('heartbeat', (e: HeartbeatEvent) => inspect('peer', { side: 'server', ...e, at: Date.now() }));
        conn.once('close', (code: number, reason: string) => inspect('peer', { side: 'server', type: 'close', code, reason, at: Date.now() }));
      });
    } else {
      refuse(404, 'no WebSocket endpoint here');
    }
  };
  page.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!hostAllowed(req.headers.host, pagePort, hostNames)) {
      abortHandshake(socket, 421, 'Host is not this server');
      return;
    }
    openSocket(
      new URL(req.url ?? '/', 'http://x'),
      req.headers.origin,
      (wss, cb) => wss.handleUpgrade(req, socket, head, cb),
      (status, reason) => abortHandshake(socket, status, reason),
      'HTTP/1.1 Upgrade',
    );
  });
  // RFC 8441 §4: a WebSocket over h2 is a CONNECT stream with `:protocol websocket`. Node answers
  // CONNECT 405 when a 'request' listener is set and no 'connect' one takes it (nodejs/node#36977).
  page.on('connect', (req: Http2ServerRequest) => {
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
    if (req.headers[':protocol'] !== 'websocket') return refuse(501, 'only extended CONNECT for websocket');
    if (!hostAllowed(hostOf(req), pagePort, hostNames)) return refuse(421, 'Host is not this server');
    const url = new URL(req.headers[':path'] ?? '/', 'http://x');
    openSocket(
      url,
      req.headers.origin,
      (wss, cb) => {
        // Metered from before the engine reads it: both listen in the same tick, neither misses a chunk.
        if (wss === paneWss) meterStream(stream);
        wss.handleStream(stream, req.headers, cb);
      },
      refuse,
      'h2 extended CONNECT',
      stream.session ? (sessionIds.get(stream.session) ?? 0) : 0,
    );
  });

  // --- the helper peer: a separate process that can stop answering pings ---
  let peer: ChildProcess | undefined;
  const startPeer = () => {
    if (peer && peer.exitCode === null) peer.kill('SIGKILL');
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'peer.ts'), `${tls ? 'wss' : 'ws'}://${urlHost}:${pagePort}/peer`], {
      cwd: REPO,
      env: { ...process.env, ...(tls && { DEMO_PEER_CA: tls.cert }) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    peer = child;
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        inspect('peer', { side: 'peer', ...(JSON.parse(line) as object), at: Date.now() });
      } catch {
        // not one of its reports
      }
    });
    child.once('exit', () => {
      if (peer === child) peer = undefined;
    });
  };

  // --- publishing ---
  let seq = 0;
  const publish = (text: string): Stamped => {
    const m: Stamped = { seq: ++seq, sentAt: Date.now(), text };
    const data = JSON.stringify(m);
    http.polling.hub.publish(data);
    http['long-polling'].hub.publish(data);
    http.sse.hub.publish(data);
    for (const conn of paneClient.keys()) conn.send(data);
    return m;
  };

  /**
   * Why a request may not change state here, or undefined when it may: a browser names the page
   * that made it in Origin (and Sec-Fetch-Site), and only this demo's own page may publish,
   * start the peer, and so on. A client that is not a browser sends neither and is let through.
   */
  const crossOrigin = (req: PageRequest): string | undefined => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== pageOrigin) return `cross-origin request refused: Origin ${origin} is not ${pageOrigin}`;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-origin request refused: Sec-Fetch-Site ${site}`;
    return undefined;
  };

  // --- h2: the polls and the event stream go on from the page's connection to their transport's server ---
  const hops = new Map<string, ClientHttp2Session>();
  /** A cleartext h2 session to a transport's server, opened on first use and again after it ends. */
  const hopTo = (t: keyof typeof httpPorts): ClientHttp2Session => {
    let s = hops.get(t);
    if (s === undefined || s.closed || s.destroyed) {
      s = h2Connect(`http://${upstreamHost.includes(':') ? `[${upstreamHost}]` : upstreamHost}:${httpPorts[t]}`);
      s.on('error', () => {});
      hops.set(t, s);
    }
    return s;
  };
  /** What the page was last told about a pane's requests, per page: a new report only when it changes. */
  const reported = new Map<string, string>();
  /** Tells a page which protocol (and which h2 connection of the page's port) a pane's request arrived on. */
  const reportProtocol = (req: PageRequest, pane: string, client: string | null) => {
    if (client === null) return;
    const session = 'stream' in req ? req.stream.session : undefined;
    const what = { pane, protocol: session ? 'h2' : `http/${req.httpVersion}`, connection: session ? (sessionIds.get(session) ?? 0) : 0 };
    const key = `${client} ${pane}`;
    if (reported.get(key) === JSON.stringify(what)) return;
    if (reported.size >= 10_000) reported.clear();
    reported.set(key, JSON.stringify(what));
    inspect('protocol', what, client);
  };
  /**
   * Forwards a pane's request to its transport's server over cleartext h2 and streams the answer
   * back: a held poll and an event stream stay open as long as the page's stream does, and end with it.
   */
  const forward = (t: keyof typeof httpPorts, path: string, req: PageRequest, res: PageResponse) => {
    const headers: OutgoingHttpHeaders = { ':method': req.method ?? 'GET', ':path': path, ':scheme': 'http', ':authority': `${urlHost}:${httpPorts[t]}` };
    for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':') && !HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const up = hopTo(t).request(headers, { endStream: !hasBody });
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
  };

  async function handle(req: PageRequest, res: PageResponse): Promise<void> {
    // DNS rebinding: a page whose host name now points here would be same-origin with us.
    if (!hostAllowed(hostOf(req), pagePort, hostNames)) throw new DemoError(421, `Host ${hostOf(req) ?? '(none)'} is not this server`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = crossOrigin(req);
      if (refused) throw new DemoError(403, refused);
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname}`;
    const hop = tls ? FORWARDED.exec(url.pathname) : null;
    if (hop) {
      const t = hop[1] as keyof typeof httpPorts;
      reportProtocol(req, t, url.searchParams.get('client'));
      return forward(t, `${hop[2]}${url.search}`, req, res);
    }
    const file = STATIC[url.pathname];
    if (req.method === 'GET' && file) {
      const body = await readFile(join(PUBLIC, file[0]));
      res.statusCode = 200;
      res.setHeader('Content-Type', file[1]);
      res.setHeader('Content-Length', body.length);
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
      return;
    }
    switch (route) {
      case 'GET /config':
        return sendJson(res, 200, {
          pageOrigin,
          // Over h2 the panes reach their servers through the page's origin, at these paths.
          h2: tls !== undefined,
          paths: tls && { polling: '/transport/polling', 'long-polling': '/transport/long-polling', sse: '/transport/sse', websocket: '/ws' },
          ports: { page: pagePort, ...httpPorts, websocket: wsPort },
          links,
          heartbeat: { intervalMs: heartbeatIntervalMs, maxMissedPongs },
          appHeartbeat: { intervalMs: appHeartbeatMs, maxLoss: appHeartbeatMaxLoss },
          longPollTimeoutMs,
        });
      case 'POST /publish': {
        const text = publishBodyText(await readText(req), req.headers['content-type']);
        return sendJson(res, 202, publish(text));
      }
      case 'GET /stats':
        return sendJson(res, 200, {
          polling: http.polling.counters(),
          'long-polling': http['long-polling'].counters(),
          sse: http.sse.counters(),
          websocket: {
            connections: wsMeter.accepted,
            connectionsOpen: wsMeter.open,
            requests: wsRequests,
            emptyResponses: 0,
            ...wsMeter.totals(),
            // Over h2 the pane's WebSockets are streams of the page's connection: their own bytes.
            ...(tls && { bytesRead: paneStreamBytes.read, bytesWritten: paneStreamBytes.written }),
            subscribers: paneClient.size,
          },
        });
      case 'GET /inspect': {
        const client = clientParam(url);
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/event-stream');
        res.setHeader('Cache-Control', 'no-store');
        writeTo(res, 'retry: 1000\n\n');
        const me = { client, res };
        inspectors.add(me);
        syncObserver(client);
        const hs = handshakes.get(client);
        if (hs) inspect('handshake', hs, client);
        const keepAlive = setInterval(() => writeTo(res, ':\n\n'), 15_000);
        res.on('close', () => {
          clearInterval(keepAlive);
          inspectors.delete(me);
          syncObserver(client);
        });
        return;
      }
      case 'POST /fragment': {
        const client = clientParam(url);
        const conn = [...paneClient].find(([, c]) => c === client)?.[0];
        if (!conn) throw new DemoError(409, 'no open WebSocket for this page: connect first');
        const text = 'One message, several frames: FIN=0 on all but the last, opcode 0 (continuation) after the first.';
        const fragmentSize = 16;
        conn.send(text, { fragmentSize });
        return sendJson(res, 202, { text, fragmentSize, frames: Math.ceil(Buffer.byteLength(text) / fragmentSize) });
      }
      case 'GET /token':
        if (tokens.size >= MAX_UNSPENT_TOKENS) tokens.sweep();
        if (tokens.size >= MAX_UNSPENT_TOKENS) throw new DemoError(503, `${MAX_UNSPENT_TOKENS} tokens are unspent; try again when some expire`);
        return sendJson(res, 200, { token: tokens.issue(), ttlMs: tokenTtlMs });
      case 'POST /origin-test': {
        // A browser cannot lie about Origin, so the server's own client tries it.
        const evil = 'http://evil.example';
        try {
          // Over h2 the pane's WebSocket is an extended CONNECT on the page's port; tried the same way.
          const conn = tls
            ? await connectH2(`wss://${urlHost}:${pagePort}/ws?client=origin-test`, { origin: evil, handshakeTimeoutMs: 3000, ca: tls.cert })
            : await connect(`ws://${urlHost}:${wsPort}/?client=origin-test`, { origin: evil, handshakeTimeoutMs: 3000 });
          conn.close(CloseCode.NORMAL);
          return sendJson(res, 200, { origin: evil, status: 101, refused: false });
        } catch (e) {
          const err = e as Error & { status?: number };
          return sendJson(res, 200, { origin: evil, status: err.status ?? 0, refused: true, reason: err.message });
        }
      }
      case 'POST /peer/start':
        startPeer();
        return sendJson(res, 202, { started: true });
      case 'POST /peer/answer': {
        const body = (await readJson(req)) as { answer?: unknown };
        if (typeof body.answer !== 'boolean') throw new DemoError(400, 'body must be {"answer": true|false}');
        if (!peer?.stdin?.writable) throw new DemoError(409, 'the helper peer is not running');
        peer.stdin.write(body.answer ? 'answer\n' : 'ignore\n');
        return sendJson(res, 202, { answer: body.answer });
      }
      case 'POST /app-heartbeat/silent': {
        const client = clientParam(url);
        const body = (await readJson(req)) as { silent?: unknown };
        if (typeof body.silent !== 'boolean') throw new DemoError(400, 'body must be {"silent": true|false}');
        if (body.silent) silentClients.add(client);
        else silentClients.delete(client);
        return sendJson(res, 202, { silent: body.silent });
      }
      default:
        throw new DemoError(404, `no such endpoint: ${route}`);
    }
  }

  return {
    url: `${pageOrigin}/`,
    ports: { page: pagePort, ...httpPorts, websocket: wsPort },
    certificate: tls?.cert,
    socketsVia,
    get unspentTokens() {
      return tokens.size;
    },
    async close() {
      clearInterval(sweeper);
      if (peer && peer.exitCode === null) peer.kill('SIGKILL');
      for (const i of inspectors) i.res.end();
      inspectors.clear();
      const quick = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 500))]);
      await Promise.all([paneWss.close(), secureWss.close(), appWss.close(), peerWss.close()].map(quick));
      await Promise.all([...Object.values(http).map((s) => s.close()), ...relays.map((r) => r.close())]);
      await new Promise<void>((r) => {
        wsHttp.close(() => r());
        wsHttp.closeAllConnections();
      });
      for (const s of hops.values()) s.destroy();
      for (const s of pageSockets) s.destroy();
      await new Promise<void>((r) => page.close(() => r()));
    },
  };
}
