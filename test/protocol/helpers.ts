/** Shared helpers of the protocol tests: seeded randomness, chunkings, event comparison. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import {
  connect as h2Connect,
  createSecureServer,
  createServer as createH2Server,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { H2_WEBSOCKET_SETTINGS, isExtendedConnect } from '../../protocol/h2.ts';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { WebSocketServer, type ServerOptions } from '../../protocol/server.ts';
import { ProtocolError, type ProtocolErrorCode } from '../../protocol/errors.ts';
import { parseChunks, type ParserEvent, type ParserOptions } from '../../protocol/parser.ts';
import { prng, randomSplit } from '../../bench/fuzz-frames.ts';

/** Every way the tests feed a byte stream: whole, one byte at a time, and 5 random splits. */
export function chunkings(bytes: Buffer, seed = 1): Array<{ name: string; chunks: Buffer[] }> {
  const rand = prng(seed);
  const ways = [
    { name: 'whole', chunks: [bytes] },
    { name: 'byte by byte', chunks: [...bytes].map((b) => Buffer.from([b])) },
  ];
  if (bytes.length > 200_000) ways[1] = { name: '1 KiB chunks', chunks: randomSplit(bytes, () => 0.999, 1024) };
  for (let k = 0; k < 5; k++) ways.push({ name: `random split ${k}`, chunks: randomSplit(bytes, rand, 1 + Math.floor(rand() * 300)) });
  return ways;
}

/** Events as plain comparable values (payloads as hex). */
export type Plain =
  | { type: 'message'; hex: string; isBinary: boolean }
  | { type: 'ping' | 'pong'; hex: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: ProtocolErrorCode; closeCode: number };

export function plain(events: ParserEvent[]): Plain[] {
  return events.map((e): Plain => {
    switch (e.type) {
      case 'message':
        return { type: 'message', hex: e.data.toString('hex'), isBinary: e.isBinary };
      case 'ping':
      case 'pong':
        return { type: e.type, hex: e.data.toString('hex') };
      case 'close':
        return { type: 'close', code: e.code, reason: e.reason };
      case 'error':
        assert.ok(e.error instanceof ProtocolError);
        return { type: 'error', code: e.error.code, closeCode: e.error.closeCode };
    }
  });
}

/** Helpers to write expected events. */
export const text = (s: string): Plain => ({ type: 'message', hex: Buffer.from(s).toString('hex'), isBinary: false });
export const binary = (b: Buffer): Plain => ({ type: 'message', hex: b.toString('hex'), isBinary: true });
export const error = (code: ProtocolErrorCode, closeCode: number): Plain => ({ type: 'error', code, closeCode });

/** Asserts that `bytes`, fed in every chunking, produce exactly `expected`. */
export function assertEvents(bytes: Buffer, options: ParserOptions, expected: Plain[]): void {
  for (const way of chunkings(bytes)) {
    assert.deepEqual(plain(parseChunks(way.chunks, options)), expected, `fed ${way.name}`);
  }
}

/** Asserts that `bytes` fail the connection with exactly this error code and close code. */
export function assertFails(bytes: Buffer, options: ParserOptions, code: ProtocolErrorCode, closeCode: number, before: Plain[] = []): void {
  assertEvents(bytes, options, [...before, error(code, closeCode)]);
}

/**
 * The engine's echo server on `http` (an http or https server not yet listening), on an
 * ephemeral port of 127.0.0.1, closed when the test ends. `quietErrors` swallows connection
 * errors, for tests that provoke them on purpose.
 */
export async function engineEchoServer(t: TestContext, http: HttpServer | HttpsServer, options: Omit<ServerOptions, 'server'> = {}, quietErrors = false) {
  const wss = new WebSocketServer({ ...options, server: http });
  const conns: WebSocketConnection[] = [];
  wss.on('connection', (conn: WebSocketConnection) => {
    conns.push(conn);
    if (quietErrors) conn.on('error', () => {});
    conn.on('message', (data: Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(async () => {
    await wss.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  const port = (http.address() as AddressInfo).port;
  return { http, wss, conns, port, url: `ws://127.0.0.1:${port}/` };
}

/**
 * The engine's echo server over HTTP/2 (RFC 8441) on an ephemeral port of 127.0.0.1: TLS with
 * ALPN h2 when `tls` is given, else cleartext with prior knowledge; closed when the test ends.
 * Streams that are not an extended CONNECT get a 404.
 */
export async function engineH2EchoServer(
  t: TestContext,
  options: Omit<ServerOptions, 'server'> = {},
  tls?: { key: string; cert: string },
  quietErrors = false,
) {
  const settings = { settings: H2_WEBSOCKET_SETTINGS };
  const h2 = tls ? createSecureServer({ ...tls, ...settings }) : createH2Server(settings);
  const wss = new WebSocketServer(options);
  const conns: WebSocketConnection[] = [];
  const sessions = new Set<ServerHttp2Session>();
  h2.on('session', (s: ServerHttp2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    if (!isExtendedConnect(headers)) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    wss.handleStream(stream, headers, (conn) => {
      conns.push(conn);
      if (quietErrors) conn.on('error', () => {});
      conn.on('message', (data: Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
    });
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  t.after(async () => {
    await wss.close();
    for (const s of sessions) s.destroy();
    await new Promise((r) => h2.close(r));
  });
  const port = (h2.address() as AddressInfo).port;
  return { h2, wss, conns, sessions, port, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/` };
}

/** A WebSocket opened by hand over h2c (extended CONNECT, no engine on this side): bytes in and out of its stream. */
export async function rawH2WebSocket(port: number): Promise<{ stream: ClientHttp2Stream; session: ClientHttp2Session }> {
  const session = h2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const [settings] = (await once(session, 'remoteSettings')) as [{ enableConnectProtocol?: boolean }];
  assert.equal(settings.enableConnectProtocol, true, 'the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL');
  const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', ':scheme': 'http', 'sec-websocket-version': '13' });
  stream.on('error', () => {});
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  assert.equal(headers[':status'], 200);
  return { stream, session };
}
