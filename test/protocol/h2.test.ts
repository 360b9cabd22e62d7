/** WebSocket over HTTP/2 (RFC 8441): the engine's server and client on one h2 connection, end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants, createSecureServer, createServer as createH2Server, type ClientHttp2Stream, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connectH2, H2_WEBSOCKET_SETTINGS, isExtendedConnect, openH2Session, validateExtendedConnect } from '../../protocol/h2.ts';
import { WebSocketServer } from '../../protocol/server.ts';
import type { WebSocketConnection } from '../../protocol/connection.ts';
import { HandshakeError } from '../../protocol/errors.ts';
import { TokenStore } from '../../protocol/handshake.ts';
import { engineH2EchoServer } from './helpers.ts';
import { selfSignedCertificate } from './self-signed.ts';

const CONNECT = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat',
  ':authority': 'lab.test',
  'sec-websocket-version': '13',
};

test('validateExtendedConnect: RFC 8441 §4 and §5, no Key and no Accept', () => {
  const ok = validateExtendedConnect(CONNECT);
  assert.ok(ok.ok);
  assert.deepEqual(ok.responseHeaders, {});
  const chat = validateExtendedConnect({ ...CONNECT, 'sec-websocket-protocol': 'superchat, chat' }, { protocols: ['chat'] });
  assert.ok(chat.ok && chat.protocol === 'chat' && chat.responseHeaders['Sec-WebSocket-Protocol'] === 'chat');
  const refusals: Array<[Record<string, string>, number, RegExp]> = [
    [{ ...CONNECT, ':method': 'GET' }, 405, /CONNECT/],
    [{ ...CONNECT, ':protocol': 'webtransport' }, 400, /:protocol/],
    [{ ...CONNECT, ':path': '' }, 400, /:scheme or :path/],
    [{ ...CONNECT, 'sec-websocket-version': '8' }, 400, /version/],
  ];
  for (const [headers, status, reason] of refusals) {
    const d = validateExtendedConnect(headers);
    assert.ok(!d.ok, JSON.stringify(headers));
    assert.equal(d.status, status);
    assert.match(d.reason, reason);
  }
  const version = validateExtendedConnect({ ...CONNECT, 'sec-websocket-version': '8' });
  assert.deepEqual(!version.ok && version.headers, { 'sec-websocket-version': '13' });
});

/** The next message of a connection, as text or hex. */
function next(conn: WebSocketConnection): Promise<string> {
  return new Promise((resolve) => conn.once('message', (d: Buffer, isBinary: boolean) => resolve(isBinary ? d.toString('hex') : d.toString())));
}

test('wss over h2: masked frames both ways, every length encoding, several WebSockets on one TLS connection', async (t) => {
  const { key, cert } = await selfSignedCertificate();
  const { url, conns } = await engineH2EchoServer(t, {}, { key, cert });
  const session = openH2Session(url.replace(/^wss/, 'https'), { ca: cert });
  t.after(() => session.destroy());
  const a = await connectH2(url, { session });
  const b = await connectH2(url, { session });
  assert.equal(conns.length, 2);
  assert.equal(session.alpnProtocol, 'h2');
  for (const size of [0, 1, 125, 126, 65535, 65536, 1024 * 1024]) {
    const payload = Buffer.alloc(size, size & 0xff);
    const got = next(a);
    a.send(payload);
    assert.equal(await got, payload.toString('hex'), `${size} bytes`);
  }
  const fragmented = next(b);
  b.send('one message in five frames', { fragmentSize: 6 });
  assert.equal(await fragmented, 'one message in five frames');
  const pong = once(b, 'pong');
  b.ping('are you there');
  assert.equal(String((await pong)[0]), 'are you there');
  // Both streams are on the one session: a third WebSocket opens no new connection.
  const c = await connectH2(url, { session });
  const echoed = next(c);
  c.send('third');
  assert.equal(await echoed, 'third');
  for (const conn of [a, b, c]) {
    const closed = once(conn, 'close');
    conn.close(1000, 'done');
    // The code the server's close frame echoed (RFC 6455 §5.5.1).
    assert.equal((await closed)[0], 1000);
  }
  assert.equal(session.closed, false, 'closing the WebSockets leaves the shared session open');
});

