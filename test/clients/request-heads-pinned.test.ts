/**
 * The HTTP load clients' requests, byte for byte (the port and the WebSocket key aside), pinned
 * to what they sent before their hot paths were reworked for speed: the first poll, a poll with
 * a cursor, the SSE stream's GET, the upward POST and the WebSocket upgrade. A server made of a
 * raw TCP listener records each request head and answers it as the lab's servers would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { appendFileSync, readFileSync } from 'node:fs';
import type { ClientOptions, TransportClient } from '../../clients/contract.ts';
import { PollingClient } from '../../clients/polling.ts';
import { LongPollingClient } from '../../clients/long-polling.ts';
import { SseClient } from '../../clients/sse.ts';
import { EngineClient } from '../../clients/websocket.ts';
import { WsClient } from '../../clients/ws.ts';

/** The distinct request heads recorded, with the port written as PORT and the key as KEY. */
async function recordHeads(make: (o: ClientOptions) => TransportClient, drive: (c: TransportClient) => Promise<void>): Promise<string[]> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // A client that stops with a request in flight resets its connection: nothing for the recorder to do.
    socket.on('error', () => {});
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buf += d;
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const body = buf.slice(end + 4, end + 4 + length);
        buf = buf.slice(end + 4 + length);
        heads.push(`${head}\r\n\r\n${body}`);
        answer(socket, head);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = make({ baseUrl: `http://127.0.0.1:${port}`, clientId: 'c1', onMessage: () => {}, headers: 'browser', pollIntervalMs: 50 });
  try {
    await drive(client);
  } finally {
    await client.stop().catch(() => {});
    for (const s of sockets) s.destroy();
    server.close();
  }
  // Each distinct request once, in order of first sight: how many polls fit in the wait is timing.
  return [...new Set(heads.map((h) => h.replaceAll(String(port), 'PORT').replace(/(sec-websocket-key): [A-Za-z0-9+/=]{24}/i, '$1: KEY')))];
}

/** What the lab's servers would answer, enough for each client to go on. */
function answer(socket: Socket, head: string): void {
  const line = head.slice(0, head.indexOf('\r\n'));
  const reply = (status: string, headers: string[], body = '') =>
    socket.write(`HTTP/1.1 ${status}\r\n${[...headers, `content-length: ${Buffer.byteLength(body)}`].join('\r\n')}\r\n\r\n${body}`);
  if (line.startsWith('GET /poll?client=')) reply('200 OK', ['content-type: application/json'], '{"next":7,"gap":null,"messages":[]}');
  else if (line.startsWith('GET /poll?cursor=')) reply('204 No Content', ['x-next-cursor: 7']);
  else if (line.startsWith('POST /send')) reply('202 Accepted', ['content-type: application/json'], '{"ok":true}');
  else if (line.startsWith('GET /events')) socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
  // A WebSocket upgrade is not answered: its request is what is compared.
}

const sendAndWait = async (c: TransportClient) => {
  await c.start();
  await c.send('5.abc.0.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
  await new Promise((r) => setTimeout(r, 150));
};

/** As recorded from the clients before the rework (RECORD_HEADS=FILE appends what they send now). */
const PINNED = JSON.parse(readFileSync(new URL('../fixtures/request-heads.json', import.meta.url), 'utf8')) as Record<string, string[]>;

const CASES: [string, (o: ClientOptions) => TransportClient, (c: TransportClient) => Promise<void>][] = [
  ['polling', (o) => new PollingClient(o), sendAndWait],
  ['long-polling', (o) => new LongPollingClient(o), sendAndWait],
  ['sse', (o) => new SseClient(o), sendAndWait],
  // The upgrade is never answered: start() fails with a timeout or a closed socket, after the request went.
  ['websocket', (o) => new EngineClient(o), (c) => Promise.race([c.start().catch(() => {}), new Promise((r) => setTimeout(r, 300))]).then(() => {})],
  ['ws', (o) => new WsClient(o), (c) => Promise.race([c.start().catch(() => {}), new Promise((r) => setTimeout(r, 300))]).then(() => {})],
];

for (const [name, make, drive] of CASES) {
  test(`${name}: the requests are byte for byte as pinned`, async () => {
    const heads = await recordHeads(make, drive);
    const record = process.env['RECORD_HEADS'];
    if (record) appendFileSync(record, `${JSON.stringify({ [name]: heads })}\n`);
    assert.ok(heads.length > 0, `${name}: no request recorded`);
    // Which of two connections' requests arrives first is timing too: the set is compared.
    assert.deepEqual([...heads].sort(), [...(PINNED[name] ?? [])].sort());
  });
}
