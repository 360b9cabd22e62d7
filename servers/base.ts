/**
 * What every transport server shares: the node:http server with its wire
 * meter, the express app with `/publish`, `/send` and `/stats`, request and
 * error counting, and one error handler that turns failures into JSON replies.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TransportName } from '../metrics/results.ts';
import { WireMeter } from '../metrics/wire.ts';
import type { Backplane, ServerCounters, ServerOptions, TransportServer } from './contract.ts';
import { Hub, DEFAULT_HISTORY, DEFAULT_HISTORY_BYTES } from './hub.ts';
import { createFront, type Exchange, type Handler, type HttpFront } from './http-front.ts';
import type { H2Listener } from './h2-listener.ts';
import { createListeners, type Listeners, type PlainMeter } from './listeners.ts';

export { KEEP_ALIVE_TIMEOUT_MS } from './listeners.ts';

/** An error that carries the HTTP status it should be answered with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Default largest message, bytes. */
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

/** Why a server dropped a subscriber: its unsent output passed the cap, or it stopped answering pings. */
type DropReason = 'slow-reader' | 'missed-pongs';
/** Default byte budget of one poll reply or one resume step (one larger message still goes alone). */
const DEFAULT_BATCH_BYTES = 1024 * 1024;

/** What a transport gets to install its own routes and upgrade handling. */
export interface ServerContext {
  /** Adds a route on the server's HTTP front (express or plain node:http). */
  route(method: 'GET' | 'POST', path: string, h: Handler): void;
  readonly hub: Hub;
  /** The node:http(s) server; an `-h2` row has none (reading it throws: nothing of HTTP/1.1 runs there). */
  readonly httpServer: HttpServer;
  /** The node:http2 listener of an `-h2` row, else undefined. */
  readonly h2: H2Listener | undefined;
  readonly options: Required<ServerOptions>;
  /** Counts a response that carried no message. */
  countEmpty(): void;
  /** Counts an error. */
  countError(): void;
  /** Counts a request that did not go through express (an upgrade). */
  countRequest(): void;
  /** Counts a message received from a client. */
  countIn(): void;
  /** Adds to the live-subscriber count (negative to remove). */
  addSubscribers(n: number): void;
  /** Counts a subscriber the server dropped, and why. */
  countDrop(reason: DropReason): void;
  /** Registers work to do when the server closes. */
  onClose(fn: () => void | Promise<void>): void;
  /** Replaces how `/publish` counts the subscribers a message reaches (default: the hub's live subscribers). */
  setAudience(fn: () => number): void;
}

/** Fills the defaults of the server options. */
export function withDefaults(o: ServerOptions = {}): Required<ServerOptions> {
  return {
    history: o.history ?? DEFAULT_HISTORY,
    historyBytes: o.historyBytes ?? DEFAULT_HISTORY_BYTES,
    maxBatchBytes: o.maxBatchBytes ?? DEFAULT_BATCH_BYTES,
    bodyTimeoutMs: o.bodyTimeoutMs ?? 30_000,
    httpServer: o.httpServer ?? 'express',
    longPollTimeoutMs: o.longPollTimeoutMs ?? 25_000,
    sseRetryMs: o.sseRetryMs ?? 2_000,
    sseHeartbeatMs: o.sseHeartbeatMs ?? 15_000,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 30_000,
    maxMissedPongs: o.maxMissedPongs ?? 2,
    frameworkDefaults: o.frameworkDefaults ?? false,
    corsOrigin: o.corsOrigin ?? '',
    echo: o.echo ?? true,
    maxBufferedBytes: o.maxBufferedBytes ?? 16 * 1024 * 1024,
    perMessageDeflate: o.perMessageDeflate ?? false,
    tls: o.tls ?? false,
  };
}

/**
 * Reads a request body up to `limit` bytes (413 past it) within `timeoutMs` (408 past it). The
 * server has no request timeout, since polls and streams are held on purpose; this one covers
 * bodies only. On either error the rest of the body is left unread and the reply closes the
 * connection (see `replyError`), so neither a huge chunked body nor a trickle holds the server.
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, `body of ${declared} bytes exceeds the ${limit}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (e: HttpError) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.pause();
      reject(e);
    };
    const timer = timeoutMs > 0 ? setTimeout(() => stop(new HttpError(408, `body not received within ${timeoutMs} ms`)), timeoutMs) : undefined;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        stop(new HttpError(413, `body exceeds the ${limit}-byte limit`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The status a malformed or overlong request gets before any route sees it (Node's own default says 400 to all). */
function clientErrorStatus(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return '431 Request Header Fields Too Large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    default:
      return '400 Bad Request';
  }
}

/**
 * Turns a `/publish` body into the message text: JSON bodies (by Content-Type)
 * must parse — a JSON string is the message, `{ "data": "…" }` gives its data,
 * any other value is sent as its JSON text; other bodies are taken as text.
 */
