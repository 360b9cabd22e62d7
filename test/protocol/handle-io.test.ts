/**
 * The server's handle path (protocol/handle-io.ts) over real sockets on 127.0.0.1: which sockets
 * take it, back-pressure and a half-close behind queued output, the peer's EOF, pausing through
 * the socket, byte counters, and the stream path kept when Node's internals are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect } from '../../protocol/client.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { engineEchoServer } from './helpers.ts';
import { loopTurns, tcpQueues, waitFor } from '../helpers/wait.ts';
import { selfSignedCertificate } from './self-signed.ts';

async function echoOnce(conn: WebSocketConnection, text: string): Promise<string> {
  const got = once(conn, 'message');
  conn.send(text);
  return String((await got)[0]);
}

test('plain TCP connections take the handle path; socketIo "stream" and TLS keep the stream path', async (t) => {
  const plain = await engineEchoServer(t, createServer());
  const streamed = await engineEchoServer(t, createServer(), { socketIo: 'stream' });
  const { key, cert } = await selfSignedCertificate();
  const secure = await engineEchoServer(t, createHttpsServer({ key, cert }));
  const cases: Array<[string, { conns: WebSocketConnection[] }, string, 'handle' | 'stream']> = [
    ['plain', plain, plain.url, 'handle'],
    ['socketIo stream', streamed, streamed.url, 'stream'],
    ['TLS', secure, `wss://127.0.0.1:${secure.port}/`, 'stream'],
  ];
  for (const [name, server, url, expected] of cases) {
    const conn = await connect(url, { tls: { ca: cert } });
    assert.equal(await echoOnce(conn, `over ${name}`), `over ${name}`);
    assert.equal(server.conns[0]?.socketIo, expected, name);
    conn.close(1000);
    await once(conn, 'close');
  }
});

/**
 * A message size the kernel cannot take in one write to a paused reader on loopback: the largest
 * send buffer plus the largest receive buffer TCP may grow to (`tcp_wmem`, `tcp_rmem`), and 4 MiB
 * more. With 4 MiB alone, the kernel took the whole message at once in about 1 run of 20.
 */
function beyondKernelBuffers(): number {
  const largest = (f: string): number => {
    try {
      return Number(readFileSync(f, 'utf8').trim().split(/\s+/)[2]) || 0;
    } catch {
      return 0;
    }
  };
  const bytes = largest('/proc/sys/net/ipv4/tcp_wmem') + largest('/proc/sys/net/ipv4/tcp_rmem') + 4 * 1024 * 1024;
  return Math.max(16 * 1024 * 1024, bytes - (bytes % 4));
}

test('handle path: an answer larger than the kernel buffers, to a paused reader, is queued, drained in order, then the close frame and the half-close', async (t) => {
  // The server's close timeout is long: only its own half-close can end the client's socket in time.
  const size = beyondKernelBuffers();
  const { conns, url } = await engineEchoServer(t, createServer(), { closeTimeoutMs: 60_000, maxBufferedBytes: 2 * size });
  const client = await connect(url, { maxMessageBytes: size + 1024, closeTimeoutMs: 5000 });
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  const got: Buffer[] = [];
  client.on('message', (d: Buffer) => got.push(d));
  const closed = once(client, 'close');
  let serverEnded = false;
  client.rawSocket.once('end', () => {
    serverEnded = true;
  });
  client.rawSocket.pause();
  const big = Buffer.alloc(size);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
  const drained = once(server, 'drain');
  assert.equal(server.send(big), false, 'more than the high-water mark is waiting');
  assert.equal(server.send('after'), false);
  assert.ok(server.bufferedAmount > 1024 * 1024, 'the kernel did not take it all: the rest waits in the handle queue');
  server.close(1000, 'done');
  client.rawSocket.resume();
  await drained;
  const [code, reason] = (await closed) as [number, string];
  assert.equal(code, 1000);
  assert.equal(reason, 'done');
  assert.ok(serverEnded, 'the server half-closed once its queue had gone out');
  assert.equal(got.length, 2);
  assert.ok(got[0]!.equals(big), 'the big message arrived whole and unchanged');
  assert.equal(String(got[1]), 'after');
  const socket = server.rawSocket as Socket;
  await waitFor(() => socket.destroyed, 'the server socket closed');
  assert.ok(socket.bytesWritten > big.length, 'bytesWritten counts what the handle wrote');
  assert.ok(socket.bytesRead > 0, 'bytesRead counts what the handle read');
});

