/**
 * The `uws` peer row: uWebSockets.js, the C++ server, on the lab's contract with its own HTTP
 * routes. It is loaded from the project's cache (scripts/ensure-uws.sh installs it on first
 * use), not from node_modules. Broadcasts use uWS's own pub/sub (one topic every socket joins),
 * as an application on uWS would; a frame from a client is echoed back to it. uWS keeps its
 * sockets in C++, so the socket bytes come from the kernel's tcp_info (metrics/tcp-info.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerCounters, ServerOptions, TransportServer } from './contract.ts';
import { HttpError, clientIdOf, publishText, withDefaults } from './base.ts';
import { Hub } from './hub.ts';
import { tcpPortBytes } from '../metrics/tcp-info.ts';

/** Where scripts/ensure-uws.sh installs uWebSockets.js (LAB_UWS_DIR overrides). */
function uwsDir(): string {
  return process.env['LAB_UWS_DIR'] ?? new URL('../.cache/uws', import.meta.url).pathname;
}

/** What is installed: the package, its version and the binary this Node loads. */
interface UwsInstall {
  packageDir: string;
  name: string;
  version: string;
  binary: string;
  sha256: string;
  /** The uWebSockets.js commit the package says it was built from, if it says. */
  sourceCommit?: string;
}

/** The installed uWebSockets.js, or an error saying how to install it. */
export function uwsInstall(): UwsInstall {
  const dir = uwsDir();
  const marker = `${dir}/package-name`;
  if (!existsSync(marker)) throw new Error(`uWebSockets.js is not installed in ${dir} (run: sh scripts/ensure-uws.sh)`);
  const name = readFileSync(marker, 'utf8').trim();
  const packageDir = `${dir}/node_modules/${name}`;
  const { version } = JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { version: string };
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  if (!existsSync(`${packageDir}/${binary}`)) throw new Error(`${name} ${version} has no ${binary} for this Node (${process.version})`);
  const sha256 = createHash('sha256')
    .update(readFileSync(`${packageDir}/${binary}`))
    .digest('hex');
  const commitFile = `${packageDir}/source_commit`;
  const sourceCommit = existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : undefined;
  return { packageDir, name, version, binary, sha256, ...(sourceCommit ? { sourceCommit } : {}) };
}

// The few parts of uWebSockets.js this row uses (its package ships types, but it lives outside node_modules).
export interface UwsResponse {
  onAborted(fn: () => void): UwsResponse;
  onData(fn: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  end(body?: string): UwsResponse;
  cork(fn: () => void): UwsResponse;
  upgrade<T>(data: T, key: string, protocol: string, extensions: string, context: unknown): void;
}
export interface UwsRequest {
  getHeader(name: string): string;
  getQuery(key: string): string | undefined;
}
export interface UwsSocket<T> {
  send(message: ArrayBuffer | string, isBinary?: boolean): number;
  subscribe(topic: string): boolean;
  getUserData(): T;
  end(code?: number, reason?: string): void;
}
interface UwsApp {
  ws(pattern: string, behavior: Record<string, unknown>): UwsApp;
  get(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  post(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (listenSocket: unknown) => void): UwsApp;
  publish(topic: string, message: string, isBinary?: boolean): boolean;
  numSubscribers(topic: string): number;
  close(): void;
}
interface Uws {
  App(): UwsApp;
  us_socket_local_port(s: unknown): number;
  us_listen_socket_close(s: unknown): void;
}

const TOPIC = 'all';

/** What the row counts as it serves: what `counters()` reports besides the kernel's byte counts. */
export interface UwsCounts {
  upgrades: number;
  open: number;
  requests: number;
  errors: number;
  messagesIn: number;
}

/** A connection's data: the client id it named, if any. */
type ClientData = { client?: string };

/**
 * The WebSocket side as a uWS behaviour: limits from the lab's options, the client id from the
 * upgrade's query (400 when malformed), every socket on the one broadcast topic, echo on request.
 * `byClient` finds a client's socket for a message addressed to it.
 */
export function wsBehavior(opts: Required<ServerOptions>, counts: UwsCounts, byClient: Map<string, UwsSocket<ClientData>>): Record<string, unknown> {
  // uWS's own liveness check: pings when a connection has been idle, closed after `idleTimeout`
  // seconds of silence (4 s resolution, at least 8). The lab's interval × missed pongs maps onto it.
  const idleSeconds = opts.heartbeatIntervalMs > 0 ? Math.max(8, Math.round((opts.heartbeatIntervalMs * opts.maxMissedPongs) / 1000)) : 0;
  return {
    maxPayloadLength: Math.min(opts.maxMessageBytes, 2 ** 31 - 1),
    idleTimeout: Math.min(idleSeconds, 960),
    sendPingsAutomatically: idleSeconds > 0,
    maxBackpressure: opts.maxBufferedBytes,
    closeOnBackpressureLimit: true,
    upgrade: (res: UwsResponse, req: UwsRequest, context: unknown) => {
      counts.requests++;
      let client: string | undefined;
      try {
        const raw = req.getQuery('client');
        client = clientIdOf(raw === undefined ? {} : { client: raw }, false);
      } catch (e) {
        counts.errors++;
        res.writeStatus('400 Bad Request').end((e as Error).message);
        return;
      }
      counts.upgrades++;
      res.upgrade({ client }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws: UwsSocket<ClientData>) => {
      counts.open++;
      ws.subscribe(TOPIC);
      const client = ws.getUserData().client;
      if (client !== undefined) byClient.set(client, ws);
    },
    message: (ws: UwsSocket<ClientData>, message: ArrayBuffer, isBinary: boolean) => {
      counts.messagesIn++;
      if (opts.echo) ws.send(message, isBinary);
    },
    close: (ws: UwsSocket<ClientData>) => {
      counts.open--;
      const client = ws.getUserData().client;
      if (client !== undefined && byClient.get(client) === ws) byClient.delete(client);
    },
  };
}

/** Answers with a JSON body, corked into one write. */
function json(res: UwsResponse, status: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(body);
  });
}

/** Answers a failure: its HttpError status, or 500 (counted as the server's error) without details. */
function fail(res: UwsResponse, e: unknown, counts: UwsCounts): void {
  const status = e instanceof HttpError ? e.status : 500;
  if (status >= 500) counts.errors++;
  json(
    res,
    `${status} ${status >= 500 ? 'Internal Server Error' : 'Bad Request'}`,
    JSON.stringify({ error: status >= 500 ? 'internal error' : (e as Error).message }),
  );
}

/**
 * Reads a request body up to `limit` bytes (413 past it) and hands it to `done`. uWS lends each
 * chunk only for the callback, so each is copied; an aborted request calls nothing.
 */
export function readBody(res: UwsResponse, limit: number, counts: UwsCounts, done: (b: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    if (aborted) return;
    size += chunk.byteLength;
    if (size > limit) {
      aborted = true;
      fail(res, new HttpError(413, `body exceeds the ${limit}-byte limit`), counts);
      return;
    }
    chunks.push(Buffer.from(Buffer.from(chunk)));
    if (isLast) done(Buffer.concat(chunks));
  });
}

