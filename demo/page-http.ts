/**
 * What every part of the demo's server shares: the request and response types of the page's
 * server (node:http's or node:http2's), the error that carries its HTTP status, the Host and
 * body helpers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders } from 'node:http2';
import { isIP, type Server } from 'node:net';
import type { Writable } from 'node:stream';
import { rawRequestLines } from '../protocol/index.ts';

/** A request of the page's server: node:http's, or node:http2's (whose HTTP/1.1 fallback gives node:http's). */
export type PageRequest = IncomingMessage | Http2ServerRequest;
/** A response of the page's server. */
export type PageResponse = ServerResponse | Http2ServerResponse;

/** The Host of a request: `:authority` over HTTP/2 (RFC 9113 §8.3.1), else the Host header. */
export function hostOf(req: PageRequest): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

/** Bytes queued on a response for its reader: its h2 stream's over HTTP/2. */
export function bufferedOf(res: PageResponse): number {
  return 'stream' in res ? res.stream.writableLength : res.writableLength;
}

/** Writes to a response of either kind (their overloads differ, both are Writable). */
export function writeTo(res: PageResponse, text: string): boolean {
  return (res as Writable).write(text);
}

/** Header fields as display lines, as a refused request's head is shown. */
function fieldLines(headers: IncomingHttpHeaders): string[] {
  return Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${Array.isArray(v) ? v.join(', ') : v}`]));
}

/** Request header lines the inspector never shows: they carry credentials. */
const SENSITIVE_HEADER = /^(cookie|authorization|proxy-authorization)\s*:/i;

/** Request head lines with the values of credential-carrying headers replaced. */
export function redactHeaders(lines: string[]): string[] {
  return lines.map((l) => (SENSITIVE_HEADER.test(l) ? `${l.slice(0, l.indexOf(':'))}: (not shown)` : l));
}

/** A refused handshake's request as the security panel shows it: an HTTP/1.1 head, or an h2 stream's header fields. */
export function refusedRequest(req: IncomingMessage | IncomingHttpHeaders): string[] {
  return redactHeaders('rawHeaders' in req ? rawRequestLines(req as IncomingMessage) : fieldLines(req));
}

/**
 * Whether a Host header names this server: `localhost`, the bound name, or any IP literal, on
 * `port`. A DNS-rebinding page reaches the server under its own host name, which is refused;
 * an IP literal cannot be rebound.
 */
export function hostAllowed(hostHeader: string | undefined, port: number, names: ReadonlySet<string>): boolean {
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
export class DemoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers a JSON value with a status, never cached. */
export function sendJson(res: PageResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** A request's body as text, at most `limit` bytes (past it a 413). */
export function readText(req: PageRequest, limit = 64 * 1024): Promise<string> {
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

/** A request's body as a JSON object (empty is `{}`); anything else is a 400. */
export async function readJson(req: PageRequest): Promise<Record<string, unknown>> {
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

/** The page's client id from the `client` query parameter; a malformed one is a 400. */
export function clientParam(url: URL): string {
  const c = url.searchParams.get('client') ?? '';
  if (!/^[\w.:-]{1,64}$/.test(c)) throw new DemoError(400, 'query parameter "client" must be 1–64 characters of [A-Za-z0-9_.:-]');
  return c;
}

/** Binds a server and resolves with the port it got. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}
