/**
 * Closing a peer cleanly under pressure, over real sockets on 127.0.0.1: an echo that stops
 * reading while its answers wait (bounded memory, nothing lost), and a slow or never-reading
 * subscriber dropped at the cap with a close frame it can still read.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { WebSocketServer, type ServerOptions } from '../../protocol/server.ts';
import { connect } from '../../protocol/client.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { createWebSocketServer } from '../../servers/websocket.ts';
import { waitFor } from '../helpers/wait.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

/** A bare engine server on an ephemeral port; `onConnection` installs the behaviour. */
async function engineServer(t: TestContext, options: Omit<ServerOptions, 'server'>, onConnection: (conn: WebSocketConnection) => void): Promise<string> {
  const http = createServer();
  const wss = new WebSocketServer({ ...options, server: http });
  wss.on('connection', onConnection);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(async () => {
    for (const c of wss.clients) c.terminate();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
}

for (const socketIo of ['handle', 'stream'] as const) {
  test(`1,000 binary messages of 64 KiB in one burst are echoed in full, with the server queue bounded (${socketIo} path)`, async (t) => {
    let maxQueued = 0;
    let serverErrors = 0;
    // A cap of 4 MiB: without reading back-pressure the burst (64 MiB) would pass it while the client is paused.
    const url = await engineServer(t, { maxBufferedBytes: 4 * MIB, pauseReadingAboveBytes: 1 * MIB, socketIo }, (conn) => {
      conn.on('error', () => serverErrors++);
      conn.on('message', (data: Buffer, isBinary: boolean) => {
        conn.send(data, { binary: isBinary });
        if (conn.bufferedAmount > maxQueued) maxQueued = conn.bufferedAmount;
      });
    });
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await once(ws, 'open');
    const count = 1000;
    const size = 64 * KIB;
    const seen: number[] = [];
    let corrupt = 0;
    ws.on('message', (data: Buffer) => {
      const i = data.readUInt32BE(0);
      if (data.length !== size || data[size - 1] !== (i & 0xff)) corrupt++;
      seen.push(i);
    });
    let closedWith: number | undefined;
    ws.on('close', (code) => {
      closedWith = code;
    });
    // The client stops reading for a while, so the server's answers pile up unless it stops reading too.
    ws.pause();
    for (let i = 0; i < count; i++) {
      const m = Buffer.alloc(size, i & 0xff);
      m.writeUInt32BE(i, 0);
      ws.send(m, { binary: true });
    }
    // Until the server's answers have piled up past its pause mark: it stops reading then.
    await waitFor(() => maxQueued > 1 * MIB, 'the server queue past 1 MiB', 30_000);
    ws.resume();
    await waitFor(() => seen.length === count || closedWith !== undefined, 'every echo', 30_000);
    assert.equal(closedWith, undefined, 'the connection stays open');
    assert.equal(seen.length, count);
    assert.equal(corrupt, 0);
    assert.deepEqual(seen.slice(0, 5).concat(seen.slice(-5)), [0, 1, 2, 3, 4, 995, 996, 997, 998, 999]);
    assert.equal(serverErrors, 0);
    // One read chunk (at most 64 KiB of frames) is answered after the queue passed the mark.
    assert.ok(maxQueued <= 1 * MIB + 256 * KIB, `server queue peaked at ${maxQueued} bytes`);
    ws.close();
  });
}

/** Sends 64 KiB messages to `conn` until the cap drops it; returns how many went out. */
function floodUntilDropped(conn: WebSocketConnection): number {
  const m = Buffer.alloc(64 * KIB, 0x61);
  let sent = 0;
  while (conn.readyState === 1 && sent < 4096) {
    conn.send(m, { binary: true });
    sent++;
  }
  return sent;
}

test('a slow reader dropped at the cap still receives a close frame 1008 with a reason', async (t) => {
  let server: WebSocketConnection | undefined;
  const url = await engineServer(t, { maxBufferedBytes: 512 * KIB, closeTimeoutMs: 10_000 }, (conn) => {
    server = conn;
    conn.on('error', () => {});
  });
  const client = await connect(url);
  let messages = 0;
  client.on('message', () => messages++);
  const closed = once(client, 'close');
  await waitFor(() => server !== undefined, 'the server side');
  client.rawSocket.pause();
  const s = server!;
  const sent = floodUntilDropped(s);
  assert.equal(s.readyState, 2, 'CLOSING: the close frame is queued');
  assert.equal(s.dropReason, 'slow-reader');
  assert.ok(sent < 4096, 'the cap stopped the flood');
  client.rawSocket.resume();
  const [code, reason] = (await closed) as [number, string];
  assert.equal(code, 1008);
  assert.match(reason, /send buffer limit exceeded/);
  // Everything queued before the close frame arrived ahead of it; the refused message did not.
  assert.equal(messages, sent - 1);
});

test('a never-reading subscriber is dropped: close frame queued, socket destroyed after the close timeout, counted', async (t) => {
  const server = createWebSocketServer({ maxBufferedBytes: 256 * KIB, heartbeatIntervalMs: 0 });
  const port = await server.listen(0);
  t.after(() => server.close());
  const client = await connect(`ws://127.0.0.1:${port}/?client=a`);
  client.on('message', () => {});
  await waitFor(() => server.counters().subscribers === 1, 'the subscriber');
  client.rawSocket.pause();
  const big = 'x'.repeat(64 * KIB);
  // 25 MiB: more than the loopback socket buffers and the cap together hold.
  for (let i = 0; i < 400; i++) server.hub.publish(big);
  await waitFor(() => server.counters().droppedSlowReaders === 1, 'the drop');
  const c = server.counters();
  assert.equal(c.subscribers, 0, 'the dropped subscriber left the hub at once');
  assert.equal(c.droppedMissedPongs, 0);
  assert.equal(c.connectionsOpen, 1, 'its socket waits for the close frame to be read');
  // The engine's close timeout (5 s by default) destroys the socket of a peer that never reads.
  await waitFor(() => server.counters().connectionsOpen === 0, 'the socket to be destroyed', 15_000);
  client.terminate();
});
