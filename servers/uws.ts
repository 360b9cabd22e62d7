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
  const bytes = readFileSync(`${packageDir}/${binary}`);
  const glibc = glibcShortfall(bytes);
  if (glibc) throw new Error(`${name} ${version}'s ${binary} (for ${process.version}) needs glibc ${glibc.needs}; this system has ${glibc.has}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const commitFile = `${packageDir}/source_commit`;
  const sourceCommit = existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : undefined;
  return { packageDir, name, version, binary, sha256, ...(sourceCommit ? { sourceCommit } : {}) };
}

/**
 * The glibc a Linux binary asks for (its highest GLIBC_2.N symbol version) when this system's
 * is older: such a binary fails to load, so the row is unavailable with that reason rather than
 * erroring mid-run. uWebSockets.js builds for newer Node majors on newer glibc than older ones.
 */
function glibcShortfall(binary: Buffer): { needs: string; has: string } | null {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const has = header?.glibcVersionRuntime;
  if (has === undefined) return null; // not glibc (or not Linux): nothing to compare with
  let needs = 0;
  for (const m of binary.toString('latin1').matchAll(/GLIBC_2\.(\d+)/g)) needs = Math.max(needs, Number(m[1]));
  const hasMinor = Number(has.split('.')[1]);
  return needs > hasMinor ? { needs: `2.${needs}`, has } : null;
}

// The few parts of uWebSockets.js this row uses (its package ships types, but it lives outside node_modules).
interface UwsResponse {
  onAborted(fn: () => void): UwsResponse;
  onData(fn: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  end(body?: string): UwsResponse;
  cork(fn: () => void): UwsResponse;
  upgrade<T>(data: T, key: string, protocol: string, extensions: string, context: unknown): void;
}
interface UwsRequest {
  getHeader(name: string): string;
  getQuery(key: string): string | undefined;
}
interface UwsSocket<T> {
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

/** The uWebSockets.js server on the lab's contract. */
export function createUwsServer(options?: ServerOptions): TransportServer {
  const opts = withDefaults(options);
  const uws = createRequire(import.meta.url)(uwsInstall().packageDir) as Uws;
  const hub = new Hub(opts.history, opts.historyBytes);
  const app = uws.App();
  const byClient = new Map<string, UwsSocket<{ client?: string }>>();
  let port = 0;
  let listenSocket: unknown;
  let upgrades = 0;
  let open = 0;
  let requests = 0;
  let errors = 0;
  let messagesIn = 0;

  hub.subscribe((m) => {
    if (m.to === undefined) app.publish(TOPIC, m.data, false);
    else byClient.get(m.to)?.send(m.data, false);
  });

  // uWS's own liveness check: pings when a connection has been idle, closed after `idleTimeout`
  // seconds of silence (4 s resolution, at least 8). The lab's interval × missed pongs maps onto it.
  const idleSeconds = opts.heartbeatIntervalMs > 0 ? Math.max(8, Math.round((opts.heartbeatIntervalMs * opts.maxMissedPongs) / 1000)) : 0;
  app.ws('/*', {
    maxPayloadLength: Math.min(opts.maxMessageBytes, 2 ** 31 - 1),
    idleTimeout: Math.min(idleSeconds, 960),
    sendPingsAutomatically: idleSeconds > 0,
    maxBackpressure: opts.maxBufferedBytes,
    closeOnBackpressureLimit: true,
    upgrade: (res: UwsResponse, req: UwsRequest, context: unknown) => {
      requests++;
      let client: string | undefined;
      try {
        const raw = req.getQuery('client');
        client = clientIdOf(raw === undefined ? {} : { client: raw }, false);
      } catch (e) {
        errors++;
        res.writeStatus('400 Bad Request').end((e as Error).message);
        return;
      }
      upgrades++;
      res.upgrade({ client }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws: UwsSocket<{ client?: string }>) => {
      open++;
      ws.subscribe(TOPIC);
      const client = ws.getUserData().client;
      if (client !== undefined) byClient.set(client, ws);
    },
    message: (ws: UwsSocket<{ client?: string }>, message: ArrayBuffer, isBinary: boolean) => {
      messagesIn++;
      if (opts.echo) ws.send(message, isBinary);
    },
    close: (ws: UwsSocket<{ client?: string }>) => {
      open--;
      const client = ws.getUserData().client;
      if (client !== undefined && byClient.get(client) === ws) byClient.delete(client);
    },
  });

  const json = (res: UwsResponse, status: string, body: string) =>
    res.cork(() => {
      res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(body);
    });
  const fail = (res: UwsResponse, e: unknown) => {
    const status = e instanceof HttpError ? e.status : 500;
    if (status >= 500) errors++;
    json(
      res,
      `${status} ${status >= 500 ? 'Internal Server Error' : 'Bad Request'}`,
      JSON.stringify({ error: status >= 500 ? 'internal error' : (e as Error).message }),
    );
  };
  /** Reads a body up to the message limit; uWS hands it over in chunks valid only during the callback. */
  const body = (res: UwsResponse, done: (b: Buffer) => void) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      if (aborted) return;
      size += chunk.byteLength;
      if (size > opts.maxMessageBytes) {
        aborted = true;
        fail(res, new HttpError(413, `body exceeds the ${opts.maxMessageBytes}-byte limit`));
        return;
      }
      chunks.push(Buffer.from(Buffer.from(chunk)));
      if (isLast) done(Buffer.concat(chunks));
    });
  };

  app.post('/publish', (res, req) => {
    requests++;
    const type = req.getHeader('content-type');
    body(res, (b) => {
      try {
        const reached = app.numSubscribers(TOPIC);
        const m = hub.publish(publishText(b, type || undefined));
        json(res, '202 Accepted', `{"seq":${m.seq},"subscribers":${reached}}`);
      } catch (e) {
        fail(res, e);
      }
    });
  });
  app.post('/send', (res, req) => {
    requests++;
    let client: string;
    try {
      const raw = req.getQuery('client');
      client = clientIdOf(raw === undefined ? {} : { client: raw }, true)!;
    } catch (e) {
      res.onAborted(() => {});
      fail(res, e);
      return;
    }
    body(res, (b) => {
      if (b.length === 0) return fail(res, new HttpError(400, 'message is empty'));
      messagesIn++;
      if (!opts.echo) return json(res, '202 Accepted', '{}');
      const m = hub.publish(b.toString('utf8'), client);
      json(res, '202 Accepted', `{"seq":${m.seq}}`);
    });
  });
  app.get('/stats', (res) => {
    requests++;
    json(res, '200 OK', JSON.stringify({ transport: 'uws', ...counters() }));
  });
  app.any('/*', (res) => {
    requests++;
    json(res, '404 Not Found', '{"error":"no such endpoint"}');
  });

  function counters(): ServerCounters {
    // Bytes of the connections open now, from the kernel: uWS exposes no socket byte counts.
    const tcp = port ? tcpPortBytes(port) : { open: 0, bytesRead: 0, bytesWritten: 0 };
    return {
      connections: upgrades,
      connectionsOpen: open,
      requests,
      emptyResponses: 0,
      bytesRead: tcp.bytesRead,
      bytesWritten: tcp.bytesWritten,
      errors,
      messagesIn,
      subscribers: open,
      lastSeq: hub.lastSeq,
    };
  }

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
