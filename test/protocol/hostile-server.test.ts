/**
 * The engine's client against a scripted server on 127.0.0.1 that sends what a server must not:
 * every case ends with the right close code (and the client's close frame carrying it) or the
 * right handshake error. Each frame-level case runs over two carriers: a raw `node:net` socket
 * after an HTTP/1.1 upgrade, and an HTTP/2 stream after an extended CONNECT (RFC 8441), where
 * the frames, their masking and the closing handshake are the same.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { connect, type ConnectOptions } from '../../protocol/client.ts';
import { connectH2, H2_WEBSOCKET_SETTINGS } from '../../protocol/h2.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { HandshakeError, ProtocolError } from '../../protocol/errors.ts';
import { computeAccept } from '../../protocol/handshake.ts';
import { EventCollector, FrameParser } from '../../protocol/parser.ts';
import { EngineClient } from '../../clients/websocket.ts';
import { waitFor } from '../helpers/wait.ts';

/** What the script answers the upgrade with; `accept` is the correct Sec-WebSocket-Accept. */
type Answer = (accept: string) => string;
const good101: Answer = (accept) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;

interface Script {
  /** The handshake answer (default: a correct 101). */
  answer?: Answer;
  /** Bytes written right after the answer. */
  frames?: Buffer;
  /** Never answer the client's close frame, never close TCP. */
  silent?: boolean;
}

/** How the scripted server and the client reach each other: an upgraded TCP socket, or an h2 stream. */
type Carrier = 'h1' | 'h2';
const CARRIERS: readonly Carrier[] = ['h1', 'h2'];

/** A scripted server: answers one upgrade, writes `frames`, and collects what the client sends. */
async function hostile(t: TestContext, script: Script, carrier: Carrier = 'h1'): Promise<{ url: string; fromClient: EventCollector; sockets: Duplex[] }> {
  if (carrier === 'h2') return hostileH2(t, script);
  const fromClient = new EventCollector();
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    let head = Buffer.alloc(0);
    let parser: FrameParser | null = null;
    sock.on('data', (chunk: Buffer) => {
      if (parser) {
        parser.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? '';
      parser = new FrameParser({ role: 'server' }, fromClient);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) parser.push(Buffer.from(rest));
      sock.write((script.answer ?? good101)(computeAccept(key)));
      if (script.frames) sock.write(script.frames);
    });
    // A well-behaved server would close TCP after the client's close frame; the silent one never does.
    if (!script.silent) sock.on('end', () => sock.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, fromClient, sockets };
}

/** The same script over HTTP/2 (cleartext, prior knowledge): a 200 to the extended CONNECT, then the frames on the stream. */
async function hostileH2(t: TestContext, script: Script): Promise<{ url: string; fromClient: EventCollector; sockets: Duplex[] }> {
  const fromClient = new EventCollector();
  const streams: ServerHttp2Stream[] = [];
  const server = createH2Server({ settings: H2_WEBSOCKET_SETTINGS });
  server.on('stream', (stream) => {
    streams.push(stream);
    stream.on('error', () => {});
    const parser = new FrameParser({ role: 'server' }, fromClient);
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.respond({ ':status': 200 });
    if (script.frames) stream.write(script.frames);
    // END_STREAM answers END_STREAM, as a TCP close answers a TCP close; the silent server never ends its side.
    if (!script.silent) stream.on('end', () => stream.end());
  });
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => sessions.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, fromClient, sockets: streams };
}

/** A server frame written by hand: first byte, then the length bytes as given, then the payload. */
function frame(b0: number, lengthBytes: number[], payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([b0, ...lengthBytes]), payload]);
}
const text = (s: string | Buffer): Buffer => {
  const p = typeof s === 'string' ? Buffer.from(s) : s;
  return frame(0x81, [p.length], p);
};

interface Outcome {
  code: number;
  reason: string;
  errors: ProtocolError[];
  messages: string[];
  conn: WebSocketConnection;
}

