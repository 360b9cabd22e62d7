import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeAccept,
  validateUpgradeRequest,
  checkUpgradeResponse,
  parseResponseHead,
  makeKey,
  TokenStore,
  type HeaderMap,
  type UpgradeRequest,
} from '../../protocol/handshake.ts';
import { HandshakeError } from '../../protocol/errors.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const good = (extra: HeaderMap = {}, url = '/chat'): UpgradeRequest => ({
  method: 'GET',
  url,
  headers: {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
    ...extra,
  },
});
const status = (req: UpgradeRequest, options = {}): number => {
  const d = validateUpgradeRequest(req, options);
  return d.ok ? 101 : d.status;
};

test('RFC 6455 §1.3 sample: Sec-WebSocket-Accept', () => {
  assert.equal(computeAccept(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  const d = validateUpgradeRequest(good());
  assert.equal(d.ok, true);
  if (!d.ok) return;
  assert.equal(d.accept, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  assert.deepEqual(d.responseHeaders, { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': d.accept });
  assert.equal(d.protocol, undefined);
});

test('method must be GET (405)', () => {
  for (const method of ['POST', 'PUT', 'HEAD', undefined]) assert.equal(status({ ...good(), method }), 405);
});

test('Upgrade and Connection headers (400), case-insensitive, token lists', () => {
  assert.equal(status(good({ upgrade: undefined })), 400);
  assert.equal(status(good({ upgrade: 'h2c' })), 400);
  assert.equal(status(good({ upgrade: 'WebSocket' })), 101);
  assert.equal(status(good({ connection: undefined })), 400);
  assert.equal(status(good({ connection: 'close' })), 400);
  assert.equal(status(good({ connection: 'keep-alive, Upgrade' })), 101);
  assert.equal(status(good({ connection: 'UPGRADE' })), 101);
});

test('Sec-WebSocket-Version must be 13, else 426 with the supported version', () => {
  for (const v of [undefined, '8', '12', '14', 'x']) {
    const d = validateUpgradeRequest(good({ 'sec-websocket-version': v }));
    assert.equal(d.ok, false);
    if (d.ok) continue;
    assert.equal(d.status, 426);
    assert.deepEqual(d.headers, { 'Sec-WebSocket-Version': '13' });
  }
});

test('Sec-WebSocket-Key must be base64 of 16 bytes (400)', () => {
  for (const k of [undefined, '', 'abc', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZXg=', '!!!!!!!!!!!!!!!!!!!!!!==']) {
    assert.equal(status(good({ 'sec-websocket-key': k })), 400, String(k));
  }
  assert.equal(Buffer.from(makeKey(), 'base64').length, 16);
  assert.equal(status(good({ 'sec-websocket-key': makeKey() })), 101);
});

test('Origin allowlist (403)', () => {
  const options = { allowOrigins: ['https://lab.example'] };
  assert.equal(status(good({ origin: 'https://lab.example' }), options), 101);
  assert.equal(status(good({ origin: 'https://evil.example' }), options), 403);
  assert.equal(status(good(), options), 403);
  assert.equal(status(good({ origin: 'https://evil.example' })), 101, 'no allowlist: any origin');
});

test('one-time tokens: missing, unknown and spent tokens get 401', () => {
  const tokens = new TokenStore();
  const t = tokens.issue();
  assert.equal(status(good({}, '/chat'), { tokens }), 401);
  assert.equal(status(good({}, '/chat?token=nope'), { tokens }), 401);
  assert.equal(status(good({}, `/chat?a=1&token=${t}`), { tokens }), 101);
  assert.equal(status(good({}, `/chat?token=${t}`), { tokens }), 401, 'spent the first time');
  const expired = new TokenStore({ ttlMs: -1 });
  assert.equal(expired.consume(expired.issue()), false);
  assert.notEqual(tokens.issue(), tokens.issue());
});

test('subprotocol negotiation picks only one the client offered', () => {
  const pick = (offered: string | undefined, protocols: Parameters<typeof validateUpgradeRequest>[1] extends infer O ? O : never) => {
    const d = validateUpgradeRequest(good({ 'sec-websocket-protocol': offered }), protocols);
    assert.equal(d.ok, true);
    return d.ok ? [d.protocol, d.responseHeaders['Sec-WebSocket-Protocol']] : [];
  };
  assert.deepEqual(pick('chat, superchat', { protocols: ['superchat', 'chat'] }), ['superchat', 'superchat']);
  assert.deepEqual(pick('chat', { protocols: ['superchat'] }), [undefined, undefined]);
  assert.deepEqual(pick(undefined, { protocols: ['chat'] }), [undefined, undefined]);
  assert.deepEqual(pick('a, b', { protocols: (offered: string[]) => offered[1] }), ['b', 'b']);
  assert.deepEqual(pick('a, b', { protocols: () => 'c' }), [undefined, undefined], 'a selector cannot pick one not offered');
});

test('client checks the server response', () => {
  const accept = computeAccept(KEY);
  const ok: HeaderMap = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': accept };
  assert.deepEqual(checkUpgradeResponse(101, ok, KEY), { ok: true });
  assert.deepEqual(checkUpgradeResponse(101, { ...ok, 'sec-websocket-protocol': 'chat' }, KEY, ['chat']), { ok: true, protocol: 'chat' });
  const bad = (s: number, h: HeaderMap, offered: string[] = []) => {
    const r = checkUpgradeResponse(s, h, KEY, offered);
    assert.equal(r.ok, false);
    return r.ok ? 0 : r.status;
  };
  assert.equal(bad(401, ok), 401);
  assert.equal(bad(426, ok), 426);
  bad(101, { ...ok, 'sec-websocket-accept': computeAccept(makeKey()) });
  bad(101, { ...ok, upgrade: undefined });
  bad(101, { ...ok, connection: 'close' });
  bad(101, { ...ok, 'sec-websocket-protocol': 'other' }, ['chat']);
  bad(101, { ...ok, 'sec-websocket-extensions': 'permessage-deflate' });
});

test('the client parses the response head: waits for the blank line, joins repeated fields, finds the frames', () => {
  const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-A: 1\r\nx-a: 2\r\nConnection: Upgrade\r\n\r\n';
  const frame = Buffer.from([0x81, 0x02, 0x68, 0x69]);
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), frame]);
  for (let cut = 0; cut < head.length; cut++) assert.equal(parseResponseHead(bytes.subarray(0, cut)), null, `cut at ${cut}`);
  const r = parseResponseHead(bytes)!;
  assert.equal(r.status, 101);
  assert.deepEqual(r.headers, { upgrade: 'websocket', 'x-a': '1, 2', connection: 'Upgrade' });
  assert.equal(r.text, head.slice(0, -4));
  assert.deepEqual([...bytes.subarray(r.end)], [...frame]);
  assert.equal(parseResponseHead(Buffer.from('HTTP/1.0 403\r\n\r\n'))!.status, 403);
  for (const bad of ['SMTP 220 hi\r\n\r\n', 'HTTP/1.1 1O1 x\r\n\r\n', 'HTTP/2 101\r\n\r\n']) {
    assert.throws(
      () => parseResponseHead(Buffer.from(bad)),
      (e: unknown) => e instanceof HandshakeError && /malformed/.test((e as Error).message),
    );
  }
});
