/**
 * Regression tests for messages that arrive with the 101: frames in the same TCP
 * write as the handshake answer reach the application even when it awaits something before it
 * listens, on the client side and on the server side.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '../../protocol/client.ts';
import { WebSocketConnection } from '../../protocol/connection.ts';
import { encodeClosePayload, encodeFrame, Opcode } from '../../protocol/frame.ts';
import { computeAccept, makeKey } from '../../protocol/handshake.ts';
import { EventCollector, FrameParser } from '../../protocol/parser.ts';
import { WebSocketServer } from '../../protocol/server.ts';
import { startDemo } from '../../demo/server.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lets a macrotask pass: what an application awaiting its own setup would do before listening. */
const elsewhere = () => new Promise((r) => setImmediate(r));

const serverFrame = (payload: string | Buffer, opcode: number = Opcode.TEXT, fin = true) => encodeFrame(payload, { opcode, fin });

function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 13 + 5) & 0xff;
  return b;
}

/**
 * A raw TCP server that answers the upgrade with the 101 head and `frames` in ONE write, then
 * records what the client sends (parsed as client frames).
 */
async function rawGreeter(t: TestContext, frames: Buffer[]) {
  const received = new EventCollector();
  const server = createServer((socket: Socket) => {
    let buf = Buffer.alloc(0);
    let parser: FrameParser | undefined;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (parser) return parser.push(chunk);
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? '';
      const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAccept(key)}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), ...frames]));
      parser = new FrameParser({ role: 'server' }, received);
      parser.push(buf.subarray(end + 4));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.close();
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, received };
}

/** Collects the connection's messages and its close from now on. */
function listen(conn: WebSocketConnection) {
  const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  const closed = new Promise<[number, string]>((resolve) => conn.once('close', (code: number, reason: string) => resolve([code, reason])));
  conn.on('message', (data: Buffer, isBinary: boolean) => messages.push({ data: Buffer.from(data), isBinary }));
  return { messages, closed };
}

test('in memory: held until the first listener, emitted in order one microtask later; the ping answered at once', async () => {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write: (chunk: Buffer, _e, cb) => {
      written.push(chunk);
      cb();
    },
  });
  const head = Buffer.concat([serverFrame('one'), serverFrame('p', Opcode.PING), serverFrame(Buffer.from([2]), Opcode.BINARY)]);
  const conn = new WebSocketConnection(socket, { role: 'client', head });
  await elsewhere();
  // The pong went out before anyone listened.
  const pongs = new EventCollector();
  new FrameParser({ role: 'server' }, pongs).push(Buffer.concat(written));
  assert.deepEqual(
    pongs.events.map((e) => e.type),
    ['pong'],
  );
  socket.push(serverFrame('three'));
  await elsewhere();
  const seen: string[] = [];
  conn.on('message', (d: Buffer, isBinary: boolean) => seen.push(isBinary ? `bin:${d[0]}` : d.toString()));
  assert.deepEqual(seen, [], 'not inside on(): listeners attached next to this one see the same events');
  await Promise.resolve();
  assert.deepEqual(seen, ['one', 'bin:2', 'three']);
  socket.push(serverFrame('four'));
  await elsewhere();
  assert.deepEqual(seen, ['one', 'bin:2', 'three', 'four']);
  conn.terminate();
});

test('client: a greeting in the 101 write reaches a listener attached after await, every size', async (t) => {
  for (const size of [0, 1, 125, 126, 65536]) {
    const body = payload(size);
    const { url, received } = await rawGreeter(t, [serverFrame('hello'), serverFrame(body, Opcode.BINARY), serverFrame('are you there', Opcode.PING)]);
    const conn = await connect(url);
    t.after(() => conn.terminate());
    await elsewhere();
    const { messages } = listen(conn);
    await waitFor(() => messages.length === 2, `2 messages (${size} B)`);
    assert.deepEqual(messages[0], { data: Buffer.from('hello'), isBinary: false });
    assert.equal(messages[1]!.isBinary, true);
    assert.ok(messages[1]!.data.equals(body), `binary ${size} B intact`);
    // The ping in the same write was answered at once, without waiting for a listener.
    await waitFor(() => received.events.length > 0, 'the pong');
    assert.deepEqual(
      received.events.map((e) => [e.type, e.type === 'pong' ? e.data.toString() : '']),
      [['pong', 'are you there']],
    );
  }
});

test('client: a fragmented greeting with a ping between its fragments', async (t) => {
  const { url, received } = await rawGreeter(t, [
    serverFrame('frag', Opcode.TEXT, false),
    serverFrame('p', Opcode.PING),
    serverFrame('mented', Opcode.CONTINUATION, true),
  ]);
  const conn = await connect(url);
  t.after(() => conn.terminate());
  const pings: string[] = [];
  conn.on('ping', (d: Buffer) => pings.push(d.toString()));
  await elsewhere();
  const { messages } = listen(conn);
  await waitFor(() => messages.length === 1, 'the reassembled message');
  assert.equal(messages[0]!.data.toString(), 'fragmented');
  await waitFor(() => received.events.length === 1, 'the pong');
  assert.equal(received.events[0]!.type, 'pong');
  // 'ping' events are not held: this listener came too late for it, the pong went out anyway.
  assert.deepEqual(pings, []);
});

