/**
 * Wire accounting: a scripted exchange on a raw socket, whose bytes the test
 * counts itself, must equal what the server's socket meter reports — for
 * every transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { transport as describe_, transports } from '../transports/index.ts';
import type { TransportServer } from '../servers/contract.ts';
import { startServer } from './helpers.ts';
import { waitFor } from './helpers/wait.ts';

/** A raw client socket that keeps every byte it receives. */
async function rawConnect(port: number): Promise<{ sock: net.Socket; received: () => Buffer }> {
  const sock = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'connect');
  return { sock, received: () => Buffer.concat(chunks) };
}

/** Closes the socket and waits until the server has seen every connection close. */
async function finish(sock: net.Socket, server: TransportServer): Promise<void> {
  sock.end();
  await waitFor(() => server.counters().connectionsOpen === 0, 'the server to see the close');
}

// The peer rows speak their own protocols (Engine.IO, uWS, websocketd) and count bytes their own
// way (test/peers.test.ts); these scripted exchanges are the lab's own rows'.
// The scripted exchanges are HTTP/1.1: the h2 rows' bytes are checked frame by frame (test/h2-hpack.test.ts).
const httpTransports = transports()
  .filter((d) => d.traits.delivery !== 'frames' && !d.peer && d.httpServer !== 'h2' && d.notOverH2 === undefined)
  .map((d) => d.name);

for (const transport of httpTransports) {
  test(`${transport}: the meter counts exactly the bytes of a scripted exchange`, async (t) => {
    const { server, baseUrl } = await startServer(t, transport);
    const port = Number(new URL(baseUrl).port);
    const payload = 'p'.repeat(64);
    const delivery = describe_(transport).traits.delivery;
    const path = delivery === 'stream' ? '/events?cursor=0' : '/poll?cursor=0';
    if (delivery === 'poll') server.hub.publish(payload);
    const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n`);
    const { sock, received } = await rawConnect(port);
    sock.write(request);
    if (delivery !== 'poll') {
      await waitFor(() => server.counters().requests === 1, 'the request to arrive');
      server.hub.publish(payload);
    }
    await waitFor(() => received().includes(payload), 'the message');
    await finish(sock, server);
    const c = server.counters();
    assert.equal(c.bytesRead, request.length, 'client → server bytes');
    assert.equal(c.bytesWritten, received().length, 'server → client bytes');
    // The split: the payload is inside, everything else is overhead the transport paid.
    const text = received().toString();
    assert.ok(c.bytesWritten - payload.length > 0);
    if (delivery === 'stream') assert.match(text, /\r\n\r\n[0-9a-f]+\r\nretry: \d+\n\n/);
    else assert.match(text, new RegExp(`"messages":\\[\\{"id":1,"data":"${payload}"\\}\\]`));
  });
}

for (const transport of ['polling', 'polling-node'])
  test(`${transport}: POST /publish request and response bytes are counted as sent and received`, async (t) => {
    const { server, baseUrl } = await startServer(t, transport);
    const body = 'hello world';
    const request = Buffer.from(
      `POST /publish HTTP/1.1\r\nHost: lab\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    const { sock, received } = await rawConnect(Number(new URL(baseUrl).port));
    sock.write(request);
    await waitFor(() => received().includes('"seq":1'), 'the answer');
    await finish(sock, server);
    assert.equal(server.counters().bytesRead, request.length);
    assert.equal(server.counters().bytesWritten, received().length);
  });

// The WebSocket rows; the raw TCP ceiling upgrades to newline-delimited lines, not frames.
const wsTransports = transports()
  .filter((d) => d.traits.delivery === 'frames' && d.role !== 'ceiling' && !d.peer && d.httpServer !== 'h2' && d.notOverH2 === undefined)
  .map((d) => d.name);

for (const transport of wsTransports) {
  test(`${transport}: handshake and frames are counted to the byte`, async (t) => {
    const { server, baseUrl } = await startServer(t, transport);
    const key = Buffer.alloc(16, 7).toString('base64');
    const handshake = Buffer.from(
      `GET /?client=a HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const { sock, received } = await rawConnect(Number(new URL(baseUrl).port));
    sock.write(handshake);
    await waitFor(() => received().includes('\r\n\r\n'), 'the 101 response');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.match(received().toString(), new RegExp(`^HTTP/1.1 101 .*Sec-WebSocket-Accept: ${accept.replace(/[+/]/g, '\\$&')}`, 's'));
    const responseHead = received().length;
    // A masked 5-byte text frame, written out by hand: FIN+text, MASK|5, key, masked "hello".
    const mask = [1, 2, 3, 4];
    const hello = Buffer.from('hello');
    const frame = Buffer.from([0x81, 0x80 | 5, ...mask, ...hello.map((b, i) => b ^ mask[i % 4]!)]);
    sock.write(frame);
    // The echo is 2 + 5 bytes; a 64-byte broadcast is 2 + 64.
    await waitFor(() => received().length === responseHead + 7, 'the echo');
    server.hub.publish('b'.repeat(64));
    await waitFor(() => received().length === responseHead + 7 + 66, 'the broadcast');
    assert.deepEqual([...received().subarray(responseHead, responseHead + 2)], [0x81, 5]);
    assert.deepEqual([...received().subarray(responseHead + 7, responseHead + 9)], [0x81, 64]);
    sock.destroy();
    await waitFor(() => server.counters().connectionsOpen === 0, 'the server to see the close');
    assert.equal(server.counters().bytesRead, handshake.length + frame.length);
    assert.equal(server.counters().bytesWritten, received().length);
  });
}

// The engine and ws apply the same cap, so their rows compare like with like.
// The raw TCP ceiling keeps no send cap: it measures the bare socket, so it is not in this check.
const streamingTransports = transports()
  .filter(
    (d) =>
      (d.traits.delivery === 'stream' || d.traits.delivery === 'frames') &&
      d.role !== 'ceiling' &&
      !d.peer &&
      d.httpServer !== 'h2' &&
      d.notOverH2 === undefined,
  )
  .map((d) => d.name);

for (const transport of streamingTransports) {
  test(`${transport}: a subscriber that never reads is dropped once its backlog passes the cap`, async (t) => {
    const { server, baseUrl } = await startServer(t, transport, { maxBufferedBytes: 256 * 1024 });
    const port = Number(new URL(baseUrl).port);
    const { sock } = await rawConnect(port);
    t.after(() => sock.destroy()); // a failed check must not leave the server waiting on this socket
    sock.pause(); // never read: the kernel buffers fill, then the server's
    if (describe_(transport).traits.delivery === 'stream') sock.write('GET /events HTTP/1.1\r\nHost: lab\r\n\r\n');
    else
      sock.write(
        `GET / HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    await waitFor(() => server.counters().subscribers === 1, 'the subscription');
    const big = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 400 && server.counters().subscribers === 1; i++) {
      server.hub.publish(big);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => server.counters().subscribers === 0, 'the slow reader to be dropped');
    assert.equal(server.counters().errors, 1, 'the drop is counted once');
    // Well below the 25 MiB published: the cap, plus what the kernel's socket buffers took.
    assert.ok(server.counters().bytesWritten < 20 * 1024 * 1024, `${server.counters().bytesWritten} bytes written`);
    sock.destroy();
  });
}