test('handle path: the peer ends TCP without a close frame: close 1006, the socket is gone', async (t) => {
  const { conns, url } = await engineEchoServer(t, createServer());
  const client = await connect(url);
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  assert.equal(await echoOnce(client, 'one'), 'one');
  const closed = once(server, 'close');
  (client.rawSocket as Socket).end();
  assert.equal(((await closed) as [number])[0], 1006);
  assert.ok((server.rawSocket as Socket).destroyed);
});

test('handle path: rawSocket.pause() stops reading and resume() delivers what waited, in order', async (t) => {
  const { conns, url } = await engineEchoServer(t, createServer());
  const client = await connect(url);
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  const seen: string[] = [];
  server.on('message', (d: Buffer) => seen.push(String(d)));
  assert.equal(await echoOnce(client, 'first'), 'first');
  server.rawSocket.pause();
  assert.equal(server.rawSocket.isPaused(), true);
  for (let i = 0; i < 10; i++) client.send(`m${i}`);
  // The ten frames (8 bytes each, masked) wait in the server's kernel receive queue, unread, and
  // stay there over event-loop turns in which a socket still reading would have read them.
  const sock = server.rawSocket as Socket;
  const unread = () => tcpQueues(sock.localPort!, sock.remotePort!)?.rx ?? -1;
  await waitFor(() => unread() === 80, 'the frames at the server, unread');
  await loopTurns();
  assert.equal(unread(), 80);
  assert.deepEqual(seen, ['first'], 'nothing read while paused');
  // A pause in the same tick as a resume wins over the 'resume' event that follows.
  server.rawSocket.resume();
  server.rawSocket.pause();
  await loopTurns();
  assert.equal(unread(), 80, 'still unread after the resume event');
  assert.deepEqual(seen, ['first'], 'still nothing read');
  server.rawSocket.resume();
  await waitFor(() => seen.length === 11, 'the waiting messages');
  assert.deepEqual(
    seen.slice(1),
    Array.from({ length: 10 }, (_, i) => `m${i}`),
  );
});

const INTERNALS_GONE = {
  'without process.binding': 'delete process.binding;',
  // The binding is there but its two state slots are one: the self-test refuses it.
  "with stream_wrap's state slots changed in meaning": `
    const binding = process.binding;
    process.binding = (name) => {
      const b = binding.call(process, name);
      return name === 'stream_wrap' ? { ...b, WriteWrap: b.WriteWrap, streamBaseState: b.streamBaseState, kLastWriteWasAsync: b.kReadBytesOrError } : b;
    };`,
};