test('client: a close frame right behind the greeting is seen after await, with its code and reason', async (t) => {
  const { url, received } = await rawGreeter(t, [serverFrame('welcome'), serverFrame(encodeClosePayload(4000, 'bye now'), Opcode.CLOSE)]);
  const conn = await connect(url);
  await elsewhere();
  await elsewhere();
  const { messages, closed } = listen(conn);
  assert.deepEqual(await closed, [4000, 'bye now']);
  assert.deepEqual(
    messages.map((m) => m.data.toString()),
    ['welcome'],
  );
  // The close was echoed (§5.5.1) even though nobody listened yet.
  await waitFor(() => received.events.length === 1, 'the echoed close');
  assert.deepEqual(received.events[0], { type: 'close', code: 4000, reason: '' });
});

test('client: a connection nobody listens to holds a bounded amount, pauses, and delivers all on listening', async (t) => {
  const count = 3000; // over the 1024-event bound
  const frames = Array.from({ length: count }, (_, i) => serverFrame(`m${i}`));
  const { url } = await rawGreeter(t, frames);
  const conn = await connect(url);
  t.after(() => conn.terminate());
  await waitFor(() => conn.rawSocket.isPaused(), 'the socket to pause');
  const { messages } = listen(conn);
  await waitFor(() => messages.length === count, `${count} messages`);
  assert.deepEqual(
    messages.map((m) => m.data.toString()),
    frames.map((_, i) => `m${i}`),
  );
  assert.equal(conn.rawSocket.isPaused(), false);
});

test("the lab's own server greeting five times from the handleUpgrade callback", async (t) => {
  const http = createHttpServer();
  const wss = new WebSocketServer();
  const serverGot: string[] = [];
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, async (conn) => {
      for (let i = 0; i < 5; i++) conn.send(`greeting ${i}`);
      // Server side too: the client's first frames came with its request; listen only later.
      await elsewhere();
      conn.on('message', (d: Buffer) => serverGot.push(d.toString()));
    }),
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(async () => {
    await wss.close();
    await new Promise((r) => http.close(r));
  });
  const port = (http.address() as AddressInfo).port;

  const conn = await connect(`ws://127.0.0.1:${port}/`);
  await elsewhere();
  const { messages } = listen(conn);
  await waitFor(() => messages.length === 5, '5 greetings');
  assert.deepEqual(
    messages.map((m) => m.data.toString()),
    [0, 1, 2, 3, 4].map((i) => `greeting ${i}`),
  );

  // A raw client writes its request and two frames in one write.
  const raw = netConnect(port, '127.0.0.1');
  t.after(() => raw.destroy());
  await once(raw, 'connect');
  const request = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${makeKey()}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  const mask = true;
  raw.write(
    Buffer.concat([Buffer.from(request), encodeFrame('early 1', { opcode: Opcode.TEXT, mask }), encodeFrame('early 2', { opcode: Opcode.TEXT, mask })]),
  );
  await waitFor(() => serverGot.length === 2, 'the early client frames on the server');
  assert.deepEqual(serverGot, ['early 1', 'early 2']);
});

test("the demo's /secure greeting reaches the engine client and the helper peer", async (t) => {
  const d = await startDemo({ port: 0 });
  t.after(() => d.close());
  const page = `http://127.0.0.1:${d.ports.page}`;
  const token = async () => ((await (await fetch(`${page}/token`)).json()) as { token: string }).token;

  const conn = await connect(`ws://127.0.0.1:${d.ports.page}/secure?token=${await token()}`, { origin: page });
  t.after(() => conn.terminate());
  await elsewhere();
  const { messages } = listen(conn);
  await waitFor(() => messages.length === 1, 'the /secure greeting');
  assert.match(messages[0]!.data.toString(), /^token accepted/);

  const peer = spawn(process.execPath, ['--import', 'tsx', `${ROOT}demo/peer.ts`, `ws://127.0.0.1:${d.ports.page}/secure?token=${await token()}`, page], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => peer.kill('SIGKILL'));
  const lines: Array<{ type: string; text?: string }> = [];
  createInterface({ input: peer.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  await waitFor(() => lines.some((l) => l.type === 'message'), "the helper peer's greeting");
  assert.deepEqual(
    lines.slice(0, 2).map((l) => l.type),
    ['open', 'message'],
  );
  assert.match(lines[1]!.text ?? '', /^token accepted/);
});