test('h2: the close handshake ends the stream with END_STREAM both ways; a drop resets it with CANCEL', async (t) => {
  const { url, conns } = await engineH2EchoServer(t, {}, undefined, true);
  const conn = await connectH2(url);
  const stream = conn.rawSocket as ClientHttp2Stream;
  const closed = once(conn, 'close');
  conn.close(1001, 'going');
  assert.equal((await closed)[0], 1001);
  // RFC 8441 §5: an orderly closure is END_STREAM, not a reset.
  assert.equal(stream.rstCode, constants.NGHTTP2_NO_ERROR);

  const dropped = await connectH2(url);
  const droppedStream = dropped.rawSocket as ClientHttp2Stream;
  const gone = once(dropped, 'close');
  conns.at(-1)!.terminate();
  assert.equal((await gone)[0], 1006);
  // RFC 8441 §5: "RST exceptions are represented with the RST_STREAM frame with the CANCEL error code".
  assert.equal(droppedStream.rstCode, constants.NGHTTP2_CANCEL);
});

test('h2: a refused extended CONNECT is an HTTP/2 status the client reports', async (t) => {
  const tokens = new TokenStore();
  const { url } = await engineH2EchoServer(t, { tokens, allowOrigins: ['http://lab.test'] });
  const good = tokens.issue();
  const cases: Array<[string, Parameters<typeof connectH2>[1], number]> = [
    [`${url}?token=${good}`, { origin: 'http://evil.test' }, 403],
    [`${url}?token=nope`, { origin: 'http://lab.test' }, 401],
    [`${url}?token=${good}`, { origin: 'http://lab.test', headers: { 'sec-websocket-version': '8' } }, 400],
  ];
  for (const [u, o, status] of cases) {
    await assert.rejects(connectH2(u, o), (e: unknown) => e instanceof HandshakeError && e.status === status && /instead of 200/.test(e.message));
  }
  const conn = await connectH2(`${url}?token=${good}`, { origin: 'http://lab.test' });
  conn.terminate();
});

test('h2: a server that does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL gets no extended CONNECT', async (t) => {
  const h2 = createH2Server();
  let streams = 0;
  h2.on('stream', (s) => {
    streams++;
    s.respond({ ':status': 404 });
    s.end();
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  t.after(() => new Promise((r) => h2.close(r)));
  await assert.rejects(connectH2(`ws://127.0.0.1:${(h2.address() as AddressInfo).port}/`), /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
  assert.equal(streams, 0, 'no stream was opened');
});

test('h2: WebSockets and event streams share one TLS connection', async (t) => {
  const { key, cert } = await selfSignedCertificate();
  const h2 = createSecureServer({ key, cert, settings: H2_WEBSOCKET_SETTINGS });
  const wss = new WebSocketServer({});
  let tcp = 0;
  h2.on('connection', () => tcp++);
  const events: ServerHttp2Stream[] = [];
  h2.on('stream', (stream, headers) => {
    if (isExtendedConnect(headers)) {
      wss.handleStream(stream, headers, (conn) => conn.on('message', (d: Buffer) => conn.send(`echo ${d}`)));
      return;
    }
    // An event stream written by hand: a head, then one event per push.
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    events.push(stream);
  });
  h2.listen(0, '127.0.0.1');
  await once(h2, 'listening');
  const port = (h2.address() as AddressInfo).port;
  const session = openH2Session(`https://127.0.0.1:${port}`, { ca: cert });
  t.after(async () => {
    await wss.close();
    session.destroy();
    await new Promise((r) => h2.close(r));
  });
  const sockets = [await connectH2(`wss://127.0.0.1:${port}/a`, { session }), await connectH2(`wss://127.0.0.1:${port}/b`, { session })];
  const streams = ['/events?x=1', '/events?x=2'].map((path) => session.request({ ':path': path }));
  const texts = streams.map((s) => {
    s.setEncoding('utf8');
    let text = '';
    s.on('data', (c: string) => {
      text += c;
    });
    return () => text;
  });
  await Promise.all(streams.map((s) => once(s, 'response')));
  for (const [i, e] of events.entries()) e.write(`data: event ${i}\n\n`);
  const echoes = await Promise.all(
    sockets.map((c, i) => {
      const got = next(c);
      c.send(`ws ${i}`);
      return got;
    }),
  );
  assert.deepEqual(echoes, ['echo ws 0', 'echo ws 1']);
  while (texts.some((text) => !text().includes('\n\n'))) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    texts.map((text) => text()),
    ['data: event 0\n\n', 'data: event 1\n\n'],
  );
  assert.equal(tcp, 1, 'two WebSockets and two event streams on one TCP connection');
  assert.equal(session.alpnProtocol, 'h2');
  for (const c of sockets) c.close(1000);
  for (const e of events) e.end();
});