/** Connects, listens to everything, and waits for 'close'. */
async function outcome(url: string, options: ConnectOptions = {}, act?: (c: WebSocketConnection) => void, carrier: Carrier = 'h1'): Promise<Outcome> {
  const settings = { closeTimeoutMs: 2000, ...options };
  const conn = carrier === 'h1' ? await connect(url, settings) : await connectH2(url, settings);
  const errors: ProtocolError[] = [];
  const messages: string[] = [];
  conn.on('error', (e: Error) => {
    if (e instanceof ProtocolError) errors.push(e);
  });
  conn.on('message', (d: Buffer) => messages.push(d.toString()));
  // Not events.once: it would reject on the 'error' that comes before 'close'.
  const closed = new Promise<[number, string]>((resolve) => conn.once('close', (code: number, reason: string) => resolve([code, reason])));
  act?.(conn);
  const [code, reason] = await closed;
  return { code, reason, errors, messages, conn };
}

/** Cases that must fail the connection with `code`: the client reports it and sends it in its close frame. */
const failing: Array<{ name: string; frames: Buffer; code: number; error: string; options?: ConnectOptions }> = [
  { name: 'a masked frame', frames: frame(0x81, [0x80 | 2, 1, 2, 3, 4], Buffer.from([0x69 ^ 1, 0x69 ^ 2])), code: 1002, error: 'WS_ERR_UNEXPECTED_MASK' },
  { name: 'reserved data opcode 0x3', frames: frame(0x83, [0]), code: 1002, error: 'WS_ERR_INVALID_OPCODE' },
  { name: 'reserved control opcode 0xB', frames: frame(0x8b, [0]), code: 1002, error: 'WS_ERR_INVALID_OPCODE' },
  { name: 'RSV1 without an extension', frames: frame(0xc1, [1], Buffer.from('a')), code: 1002, error: 'WS_ERR_UNEXPECTED_RSV' },
  { name: 'RSV2 and RSV3', frames: frame(0xb1, [1], Buffer.from('a')), code: 1002, error: 'WS_ERR_UNEXPECTED_RSV' },
  { name: 'a fragmented ping', frames: frame(0x09, [1], Buffer.from('p')), code: 1002, error: 'WS_ERR_FRAGMENTED_CONTROL_FRAME' },
  { name: 'a ping of 126 bytes', frames: frame(0x89, [126, 0, 126], Buffer.alloc(126)), code: 1002, error: 'WS_ERR_CONTROL_FRAME_TOO_LONG' },
  { name: 'invalid UTF-8 in text', frames: text(Buffer.from([0x61, 0xc3, 0x28])), code: 1007, error: 'WS_ERR_INVALID_UTF8' },
  { name: 'invalid UTF-8 in a close reason', frames: frame(0x88, [4], Buffer.from([0x03, 0xe8, 0xff, 0xfe])), code: 1007, error: 'WS_ERR_INVALID_UTF8' },
  { name: 'close code 1005, which may not be sent', frames: frame(0x88, [2], Buffer.from([0x03, 0xed])), code: 1002, error: 'WS_ERR_INVALID_CLOSE_CODE' },
  { name: 'close code 1006, which may not be sent', frames: frame(0x88, [2], Buffer.from([0x03, 0xee])), code: 1002, error: 'WS_ERR_INVALID_CLOSE_CODE' },
  { name: 'close code 999', frames: frame(0x88, [2], Buffer.from([0x03, 0xe7])), code: 1002, error: 'WS_ERR_INVALID_CLOSE_CODE' },
  { name: 'a 64-bit length with its top bit set', frames: frame(0x82, [127, 0x80, 0, 0, 0, 0, 0, 0, 1]), code: 1002, error: 'WS_ERR_INVALID_LENGTH' },
  {
    name: 'a message over the limit (announced length)',
    frames: frame(0x82, [126, 0x07, 0xd0], Buffer.alloc(2000)),
    code: 1009,
    error: 'WS_ERR_MESSAGE_TOO_BIG',
    options: { maxMessageBytes: 1000 },
  },
  {
    name: 'a message over the limit (fragments)',
    frames: Buffer.concat([frame(0x02, [126, 0x02, 0x58], Buffer.alloc(600)), frame(0x80, [126, 0x02, 0x58], Buffer.alloc(600))]),
    code: 1009,
    error: 'WS_ERR_MESSAGE_TOO_BIG',
    options: { maxMessageBytes: 1000 },
  },
  { name: 'a 16-bit length where 7 bits suffice', frames: frame(0x81, [126, 0, 2], Buffer.from('hi')), code: 1002, error: 'WS_ERR_NON_MINIMAL_LENGTH' },
];