export function publishText(body: Buffer, contentType: string | undefined): string {
  const text = body.toString('utf8');
  if (contentType && /\bjson\b/i.test(contentType)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof value === 'string') return nonEmpty(value);
    if (value && typeof value === 'object' && !Array.isArray(value) && 'data' in value) {
      const data = (value as { data: unknown }).data;
      return nonEmpty(typeof data === 'string' ? data : JSON.stringify(data));
    }
    return nonEmpty(JSON.stringify(value));
  }
  return nonEmpty(text);
}

function nonEmpty(s: string): string {
  if (s.length === 0) throw new HttpError(400, 'message is empty');
  return s;
}

/** The `client` query parameter, validated (letters, digits, `-_.:`, up to 64). */
export function clientIdOf(query: unknown, required: boolean): string | undefined {
  const raw = (query as Record<string, unknown>)['client'];
  if (raw === undefined) {
    if (required) throw new HttpError(400, 'query parameter "client" is required: the echo goes back to that client');
    return undefined;
  }
  if (typeof raw !== 'string' || !/^[\w.:-]{1,64}$/.test(raw)) throw new HttpError(400, 'query parameter "client" must be 1–64 characters of [A-Za-z0-9_.:-]');
  return raw;
}

/**
 * The `client` query parameter of a WebSocket upgrade request, counted as a request. A bad
 * value, or an HTTP/1.0 request, is answered with a 400 on the raw socket and gives `null`:
 * the upgrade must stop there.
 */
