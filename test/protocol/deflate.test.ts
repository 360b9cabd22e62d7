/** permessage-deflate (RFC 7692): negotiation from memory, the codec, and interop with ws both ways. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync } from 'node:zlib';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { acceptDeflateOffer, checkDeflateResponse, deflateOffer, PerMessageDeflate, type DeflateOptions } from '../../protocol/deflate.ts';
import { WebSocketServer } from '../../protocol/server.ts';
import { connect } from '../../protocol/client.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { encodeFrame, Opcode } from '../../protocol/frame.ts';
import { EventCollector, FrameParser } from '../../protocol/parser.ts';
import { waitFor } from '../helpers/wait.ts';
import { engineEchoServer } from './helpers.ts';

test('negotiation: the server takes the first acceptable offer and answers what it will do', () => {
  assert.deepEqual(acceptDeflateOffer('permessage-deflate; client_max_window_bits', {}), {
    response: 'permessage-deflate',
    params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
  });
  // The client asks the server not to keep context and to use a 10-bit window; the server limits the client to 12 bits.
  assert.deepEqual(
    acceptDeflateOffer('permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits', { clientMaxWindowBits: 12 }),
    {
      response: 'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
      params: { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 12 },
    },
  );
  // Without client_max_window_bits in the offer the server may not limit the client's window.
  assert.equal(acceptDeflateOffer('permessage-deflate', { clientMaxWindowBits: 12 })?.params.clientMaxWindowBits, 15);
  // Invalid offers are declined, a later valid one is taken.
  assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits=16', {}), null);
  assert.equal(acceptDeflateOffer('permessage-deflate; x_unknown', {}), null);
  assert.equal(acceptDeflateOffer('permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}), null);
  assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits=8', {}), null, 'zlib cannot honour 8 bits');
  assert.equal(
    acceptDeflateOffer('x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=99, permessage-deflate', {})?.response,
    'permessage-deflate',
  );
  assert.equal(acceptDeflateOffer('permessage-deflate; client_max_window_bits="10"', {})?.params.clientMaxWindowBits, 10);
  assert.equal(acceptDeflateOffer(undefined, {}), null);
});

test('negotiation: the client checks the answer against its offer', () => {
  const ours: DeflateOptions = { serverNoContextTakeover: true, serverMaxWindowBits: 12 };
  assert.equal(deflateOffer(ours), 'permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits');
  const ok = checkDeflateResponse('permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10', ours);
  assert.deepEqual(ok, {
    ok: true,
    params: { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 11, clientMaxWindowBits: 10 },
  });
  assert.equal(checkDeflateResponse('permessage-deflate; server_max_window_bits=12', ours).ok, false, 'server_no_context_takeover was required');
  assert.equal(checkDeflateResponse('permessage-deflate; server_no_context_takeover; server_max_window_bits=13', ours).ok, false, 'window above our limit');
  assert.equal(checkDeflateResponse('permessage-deflate; server_no_context_takeover; foo=1', ours).ok, false);
  assert.equal(checkDeflateResponse('permessage-deflate, permessage-deflate', {}).ok, false);
  assert.equal(checkDeflateResponse('x-other', {}).ok, false);
});

test('codec: round trips with and without context takeover; a bomb stops at the limit with 1009', () => {
  for (const noCtx of [false, true]) {
    const params = { serverNoContextTakeover: noCtx, clientNoContextTakeover: noCtx, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const server = new PerMessageDeflate(params, 'server', 1 << 20);
    const client = new PerMessageDeflate(params, 'client', 1 << 20);
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const m = Buffer.from(`{"type":"quote","symbol":"ACME","price":${100 + i}}`.repeat(4));
      const wire = server.compress(m);
      sizes.push(wire.length);
      assert.deepEqual(client.decompress(wire), m);
    }
    // With context takeover, later copies of the same text cost fewer bytes than the first.
    if (noCtx) assert.ok(sizes.every((s) => s === sizes[0]));
    else assert.ok(sizes[4]! < sizes[0]!, `${sizes}`);
    assert.ok(client.memoryBytes > 0 && server.memoryBytes > 0);
    assert.deepEqual(client.decompress(server.compress(Buffer.alloc(0))), Buffer.alloc(0));
    server.close();
    client.close();
    assert.equal(server.memoryBytes, 0);
  }
  const bomb = deflateRawSync(Buffer.alloc(50 << 20));
  const limited = new PerMessageDeflate(
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
    'server',
    64 << 10,
  );
  assert.throws(
    () => limited.decompress(bomb),
    (e: Error & { code?: string; closeCode?: number }) => e.code === 'WS_ERR_MESSAGE_TOO_BIG' && e.closeCode === 1009,
  );
  const garbage = new PerMessageDeflate(
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
    'server',
    1 << 20,
  );
  assert.throws(
    () => garbage.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff])),
    (e: Error & { code?: string; closeCode?: number }) => e.code === 'WS_ERR_INFLATE' && e.closeCode === 1007,
  );
});

test('parser: RSV1 only on the first frame of a data message once deflate is on', () => {
  const parse = (frames: Buffer[]) => {
    const c = new EventCollector();
    const p = new FrameParser(
      {
        role: 'client',
        inflate: (d) =>
          new PerMessageDeflate(
            { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
            'client',
            1 << 20,
          ).decompress(d),
      },
      c,
    );
    for (const f of frames) p.push(f);
    return c.events.map((e) => (e.type === 'error' ? e.error.code : e.type === 'message' ? e.data.toString() : e.type));
  };
  const comp = deflateRawSync(Buffer.from('hello hello'), { finishFlush: 2 }).subarray(0, -4);
  assert.deepEqual(parse([encodeFrame(comp, { opcode: Opcode.TEXT, rsv1: true })]), ['hello hello']);
  assert.deepEqual(parse([encodeFrame('x', { opcode: Opcode.PING, rsv1: true })]), ['WS_ERR_UNEXPECTED_RSV']);
  assert.deepEqual(
    parse([
      encodeFrame(comp.subarray(0, 3), { opcode: Opcode.TEXT, rsv1: true, fin: false }),
      encodeFrame(comp.subarray(3), { opcode: Opcode.CONTINUATION, rsv1: true }),
    ]),
    ['WS_ERR_UNEXPECTED_RSV'],
  );
  assert.deepEqual(
    parse([encodeFrame(comp.subarray(0, 3), { opcode: Opcode.TEXT, rsv1: true, fin: false }), encodeFrame(comp.subarray(3), { opcode: Opcode.CONTINUATION })]),
    ['hello hello'],
  );
  // Invalid UTF-8 is found in the inflated text.
  const bad = deflateRawSync(Buffer.from([0x61, 0xff]), { finishFlush: 2 }).subarray(0, -4);
  assert.deepEqual(parse([encodeFrame(bad, { opcode: Opcode.TEXT, rsv1: true })]), ['WS_ERR_INVALID_UTF8']);
});

const MESSAGES = [
  ...Array.from({ length: 20 }, (_, i) => `{"type":"quote","symbol":"ACME","price":${100 + i},"note":"${'compressible '.repeat(20)}"}`),
  '',
  'ü€𝄞',
];

function engineEcho(t: TestContext, pmd: DeflateOptions, maxMessageBytes?: number) {
  return engineEchoServer(t, createServer(), { perMessageDeflate: pmd, ...(maxMessageBytes !== undefined && { maxMessageBytes }) }, true);
}

for (const noCtx of [false, true]) {
  const label = noCtx ? 'without context takeover' : 'with context takeover';

  test(`interop, ws client → engine server, ${label}`, async (t) => {
    const { url, conns, http } = await engineEcho(t, { threshold: 0 });
    let wireIn = 0;
    http.on('upgrade', (_req, socket) => socket.on('data', (c: Buffer) => (wireIn += c.length)));
    const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0, serverNoContextTakeover: noCtx, clientNoContextTakeover: noCtx } });
    let answer = '';
    ws.on('upgrade', (res) => {
      answer = String(res.headers['sec-websocket-extensions']);
    });
    await once(ws, 'open');
    assert.match(answer, /^permessage-deflate/);
    assert.equal(/server_no_context_takeover/.test(answer), noCtx);
    assert.equal(/client_no_context_takeover/.test(answer), noCtx);
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    for (const m of MESSAGES) ws.send(m);
    const bin = Buffer.alloc(100_000, 3);
    ws.send(bin);
    await waitFor(() => got.length === MESSAGES.length + 1, 'every echo');
    assert.deepEqual(got.slice(0, -1), MESSAGES);
    assert.equal(got.at(-1)!.length, bin.length);
    assert.equal(conns[0]!.compressed, true);
    assert.ok(conns[0]!.extensionMemoryBytes > 0, 'zlib contexts are accounted');
    // Compressed on the wire: far fewer bytes than the text and the 100 kB of 3s.
    const raw = MESSAGES.reduce((a, m) => a + Buffer.byteLength(m), 0) + bin.length;
    assert.ok(wireIn < raw / 4, `${wireIn} bytes on the wire for ${raw}`);
    ws.close();
    await once(ws, 'close');
  });

  test(`interop, engine client → ws server, ${label}`, async (t) => {
    const http = createServer();
    const wss = new WsServer({ server: http, perMessageDeflate: { threshold: 0, serverNoContextTakeover: noCtx, clientNoContextTakeover: noCtx } });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    t.after(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    });
    const conn = await connect(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0 } });
    assert.equal(conn.compressed, true);
    assert.equal(/server_no_context_takeover/.test(conn.handshake?.responseHeaders ?? ''), noCtx);
    const got: string[] = [];
    conn.on('message', (d: Buffer) => got.push(d.toString()));
    for (const m of MESSAGES) conn.send(m);
    conn.send(Buffer.alloc(70_000, 9));
    await waitFor(() => got.length === MESSAGES.length + 1, 'every echo');
    assert.deepEqual(got.slice(0, -1), MESSAGES);
    const closed = new Promise<number>((r) => conn.once('close', (code: number) => r(code)));
    conn.close(1000);
    assert.equal(await closed, 1000);
  });
}

test('a decompression bomb closes 1009 without the message ever being delivered', async (t) => {
  const { url, conns } = await engineEcho(t, {}, 64 * 1024);
  const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
  await once(ws, 'open');
  await waitFor(() => conns.length === 1, 'the server side');
  const server = conns[0]!;
  // The server's end closes when it reads the client's FIN, which may come after the client's
  // own 'close' (the two sockets' events interleave differently from one Node to the next).
  const serverClosed = new Promise<number>((resolve) => server.once('close', resolve));
  let delivered = 0;
  ws.on('message', () => delivered++);
  // 50 MiB of zeros compress to about 50 kB: under the 64 KiB wire limit, far over it inflated.
  ws.send(Buffer.alloc(50 << 20));
  const [code] = (await once(ws, 'close')) as [number];
  assert.equal(code, 1009);
  assert.equal(await serverClosed, 1009);
  assert.equal(server.readyState, 3);
  assert.equal(delivered, 0);
});

test('the engine offers nothing and accepts nothing unless asked', async (t) => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (c: WebSocketConnection) => c.on('message', (d: Buffer) => c.send(d)));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  t.after(async () => {
    await wss.close();
    await new Promise((r) => http.close(r));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, { perMessageDeflate: true });
  await once(ws, 'open');
  assert.equal(ws.extensions, '');
  ws.close();
  await once(ws, 'close');
});