for (const carrier of CARRIERS)
  for (const c of failing) {
    test(`hostile server (${carrier}): ${c.name} fails the connection with ${c.code}`, async (t) => {
      const { url, fromClient } = await hostile(t, { frames: c.frames }, carrier);
      const o = await outcome(url, c.options, undefined, carrier);
      assert.equal(o.code, c.code);
      assert.deepEqual(
        o.errors.map((e) => e.code),
        [c.error],
      );
      assert.deepEqual(o.messages, []);
      // §7.1.7: the client sent a close frame with that code before closing TCP.
      await waitFor(() => fromClient.events.some((e) => e.type === 'close'), "the client's close frame");
      const close = fromClient.events.find((e) => e.type === 'close');
      assert.deepEqual(close && close.type === 'close' ? close.code : undefined, c.code);
    });
  }

const badAnswers: Array<{ name: string; answer: Answer; match: RegExp; protocols?: string[] }> = [
  {
    name: 'a wrong Sec-WebSocket-Accept',
    answer: () => good101(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')),
    match: /Sec-WebSocket-Accept/,
  },
  {
    name: 'an unrequested subprotocol',
    answer: (a) => good101(a).replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n'),
    match: /subprotocol "chat" that was not offered/,
  },
  {
    name: 'a subprotocol other than the ones offered',
    answer: (a) => good101(a).replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n'),
    match: /subprotocol "chat" that was not offered/,
    protocols: ['superchat'],
  },
  {
    name: 'an unrequested extension',
    answer: (a) => good101(a).replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x-unknown\r\n\r\n'),
    match: /extension/,
  },
  { name: 'a 200 instead of a 101', answer: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno', match: /200 instead of 101/ },
];

for (const c of badAnswers) {
  test(`hostile server: ${c.name} is a handshake error`, async (t) => {
    const { url } = await hostile(t, { answer: c.answer, frames: text('never delivered') });
    await assert.rejects(connect(url, c.protocols ? { protocols: c.protocols } : {}), (e: unknown) => e instanceof HandshakeError && c.match.test(e.message));
  });
}

for (const carrier of CARRIERS)
  test(`hostile server (${carrier}): data after its close frame is ignored, the close code is the server’s`, async (t) => {
    const close = frame(0x88, [5], Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]));
    const { url } = await hostile(t, { frames: Buffer.concat([text('before'), close, text('after'), frame(0x83, [0])]) }, carrier);
    const o = await outcome(url, {}, undefined, carrier);
    assert.equal(o.code, 1000);
    assert.equal(o.reason, 'bye');
    assert.deepEqual(o.messages, ['before']);
    assert.deepEqual(o.errors, []);
  });

for (const carrier of CARRIERS)
  test(`hostile server (${carrier}): a server that never answers the closing handshake is dropped after the close timeout`, async (t) => {
    const { url, fromClient } = await hostile(t, { silent: true }, carrier);
    const o = await outcome(url, { closeTimeoutMs: 300 }, (c) => c.close(1000, 'done'), carrier);
    // No close frame came back: the connection ended abnormally (1006) when the timer destroyed TCP.
    assert.equal(o.code, 1006);
    assert.equal(o.conn.readyState, 3);
    const sent = fromClient.events.find((e) => e.type === 'close');
    assert.ok(sent && sent.type === 'close' && sent.code === 1000 && sent.reason === 'done');
  });

test('the lab load client reports a connection the server failed, instead of losing messages silently', async (t) => {
  const { url } = await hostile(t, { frames: frame(0x83, [0]) });
  const errors: string[] = [];
  const client = new EngineClient({
    baseUrl: url.replace(/^ws/, 'http').replace(/\/$/, ''),
    clientId: 'a',
    onMessage: () => {},
    onError: (e) => errors.push(e.message),
  });
  await client.start();
  await waitFor(() => errors.length >= 2, 'the reported failure');
  assert.match(errors[0]!, /unknown opcode/);
  assert.match(errors[1]!, /closed .*: 1002/);
  await assert.rejects(client.send('lost'), /not open/);
  await client.stop();
});