export function upgradeClient(ctx: ServerContext, req: IncomingMessage, socket: Duplex): string | undefined | null {
  ctx.countRequest();
  // RFC 6455 §4.1: an opening handshake is HTTP/1.1 or later; both WebSocket rows refuse 1.0 here.
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    ctx.countError();
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nWebSocket upgrade requires HTTP/1.1 or later');
    return null;
  }
  try {
    return clientIdOf(Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams), false);
  } catch (e) {
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${(e as Error).message}`);
    return null;
  }
}

/** The server's own counts (the wire meter counts bytes and connections). */
class Counts {
  requests = 0;
  empty = 0;
  errors = 0;
  subscribers = 0;
  messagesIn = 0;
  droppedSlowReaders = 0;
  droppedMissedPongs = 0;

  drop(reason: DropReason): void {
    if (reason === 'slow-reader') this.droppedSlowReaders++;
    else this.droppedMissedPongs++;
  }

  /** The server's counters: these counts beside the meters' bytes and connections and the hub's last number. */
  totals(meter: WireMeter, hub: Hub, plain: PlainMeter | undefined): ServerCounters {
    const t = meter.totals();
    return {
      connections: meter.accepted,
      connectionsOpen: meter.open,
      requests: this.requests,
      emptyResponses: this.empty,
      bytesRead: t.bytesRead,
      bytesWritten: t.bytesWritten,
      errors: this.errors,
      messagesIn: this.messagesIn,
      subscribers: this.subscribers,
      lastSeq: hub.lastSeq,
      droppedSlowReaders: this.droppedSlowReaders,
      droppedMissedPongs: this.droppedMissedPongs,
      ...(plain ? plain.totals() : {}),
    };
  }
}

/** Listens on `port` (0: one the system picks) and resolves with the port bound. */
function listenOn(listener: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    listener.once('error', onError);
    listener.listen(port, host, () => {
      listener.off('error', onError);
      const addr = listener.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Only when asked (the teaching demo serves its page from another port): these headers cost bytes. */
function allowCors(front: HttpFront, origin: string): void {
  front.before((x: Exchange) => {
    x.res.setHeader('Access-Control-Allow-Origin', origin);
    x.res.setHeader('Access-Control-Expose-Headers', 'X-Next-Cursor');
    if (x.req.method !== 'OPTIONS') return false;
    x.res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    x.res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Last-Event-ID');
    x.res.setHeader('Access-Control-Max-Age', '600');
    x.send(204);
    return true;
  });
}

/** Where published messages go and who they reach: both may be replaced after the routes are in (a backplane, a cluster's audience). */
interface Fanout {
  backplane: Backplane;
  audience: () => number;
}

/** The lab's routes every transport shares: `/publish`, `/send` (the echo) and `/stats`. */
function labRoutes(front: HttpFront, opts: Required<ServerOptions>, counts: Counts, out: Fanout, stats: () => object): void {
  front.route('POST', '/publish', async (x) => {
    const text = publishText(await readBody(x.req, opts.maxMessageBytes, opts.bodyTimeoutMs), x.req.headers['content-type']);
    // Counted before publishing: a held poll answered by this message leaves the count as it goes.
    const reached = out.audience();
    const m = await out.backplane.publish(text);
    x.send(202, `{"seq":${m.seq},"subscribers":${reached}}`, 'application/json');
  });
  front.route('POST', '/send', async (x) => {
    const client = clientIdOf(x.query, true)!;
    const body = await readBody(x.req, opts.maxMessageBytes, opts.bodyTimeoutMs);
    if (body.length === 0) throw new HttpError(400, 'message is empty');
    counts.messagesIn++;
    if (!opts.echo) {
      x.send(202);
      return;
    }
    const m = await out.backplane.publish(body.toString('utf8'), client);
    x.send(202, `{"seq":${m.seq}}`, 'application/json');
  });
  front.route('GET', '/stats', (x) => {
    x.send(200, JSON.stringify(stats()), 'application/json');
  });
}

/** One place turns errors into replies: the status the error carries, its message as JSON. */
function errorReply(counts: Counts, h2: boolean): (err: unknown, x: Exchange) => void {
  return (err, x) => {
    const status = err instanceof HttpError ? err.status : typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) counts.errors++;
    const message = status >= 500 ? 'internal error' : (err as Error).message;
    if (x.res.headersSent) {
      x.res.destroy();
      return;
    }
    // The body was left unread: the connection cannot carry another request. (An h2 stream's
    // unread body costs only that stream, and HTTP/2 forbids the Connection header.)
    if ((status === 408 || status === 413) && !h2) x.res.setHeader('Connection', 'close');
    x.send(status, JSON.stringify({ error: message }), 'application/json');
  };
}

/** A request node:http could not parse: counted, and answered with its status when the socket can still take it. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, counts: Counts): void {
  counts.errors++;
  if (socket.writable) socket.end(`HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

/** What a server's parts share, for `contextOf`. */
interface Parts {
  front: HttpFront;
  hub: Hub;
  opts: Required<ServerOptions>;
  listeners: Pick<Listeners, 'h2' | 'http1'>;
  named: string;
  counts: Counts;
  closers: (() => void | Promise<void>)[];
  out: Fanout;
}

/** The context a transport installs itself with: its routes, the hub, the counts, the close hooks. */
function contextOf({ front, hub, opts, listeners, named, counts, closers, out }: Parts): ServerContext {
  const { h2, http1 } = listeners;
  return {
    route: (method, path, h) => front.route(method, path, h),
    hub,
    get httpServer(): HttpServer {
      if (!http1) throw new Error(`${named} runs on node:http2, which has no HTTP/1.1 server`);
      return http1;
    },
    h2,
    options: opts,
    countEmpty: () => void counts.empty++,
    countError: () => void counts.errors++,
    countRequest: () => void counts.requests++,
    countIn: () => void counts.messagesIn++,
    addSubscribers: (n) => {
      counts.subscribers += n;
    },
    countDrop: (reason) => counts.drop(reason),
    onClose: (fn) => void closers.push(fn),
    setAudience: (fn) => {
      out.audience = fn;
    },
  };
}

/**
 * Builds a transport server: the shared surface plus what `install` adds.
 * `install` runs before the shared error handler is mounted.
 */
export function buildServer(
  transport: TransportName,
  options: ServerOptions | undefined,
  install: (ctx: ServerContext) => void,
): TransportServer & { readonly httpServer: HttpServer } {
  const opts = withDefaults(options);
  const hub = new Hub(opts.history, opts.historyBytes);
  const meter = new WireMeter();
  // A row on plain node:http is its transport's variant, named as the registry names it.
  const named = opts.httpServer === 'express' ? transport : `${transport}-${opts.httpServer}`;
  const front = createFront(opts.httpServer, opts.frameworkDefaults);
  const { h2, http1, listener, plain } = createListeners(opts, meter);
  const counts = new Counts();
  const counters = (): ServerCounters => counts.totals(meter, hub, plain);
  // In-process by default: the hub numbers a message at once, so one process costs what it did.
  const out: Fanout = { backplane: { publish: (data, to) => hub.publish(data, to), close: async () => {} }, audience: () => hub.subscriberCount };
  const closers: (() => void | Promise<void>)[] = [];
  listener.on('request', () => counts.requests++);
  http1?.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, counts));

  const ctx = contextOf({ front, hub, opts, listeners: { h2, http1 }, named, counts, closers, out });
  if (opts.corsOrigin) allowCors(front, opts.corsOrigin);
  labRoutes(front, opts, counts, out, () => ({ transport: named, ...counters() }));
  install(ctx);
  listener.on(
    'request',
    front.listener(
      () => {
        throw new HttpError(404, 'no such endpoint');
      },
      errorReply(counts, h2 !== undefined),
    ),
  );

  return {
    // A row on plain node:http is its transport's variant, named as the registry names it.
    transport: named,
    hub,
    get httpServer(): HttpServer {
      return ctx.httpServer;
    },
    listen: (port = 0, host = '127.0.0.1') => listenOn(listener, port, host),
    publish: (data, to) => out.backplane.publish(data, to),
    useBackplane(b) {
      out.backplane = b;
      // The shared sequence never restarts while the backplane runs: a cursor ahead is lag, not a restart.
      hub.aheadIsReset = false;
    },
    async close() {
      for (const fn of closers) await fn();
      await out.backplane.close();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        if (h2) h2.destroySessions();
        else http1!.closeAllConnections();
      });
    },
    counters,
  };
}