for (const [name, preamble] of Object.entries(INTERNALS_GONE)) {
  test(`${name} the server keeps the stream path and still echoes`, async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = `
      ${preamble}
      const { createServer } = await import('node:http');
      const { WebSocketServer } = await import(${JSON.stringify(`${root}protocol/server.ts`)});
      const { connect } = await import(${JSON.stringify(`${root}protocol/client.ts`)});
      const http = createServer();
      const wss = new WebSocketServer({ server: http });
      let io;
      wss.on('connection', (c) => { io = c.socketIo; c.on('message', (d) => c.send(d)); });
      await new Promise((r) => http.listen(0, '127.0.0.1', r));
      const conn = await connect('ws://127.0.0.1:' + http.address().port + '/');
      const echoed = await new Promise((r) => { conn.once('message', (d) => r(String(d))); conn.send('echo me'); });
      console.log(JSON.stringify({ io, echoed }));
      process.exit(0);
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, timeout: 20_000 }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { io: 'stream', echoed: 'echo me' });
  });
}

test('handle path: a reader dropped at the cap gets the queued messages, the 1008 close frame, then the half-close', async (t) => {
  const { conns, url } = await engineEchoServer(t, createServer(), { maxBufferedBytes: 2 * 1024 * 1024, closeTimeoutMs: 60_000 }, true);
  const client = await connect(url, { closeTimeoutMs: 5000 });
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  let messages = 0;
  client.on('message', () => messages++);
  const closed = once(client, 'close');
  let serverEnded = false;
  client.rawSocket.once('end', () => {
    serverEnded = true;
  });
  client.rawSocket.pause();
  const chunk = Buffer.alloc(64 * 1024);
  let sent = 0;
  while (server.readyState === 1 && sent < 10_000) {
    server.send(chunk);
    sent++;
  }
  assert.equal(server.dropReason, 'slow-reader');
  client.rawSocket.resume();
  const [code] = (await closed) as [number];
  assert.equal(code, 1008);
  assert.equal(messages, sent - 1, 'everything queued before the close frame arrived; the refused message did not');
  assert.ok(serverEnded, 'the server half-closed once its queue had gone out');
});

test('handle path: a peer that resets the connection while output is pending: close 1006, the socket destroyed', async (t) => {
  const size = beyondKernelBuffers();
  const { conns, url } = await engineEchoServer(t, createServer(), { maxBufferedBytes: 2 * size }, true);
  const client = await connect(url);
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  client.rawSocket.pause();
  server.send(Buffer.alloc(size));
  assert.ok(server.bufferedAmount > 0, 'a write is pending in the handle queue');
  let failed: Error | undefined;
  server.on('error', (e: Error) => {
    failed = e;
  });
  const closed = new Promise<number>((resolve) => server.once('close', resolve));
  // Unread bytes in its receive buffer make the peer's close a reset.
  const peer = client.rawSocket as Socket;
  await waitFor(() => (tcpQueues(peer.localPort!, peer.remotePort!)?.rx ?? 0) > 0, 'bytes unread at the client');
  client.rawSocket.destroy();
  assert.equal(await closed, 1006);
  assert.match(String((failed as NodeJS.ErrnoException | undefined)?.code), /ECONNRESET|EPIPE/);
  assert.ok((server.rawSocket as Socket).destroyed);
});

for (const socketIo of ['handle', 'stream'] as const) {
  test(`${socketIo} path: a corked batch past the high-water mark that the kernel takes at once still emits drain`, async (t) => {
    const { conns, url } = await engineEchoServer(t, createServer(), { socketIo });
    const client = await connect(url);
    let received = 0;
    client.on('message', () => received++);
    await waitFor(() => conns.length === 1, 'the server side');
    const server = conns[0]!;
    assert.equal(server.socketIo, socketIo);
    // Twice the socket's own high-water mark (16 KiB up to Node 20, 64 KiB from Node 22) in 102-byte frames.
    const count = Math.ceil((2 * server.rawSocket.writableHighWaterMark) / 102);
    const drained = once(server, 'drain');
    server.cork();
    let refused = 0;
    for (let i = 0; i < count; i++) if (!server.send(Buffer.alloc(100, i))) refused++;
    assert.ok(refused > 0, 'the held frames passed the high-water mark');
    server.uncork();
    await drained;
    await waitFor(() => received === count, 'every message');
  });
}

test('handle path: messages the application keeps stay intact while later reads reuse the read buffer', async (t) => {
  const { conns, url } = await engineEchoServer(t, createServer());
  const client = await connect(url);
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  assert.equal(server.socketIo, 'handle');
  const kept: Buffer[] = [];
  server.on('message', (d: Buffer) => kept.push(d));
  // Small (copied out whole), mid-sized and larger than one read (kept in pieces), fragmented too.
  const sent: Buffer[] = [];
  for (let round = 0; round < 3; round++) {
    for (const size of [0, 3, 64, 125, 126, 300, 70_000]) {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 7 + size + round) & 0xff;
      sent.push(payload);
      client.send(payload, size > 1000 ? { fragmentSize: 16_384 } : {});
    }
    // Each round in its own reads: the next round overwrites the read buffer.
    await waitFor(() => kept.length === sent.length, `round ${round}`);
  }
  assert.equal(kept.length, sent.length);
  for (let i = 0; i < sent.length; i++) assert.ok(kept[i]!.equals(sent[i]!), `message ${i} (${sent[i]!.length} B) changed`);
  client.close(1000);
  await once(client, 'close');
});