/** The contract's HTTP routes on the app: /publish, /send, /stats, 404 for the rest. */
function httpRoutes(app: UwsApp, hub: Hub, opts: Required<ServerOptions>, counts: UwsCounts, counters: () => ServerCounters): void {
  app.post('/publish', (res, req) => {
    counts.requests++;
    const type = req.getHeader('content-type');
    readBody(res, opts.maxMessageBytes, counts, (b) => {
      try {
        const reached = app.numSubscribers(TOPIC);
        const m = hub.publish(publishText(b, type || undefined));
        json(res, '202 Accepted', `{"seq":${m.seq},"subscribers":${reached}}`);
      } catch (e) {
        fail(res, e, counts);
      }
    });
  });
  app.post('/send', (res, req) => {
    counts.requests++;
    let client: string;
    try {
      const raw = req.getQuery('client');
      client = clientIdOf(raw === undefined ? {} : { client: raw }, true)!;
    } catch (e) {
      res.onAborted(() => {});
      fail(res, e, counts);
      return;
    }
    readBody(res, opts.maxMessageBytes, counts, (b) => {
      if (b.length === 0) return fail(res, new HttpError(400, 'message is empty'), counts);
      counts.messagesIn++;
      if (!opts.echo) return json(res, '202 Accepted', '{}');
      const m = hub.publish(b.toString('utf8'), client);
      json(res, '202 Accepted', `{"seq":${m.seq}}`);
    });
  });
  app.get('/stats', (res) => {
    counts.requests++;
    json(res, '200 OK', JSON.stringify({ transport: 'uws', ...counters() }));
  });
  app.any('/*', (res) => {
    counts.requests++;
    json(res, '404 Not Found', '{"error":"no such endpoint"}');
  });
}

/** The uWebSockets.js server on the lab's contract. */
export function createUwsServer(options?: ServerOptions): TransportServer {
  const opts = withDefaults(options);
  const uws = createRequire(import.meta.url)(uwsInstall().packageDir) as Uws;
  const hub = new Hub(opts.history, opts.historyBytes);
  const app = uws.App();
  const byClient = new Map<string, UwsSocket<ClientData>>();
  const counts: UwsCounts = { upgrades: 0, open: 0, requests: 0, errors: 0, messagesIn: 0 };
  let port = 0;
  let listenSocket: unknown;

  hub.subscribe((m) => {
    if (m.to === undefined) app.publish(TOPIC, m.data, false);
    else byClient.get(m.to)?.send(m.data, false);
  });
  app.ws('/*', wsBehavior(opts, counts, byClient));

  function counters(): ServerCounters {
    // Bytes of the connections open now, from the kernel: uWS exposes no socket byte counts.
    const tcp = port ? tcpPortBytes(port) : { open: 0, bytesRead: 0, bytesWritten: 0 };
    return {
      connections: counts.upgrades,
      connectionsOpen: counts.open,
      requests: counts.requests,
      emptyResponses: 0,
      bytesRead: tcp.bytesRead,
      bytesWritten: tcp.bytesWritten,
      errors: counts.errors,
      messagesIn: counts.messagesIn,
      subscribers: counts.open,
      lastSeq: hub.lastSeq,
    };
  }
  httpRoutes(app, hub, opts, counts, counters);

  return {
    transport: 'uws',
    hub,
    publish: (data, to) => hub.publish(data, to),
    useBackplane() {
      throw new Error('uws runs its own server program: it cannot run on the Redis backplane');
    },
    listen(p = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        app.listen(host, p, (ls) => {
          if (!ls) {
            reject(new Error(`uWebSockets.js could not listen on ${host}:${p}`));
            return;
          }
          listenSocket = ls;
          port = uws.us_socket_local_port(ls);
          resolve(port);
        });
      });
    },
    close() {
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
      app.close();
      return Promise.resolve();
    },
    counters,
  };
}
