/**
 * The HTTP side of one simulated page over HTTP/2: one node:http2 session per page, which carries
 * that page's polls or event stream and its POSTs as streams, as a browser multiplexes one origin
 * on one connection. Its requests send the header profile through node's HPACK encoder, so the
 * dynamic table fills and serves repeated fields as a browser's does.
 */
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { openH2Session } from '../protocol/index.ts';
import type { ClientOptions } from './contract.ts';
import { tappedConnection, type FrameTap } from './h2-frames.ts';
import { releaseSession, takeSession } from './h2-pool.ts';
import { profileHeaders, type RequestKind } from './headers.ts';
import { HttpSide } from './http-base.ts';

/**
 * A profile's header fields as an HTTP/2 request carries them: names in lower case (RFC 9113
 * §8.2.1), without the connection-specific fields HTTP/2 forbids (§8.2.2); Host becomes
 * `:authority`. The pseudo-header fields come first, in the order Chromium sends them.
 */
export function h2RequestHeaders(p: ClientOptions['headers'], kind: RequestKind, origin: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(profileHeaders(p, kind, origin))) {
    const name = k.toLowerCase();
    if (name === 'connection' || name === 'keep-alive' || name === 'host' || name === 'upgrade' || name === 'transfer-encoding') continue;
    out[name] = v;
  }
  return out;
}

/** A response as the HTTP clients read it. */
type Reply = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

/**
 * The page's h2 session and the contract's requests on it. It stands where the HTTP/1.1 pool
 * stands (`HttpSide`), so the polling loops are the same code over either.
 */
export class H2Side extends HttpSide {
  private session: ClientHttp2Session | undefined;
  /** Sees each session's frame tap as it is made (a test reads the HEADERS blocks through it). */
  onTap: ((tap: FrameTap) => void) | undefined;
  private readonly authority: string;
  private readonly scheme: string;
  private readonly fetchFields: OutgoingHttpHeaders;
  private readonly postFields: OutgoingHttpHeaders;

  constructor(o: ClientOptions) {
    super(o, 1);
    const u = new URL(o.baseUrl);
    this.authority = u.host;
    this.scheme = u.protocol.slice(0, -1);
    this.fetchFields = h2RequestHeaders(o.headers, 'fetch', this.origin);
    this.postFields = h2RequestHeaders(o.headers, 'fetchPost', this.origin);
  }

  /** The page's one session, opened on first use and again once a previous one ended. */
  page(): ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const per = this.o.streamsPerSession ?? 1;
    if (per > 1) {
      if (s) releaseSession(s);
      this.session = takeSession(this.origin, this.o.ca, per);
      return this.session;
    }
    // Over a tap that counts the session's frames by type (h2-frames.ts).
    const next = openH2Session(this.origin, { createConnection: tappedConnection(this.o.ca, undefined, this.onTap) });
    // A session's failure reaches every stream on it; the session itself must not crash the process.
    next.on('error', () => {});
    this.session = next;
    return next;
  }

  /** Opens a stream: pseudo-header fields in Chromium's order, then the profile's fields. */
  request(method: 'GET' | 'POST', path: string, fields: OutgoingHttpHeaders, signal?: AbortSignal): ClientHttp2Stream {
    const headers: OutgoingHttpHeaders = { ':method': method, ':authority': this.authority, ':scheme': this.scheme, ':path': this.prefix + path, ...fields };
    return this.page().request(headers, { endStream: method === 'GET', ...(signal && { signal }) });
  }

  /** Waits for a stream's response head. */
  static response(stream: ClientHttp2Stream): Promise<IncomingHttpHeaders> {
    return new Promise((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
      stream.once('close', () => reject(new Error(`HTTP/2 stream closed before its response (code ${stream.rstCode})`)));
    });
  }

  /** A whole response: head and body as text. */
  private static async reply(stream: ClientHttp2Stream): Promise<Reply> {
    const head = await H2Side.response(stream);
    stream.setEncoding('utf8');
    let text = '';
    for await (const chunk of stream) text += chunk as string;
    return { status: Number(head[':status']), headers: head, text };
  }

  override async get(path: string, extra?: Record<string, string>, signal?: AbortSignal): Promise<Reply> {
    this.requests++;
    return H2Side.reply(this.request('GET', path, extra ? { ...this.fetchFields, ...extra } : this.fetchFields, signal));
  }

  override async send(data: string): Promise<void> {
    this.requests++;
    const s = this.request('POST', `/send?client=${encodeURIComponent(this.o.clientId)}`, { ...this.postFields, 'content-type': 'text/plain' });
    s.end(data);
    const r = await H2Side.reply(s);
    if (r.status !== 202) throw new Error(`POST /send answered ${r.status}: ${r.text}`);
  }

  override async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s && (this.o.streamsPerSession ?? 1) > 1) releaseSession(s);
    else if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000);
        s.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await super.close();
  }
}
