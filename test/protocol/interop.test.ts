/** Interop over real sockets on 127.0.0.1: the engine against ws 8, both directions. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer, type ServerOptions } from '../../protocol/server.ts';
import { connect } from '../../protocol/client.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { HandshakeError } from '../../protocol/errors.ts';
import { TokenStore, makeKey } from '../../protocol/handshake.ts';
import { encodeFrame, encodeClosePayload, Opcode } from '../../protocol/frame.ts';
import { FrameParser, EventCollector } from '../../protocol/parser.ts';
import { connectH2 } from '../../protocol/h2.ts';
import { engineEchoServer, engineH2EchoServer, rawH2WebSocket } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';

const SIZES = [0, 1, 125, 126, 65535, 65536, 16 * 1024 * 1024];
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];

function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

/** The engine's echo server on an ephemeral port. */
function engineServer(t: TestContext, options: Omit<ServerOptions, 'server'> = {}) {
  return engineEchoServer(
    t,
    createServer((_req, res) => res.end('plain http')),
    options,
  );
}

/** ws's echo server on an ephemeral port. */
async function wsServer(t: TestContext): Promise<{ wss: WsServer; url: string }> {
  const wss = new WsServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  await once(wss, 'listening');
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

async function wsClient(t: TestContext, url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  t.after(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}
function nextEngineMessage(conn: WebSocketConnection): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => conn.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

/** Opens a raw TCP connection and does the opening handshake by hand. */
async function rawHandshake(port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = netConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${makeKey()}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  while (buf.indexOf('\r\n\r\n') < 0) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
  }
  const end = buf.indexOf('\r\n\r\n') + 4;
  assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
  return { socket, rest: buf.subarray(end) };
}

test('engine server ↔ ws client: text, binary, empty and boundary sizes up to 16 MiB', async (t) => {
  const { url } = await engineServer(t);
  const ws = await wsClient(t, url);
  const hello = nextMessage(ws);
  ws.send('héllo €');
  const m = await hello;
  assert.equal(m.isBinary, false);
  assert.equal(m.data.toString(), 'héllo €');
  for (const size of SIZES) {
    const p = payload(size);
    const got = nextMessage(ws);
    ws.send(p, { binary: true });
    const r = await got;
    assert.equal(r.isBinary, true);
    assert.equal(r.data.equals(p), true, `binary ${size}`);
  }
  const empty = nextMessage(ws);
  ws.send('');
  assert.equal((await empty).data.length, 0);
});

test('engine server ↔ ws client: fragmented messages, ping/pong, handshake info and frame observer', async (t) => {
  const { url, conns } = await engineServer(t, { protocols: ['chat'], recordHandshake: true });
  const ws = await wsClient(t, url, { perMessageDeflate: false });
  const conn = conns[0]!;
  assert.match(conn.handshake!.requestHeaders[0]!, /^GET \/ HTTP\/1\.1$/);
  assert.match(conn.handshake!.responseHeaders, /^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*Sec-WebSocket-Accept: /);
  const frames: string[] = [];
  conn.onFrame = (dir, bytes) => frames.push(`${dir}:${bytes[0]!.toString(16)}`);

  const whole = nextMessage(ws);
  ws.send('Hel', { fin: false });
  ws.ping('mid');
  ws.send('lo €', { fin: true });
  assert.equal((await whole).data.toString(), 'Hello €');
  const bigFrag = nextMessage(ws);
  const big = payload(200_000);
  ws.send(big.subarray(0, 70_000), { fin: false, binary: true });
  ws.send(big.subarray(70_000), { fin: true, binary: true });
  assert.equal((await bigFrag).data.equals(big), true);

  const pong = once(ws, 'pong');
  ws.ping('are you there');
  assert.equal(((await pong)[0] as Buffer).toString(), 'are you there');
  const serverPong = once(conn, 'pong');
  const clientPing = once(ws, 'ping');
  conn.ping('tick');
  assert.equal(((await clientPing)[0] as Buffer).toString(), 'tick');
  assert.equal(((await serverPong)[0] as Buffer).toString(), 'tick');
  assert.ok(frames.includes('in:1') && frames.includes('in:80') && frames.includes('in:89') && frames.includes('out:8a'), frames.join());

  // the engine sends fragmented too
  const frag = nextMessage(ws);
  conn.send('x'.repeat(1000), { fragmentSize: 100 });
  assert.equal((await frag).data.toString(), 'x'.repeat(1000));
});

test('engine server ↔ ws client: every valid close code round-trips, both directions', async (t) => {
  const { url, conns } = await engineServer(t);
  for (const code of VALID_CODES) {
    // ws closes, the engine answers with the same code
    const ws = await wsClient(t, url);
    const conn = conns.at(-1)!;
    const serverClosed = once(conn, 'close');
    const clientClosed = once(ws, 'close');
    ws.close(code, `bye ${code}`);
    assert.deepEqual(await serverClosed, [code, `bye ${code}`]);
    assert.equal((await clientClosed)[0], code);
    // the engine closes, ws answers
    const ws2 = await wsClient(t, url);
    const conn2 = conns.at(-1)!;
    const closed2 = once(ws2, 'close');
    const serverClosed2 = once(conn2, 'close');
    conn2.close(code, `server ${code}`);
    const [gotCode, reason] = await closed2;
    assert.equal(gotCode, code);
    assert.equal((reason as Buffer).toString(), `server ${code}`);
    assert.equal((await serverClosed2)[0], code);
  }
  // no code: 1005 on both sides
  const ws = await wsClient(t, url);
  const closed = once(conns.at(-1)!, 'close');
  ws.close();
  assert.equal((await closed)[0], 1005);
});

test('ws server ↔ engine client: messages of every size, fragments, ping/pong, close codes', async (t) => {
  const { url, wss } = await wsServer(t);
  const conn = await connect(url, { protocols: [] });
  t.after(() => conn.terminate());
  for (const size of SIZES) {
    const p = payload(size);
    const got = nextEngineMessage(conn);
    conn.send(p);
    const r = await got;
    assert.equal(r.isBinary, true);
    assert.equal(r.data.equals(p), true, `binary ${size}`);
  }
  const txt = nextEngineMessage(conn);
  conn.send('héllo €😀', { fragmentSize: 3 });
  const r = await txt;
  assert.equal(r.isBinary, false);
  assert.equal(r.data.toString(), 'héllo €😀');
  const batch: Buffer[] = [];
  const three = new Promise<void>((resolve) => {
    const on = (d: Buffer) => {
      batch.push(d);
      if (batch.length === 3) {
        conn.off('message', on);
        resolve();
      }
    };
    conn.on('message', on);
  });
  // Accepted at once, and the byte count grows by exactly three masked 1-byte frames.
  const socket = conn.rawSocket as Socket;
  const before = socket.bytesWritten;
  assert.equal(conn.sendMany(['a', 'b', Buffer.from('c')]), true);
  assert.equal(socket.bytesWritten - before, 3 * (2 + 4 + 1));
  await three;
  assert.deepEqual(batch.map(String), ['a', 'b', 'c']);

  const pong = once(conn, 'pong');
  conn.ping('p');
  assert.equal(((await pong)[0] as Buffer).toString(), 'p');
  const serverSide = [...wss.clients][0]!;
  const ping = once(conn, 'ping');
  const wsPong = once(serverSide, 'pong');
  serverSide.ping('from ws');
  assert.equal(((await ping)[0] as Buffer).toString(), 'from ws');
  assert.equal(((await wsPong)[0] as Buffer).toString(), 'from ws');

  for (const code of VALID_CODES) {
    const c = await connect(url);
    const s = [...wss.clients].at(-1)!;
    const wsClosed = once(s, 'close');
    const closed = once(c, 'close');
    c.close(code, 'client bye');
    assert.deepEqual(await closed, [code, 'client bye']);
    const [wsCode, wsReason] = await wsClosed;
    assert.equal(wsCode, code);
    assert.equal((wsReason as Buffer).toString(), 'client bye');
    // and ws-initiated
    const c2 = await connect(url);
    const s2 = [...wss.clients].at(-1)!;
    const closed2 = once(c2, 'close');
    s2.close(code, 'server bye');
    assert.deepEqual(await closed2, [code, 'server bye']);
  }
});

/** One raw WebSocket opened by hand, as bytes in and out: over an upgraded TCP socket, or an h2 stream (RFC 8441). */
async function rawCarrier(carrier: 'h1' | 'h2', port: number): Promise<{ duplex: Duplex; rest: Buffer; done(): void }> {
  if (carrier === 'h1') {
    const { socket, rest } = await rawHandshake(port);
    return { duplex: socket, rest, done: () => socket.destroy() };
  }
  const { stream, session } = await rawH2WebSocket(port);
  return { duplex: stream, rest: Buffer.alloc(0), done: () => session.destroy() };
}

for (const carrier of ['h1', 'h2'] as const) {
  test(`a protocol violation gets its close code; other connections keep working (${carrier})`, async (t) => {
    const server = carrier === 'h1' ? await engineServer(t) : await engineH2EchoServer(t, {}, undefined, true);
    const { port } = server;
    const ws = carrier === 'h1' ? await wsClient(t, server.url) : undefined;
    const other = carrier === 'h2' ? await connectH2(server.url) : undefined;
    t.after(() => other?.terminate());
    const cases: Array<[Buffer, number]> = [
      [encodeFrame('unmasked', { opcode: Opcode.TEXT }), 1002],
      [encodeFrame(Buffer.from([0xff, 0xfe]), { opcode: Opcode.TEXT, mask: true }), 1007],
      [encodeFrame('x', { opcode: 0x3, mask: true }), 1002],
      [encodeFrame(encodeClosePayload(1000).subarray(0, 1), { opcode: Opcode.CLOSE, mask: true }), 1002],
    ];
    for (const [bytes, expected] of cases) {
      const { duplex, rest, done } = await rawCarrier(carrier, port);
      t.after(done);
      const events = new EventCollector();
      const parser = new FrameParser({ role: 'client' }, events);
      parser.push(rest);
      duplex.on('data', (c: Buffer) => parser.push(c));
      const ended = once(duplex, 'close');
      // The server's half-close (TCP FIN, or END_STREAM) must come after its close frame: answer it.
      duplex.on('end', () => duplex.end());
      duplex.write(bytes);
      await ended;
      const close = events.events.find((e) => e.type === 'close');
      assert.ok(close && close.type === 'close', JSON.stringify(events.events));
      assert.equal(close.code, expected);
    }
    if (ws) {
      const still = nextMessage(ws);
      ws.send('still here');
      assert.equal((await still).data.toString(), 'still here');
    } else {
      const still = nextEngineMessage(other!);
      other!.send('still here');
      assert.equal((await still).data.toString(), 'still here');
    }
  });
}

test('bad upgrade requests get an HTTP error response with the reason; engine client reports the status', async (t) => {
  const tokens = new TokenStore();
  const { port, url } = await engineServer(t, { tokens, allowOrigins: ['http://lab.test'] });
  const ask = async (request: string): Promise<string> => {
    const s = netConnect(port, '127.0.0.1');
    t.after(() => s.destroy());
    s.write(request);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await once(s, 'close');
    return Buffer.concat(chunks).toString();
  };
  const v8 = await ask(
    `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${makeKey()}\r\nSec-WebSocket-Version: 8\r\n\r\n`,
  );
  assert.match(v8, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(v8, /\r\nConnection: close\r\n/);
  assert.match(v8, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.match(v8, /unsupported WebSocket version/);
  const noKey = await ask('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n');
  assert.match(noKey, /^HTTP\/1\.1 400 /);

  await assert.rejects(connect(url, { origin: 'http://lab.test' }), (e: unknown) => e instanceof HandshakeError && e.status === 401);
  const token = tokens.issue();
  await assert.rejects(connect(`${url}?token=${token}`, { origin: 'http://evil.test' }), (e: unknown) => e instanceof HandshakeError && e.status === 403);
  const ok = await connect(`${url}?token=${token}`, { origin: 'http://lab.test' });
  ok.terminate();
  await assert.rejects(connect(`${url}?token=${token}`, { origin: 'http://lab.test' }), (e: unknown) => e instanceof HandshakeError && e.status === 401);
});

test('subprotocol negotiation end to end, engine server with engine client and with ws client', async (t) => {
  const { url } = await engineServer(t, { protocols: ['v2', 'v1'] });
  const conn = await connect(url, { protocols: ['v1', 'v2'] });
  t.after(() => conn.terminate());
  assert.equal(conn.protocol, 'v2');
  const ws = await wsClient(t, url, {});
  assert.equal(ws.protocol, '');
  const ws1 = new WebSocket(url, ['v1']);
  t.after(() => ws1.terminate());
  await once(ws1, 'open');
  assert.equal(ws1.protocol, 'v1');
});

test('heartbeat drops a client that stops answering pings, keeps one that answers', async (t) => {
  const { url, conns } = await engineServer(t, { heartbeatIntervalMs: 40, maxMissedPongs: 2 });
  const silent = await wsClient(t, url, { autoPong: false });
  const silentConn = conns.at(-1)!;
  const alive = await wsClient(t, url);
  const aliveConn = conns.at(-1)!;
  const beats: string[] = [];
  silentConn.on('heartbeat', (e: { type: string }) => beats.push(e.type));
  let alivePongs = 0;
  aliveConn.on('heartbeat', (e: { type: string }) => e.type === 'pong' && alivePongs++);
  const silentClosed = once(silent, 'close');
  const [code] = await once(silentConn, 'close');
  assert.equal(code, 1006);
  assert.deepEqual(beats, ['ping', 'ping', 'timeout']);
  await silentClosed;
  assert.ok(alivePongs >= 2, `alive client answered ${alivePongs} pings`);
  assert.equal(alive.readyState, WebSocket.OPEN);
  assert.equal(aliveConn.missedPongs <= 1, true);
});

test('a client that never reads cannot grow the server buffer past the cap', async (t) => {
  const cap = 1024 * 1024;
  const { port, conns } = await engineServer(t, { maxBufferedBytes: cap });
  const { socket } = await rawHandshake(port);
  t.after(() => socket.destroy());
  socket.pause(); // never read
  await waitFor(() => conns.length === 1, 'the server side');
  const conn = conns[0]!;
  const errors: string[] = [];
  conn.on('error', (e: { code?: string }) => errors.push(String(e.code)));
  // (events.once would reject on the 'error' event that precedes 'close')
  const closed = new Promise<[number]>((resolve) => conn.once('close', (code: number) => resolve([code])));
  const chunk = Buffer.alloc(64 * 1024, 1);
  let maxBuffered = 0;
  let sent = 0;
  // keep pushing regardless of backpressure, as a careless publisher would
  while (conn.readyState === 1 && sent < 20_000) {
    conn.send(chunk);
    sent++;
    maxBuffered = Math.max(maxBuffered, conn.bufferedAmount);
    if (sent % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  const [code] = await closed;
  assert.equal(code, 1008);
  assert.deepEqual(errors, ['WS_ERR_BUFFER_OVERFLOW']);
  assert.ok(maxBuffered <= cap, `buffered ${maxBuffered} > cap ${cap}`);
});

test('WebSocketServer.close() closes every connection with 1001; path filter', async (t) => {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(() => new Promise((r) => http.close(r)));
  const port = (http.address() as AddressInfo).port;
  await assert.rejects(connect(`ws://127.0.0.1:${port}/other`), (e: unknown) => e instanceof HandshakeError && e.status === 404);
  const a = await connect(`ws://127.0.0.1:${port}/ws?x=1`);
  const b = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await once(b, 'open');
  assert.equal(wss.clients.size, 2);
  const closedA = once(a, 'close');
  const closedB = once(b, 'close');
  await wss.close();
  assert.equal((await closedA)[0], 1001);
  assert.equal((await closedB)[0], 1001);
  assert.equal(wss.clients.size, 0);
});

test('handshakeTimeoutMs destroys a TCP connection that never sends a request', async (t) => {
  const { port } = await engineServer(t, { handshakeTimeoutMs: 100 });
  const s = netConnect(port, '127.0.0.1');
  t.after(() => s.destroy());
  s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never finished
  // Without the timeout nothing would close it (node:http's own header timeout is 60 s).
  await once(s, 'close');
  assert.equal(s.bytesRead, 0, 'destroyed without an HTTP answer');
});
