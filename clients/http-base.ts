/** What the HTTP clients share: a two-connection pool and the upward POST. */
import { Pool, type Dispatcher } from 'undici';
import type { ClientOptions, TransportClient } from './contract.ts';
import { profileHeaders } from './headers.ts';
import { deliverPollText } from './poll-decode.ts';

/**
 * A small HTTP side for one subscriber. Long polling and SSE hold one request
 * open, so they get a second connection for sending (as a browser opens one);
 * short polling's requests are brief and share one connection.
 */
export class HttpSide {
  readonly dispatcher: Dispatcher;
  private readonly ownPool: Pool | undefined;
  /** Headers of a page's fetch GET and POST to this server. */
  readonly headers: Record<string, string>;
  private readonly postHeaders: Record<string, string>;
  requests = 0;
  /** The base URL's path (a server mounted under a prefix, as `--target` may give), put before every contract path. */
  readonly prefix: string;
  /** The base URL's scheme, host and port. */
  readonly origin: string;

  constructor(
    readonly o: ClientOptions,
    connections = 2,
  ) {
    this.prefix = new URL(o.baseUrl).pathname.replace(/\/$/, '');
    this.origin = new URL(o.baseUrl).origin;
    this.ownPool = o.dispatcher
      ? undefined
      : new Pool(new URL(o.baseUrl).origin, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 60_000,
          ...(o.ca !== undefined && { connect: { ca: o.ca } }),
        });
    this.dispatcher = o.dispatcher ?? this.ownPool!;
    const origin = new URL(o.baseUrl).origin;
    this.headers = profileHeaders(o.headers, 'fetch', origin);
    this.postHeaders = profileHeaders(o.headers, 'fetchPost', origin);
  }

  /** GET a path; returns status, headers and the body as text. */
  async get(
    path: string,
    extra?: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    this.requests++;
    const r = await this.dispatcher.request({ origin: this.origin, path: this.prefix + path, method: 'GET', headers: { ...this.headers, ...extra }, signal });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text };
  }

  /** POST /send: the upward message, echoed back by the server to this client. */
  async send(data: string): Promise<void> {
    this.requests++;
    const r = await this.dispatcher.request({
      origin: this.origin,
      path: `${this.prefix}/send?client=${encodeURIComponent(this.o.clientId)}`,
      method: 'POST',
      headers: { ...this.postHeaders, 'content-type': 'text/plain' },
      body: data,
    });
    const text = await r.body.text();
    if (r.statusCode !== 202) throw new Error(`POST /send answered ${r.statusCode}: ${text}`);
  }

  async close(): Promise<void> {
    await this.ownPool?.destroy();
  }
}

/** The poll response body. */
interface PollBody {
  next: number;
  gap: { from: number; to: number } | null;
  messages: { id: number; data: string }[];
  /** Set when the server cut the batch: poll again at once. */
  more?: boolean;
}

/** A promise that resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * What every HTTP client shares: its connections, a background loop that `stop()` ends, and
 * the upward POST.
 */
export abstract class HttpClientBase implements TransportClient {
  protected readonly http: HttpSide;
  protected readonly stopper = new AbortController();
  protected loop: Promise<void> | undefined;
  emptyResponses = 0;

  constructor(
    protected readonly o: ClientOptions,
    connections: number,
  ) {
    this.http = this.openSide(o, connections);
  }

  /** Where this client's requests go: a pool of HTTP/1.1 connections (an HTTP/2 client gives its page's one session instead). */
  protected openSide(o: ClientOptions, connections: number): HttpSide {
    return new HttpSide(o, connections);
  }

  get requests(): number {
    return this.http.requests;
  }

  abstract start(): Promise<void>;

  send(data: string): Promise<void> {
    return this.http.send(data);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop?.catch(() => {});
    await this.http.close();
  }
}

/**
 * What short and long polling share: a cursor and the first poll that learns where the
 * stream stands. Subclasses supply the polling loop.
 */
export abstract class PollerBase extends HttpClientBase {
  protected cursor = 0;

  async start(): Promise<void> {
    const first = await this.http.get(`/poll?client=${encodeURIComponent(this.o.clientId)}`);
    if (first.status !== 200) throw new Error(`GET /poll answered ${first.status}: ${first.text}`);
    this.cursor = (JSON.parse(first.text) as PollBody).next;
    this.loop = this.run();
  }

  /** The polling loop, until `stopper` aborts. */
  protected abstract run(): Promise<void>;

  /**
   * One poll from the current cursor: hands over what came and moves the cursor (also on a
   * 204 that skipped other clients' echoes). Returns whether the server has more waiting.
   */
  protected async pollOnce(): Promise<boolean> {
    // The last answer's connection is free again only after this tick: asked at once, the pool
    // opened a second connection for the next poll, and every long-polling client held two
    // server sockets (20,000 for 10,000 clients: a server process's whole open-files limit).
    await new Promise((r) => setImmediate(r));
    const r = await this.http.get(`/poll?cursor=${this.cursor}&client=${encodeURIComponent(this.o.clientId)}`, undefined, this.stopper.signal);
    this.o.onConnected?.();
    if (r.status === 204) {
      this.emptyResponses++;
      const next = r.headers['x-next-cursor'];
      if (typeof next === 'string') this.cursor = Number(next);
      return false;
    }
    if (r.status !== 200) throw new Error(`GET /poll answered ${r.status}: ${r.text}`);
    // Every message of one answer arrived together; none is made an object on the way.
    const head = deliverPollText(this.o, r.text, process.hrtime.bigint());
    this.cursor = head.next;
    return head.more === true;
  }
}
