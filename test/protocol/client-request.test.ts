/**
 * The client's opening handshake as the server reads it (RFC 6455 §4.1): its request lines, the
 * offers and the caller's headers; a URL the client cannot take is a HandshakeError before any
 * connection is made.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { connect, HandshakeError } from '../../protocol/index.ts';

test('a URL that does not parse, or is not ws:// or wss://, is refused with a HandshakeError', async () => {
  await assert.rejects(connect('not a url'), (e) => e instanceof HandshakeError && e.message === 'invalid URL: not a url');
  await assert.rejects(connect('http://127.0.0.1:1/'), (e) => e instanceof HandshakeError && e.message === 'unsupported scheme http:');
});

test('the request carries the path and query, the key and version, the offers, the origin and the extra headers, to an IPv6 literal without its brackets', async (t) => {
  const server = createServer();
  server.listen(0, '::1');
  try {
    await once(server, 'listening');
  } catch (e) {
    t.skip(`no IPv6 loopback here: ${(e as Error).message}`);
    return;
  }
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const head = new Promise<string>((resolve) => {
    server.once('connection', (s: Socket) => {
      let text = '';
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          resolve(text);
          s.destroy();
        }
      });
    });
  });
  const opening = connect(`ws://[::1]:${port}/feed?x=1`, {
    protocols: ['a', 'b'],
    perMessageDeflate: true,
    origin: 'http://example.test',
    headers: { 'X-Lab': 'yes' },
  });
  const lines = (await head).split('\r\n');
  await assert.rejects(opening, HandshakeError, 'the connection closed before any answer');
  assert.equal(lines[0], 'GET /feed?x=1 HTTP/1.1');
  assert.equal(lines[1], `Host: [::1]:${port}`);
  assert.deepEqual(lines.slice(2, 4), ['Upgrade: websocket', 'Connection: Upgrade']);
  assert.match(lines[4]!, /^Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==$/);
  assert.deepEqual(lines.slice(5, 10), [
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: a, b',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    'Origin: http://example.test',
    'X-Lab: yes',
  ]);
});
