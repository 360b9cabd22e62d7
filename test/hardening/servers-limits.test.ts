/**
 * The smaller limits. Long polling's `/publish` counts the polls it reaches,
 * not its own listener; a chunked body past the limit gets 413 (not a dropped connection);
 * an oversized header block gets 431 where Node's default said 400; an HTTP/1.0 upgrade is
 * refused (RFC 6455 §4.1 needs 1.1) by both WebSocket rows.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { KINDS, raw } from './helpers.ts';
import { validateUpgradeRequest } from '../../protocol/handshake.ts';

for (const { suffix, label } of KINDS) {
  describe(`limits (${label})`, () => {
    test('long polling: /publish reports the held polls it reached', async (t) => {
      const { server, baseUrl } = await startServer(t, `long-polling${suffix}`, { longPollTimeoutMs: 30_000 });
      const nobody = (await (await fetch(`${baseUrl}/publish`, { method: 'POST', body: 'a' })).json()) as { subscribers: number };
      assert.equal(nobody.subscribers, 0, 'no poll is held');
      const held = fetch(`${baseUrl}/poll?cursor=1`, { signal: AbortSignal.timeout(5000) });
      await waitFor(() => server.counters().requests === 2, 'the poll to be held', 3000);
      const one = (await (await fetch(`${baseUrl}/publish`, { method: 'POST', body: 'b' })).json()) as { subscribers: number };
      assert.equal(one.subscribers, 1, 'the held poll');
      assert.equal((await held).status, 200);
    });

    test('a chunked /publish body past the limit gets 413 and its connection closes', async (t) => {
      const { server, baseUrl } = await startServer(t, `polling${suffix}`, { maxMessageBytes: 1024 });
      const c = await raw(baseUrl);
      t.after(() => c.sock.destroy());
      c.sock.write('POST /publish HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = 'y'.repeat(512);
      // 2 KiB in four chunks, no terminating chunk: the server must answer before the end.
      for (let i = 0; i < 4; i++) c.sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await waitFor(() => c.text().startsWith('HTTP/1.1 413'), 'a 413', 3000);
      assert.match(c.text(), /1024-byte limit/);
      await waitFor(() => c.closed(), 'the connection to close', 3000);
      assert.equal(server.hub.lastSeq, 0);
    });

    test('a header block past the parser limit gets 431', async (t) => {
      const { baseUrl } = await startServer(t, `polling${suffix}`);
      const c = await raw(baseUrl);
      t.after(() => c.sock.destroy());
      c.sock.write(`GET /poll HTTP/1.1\r\nHost: lab\r\nX-Big: ${'h'.repeat(20 * 1024)}\r\n\r\n`);
      await waitFor(() => c.text().length > 0, 'an answer', 3000);
      assert.match(c.text(), /^HTTP\/1.1 431 /);
    });
  });
}

for (const transport of ['websocket', 'ws']) {
  test(`${transport}: an HTTP/1.0 upgrade is refused with 400`, async (t) => {
    const { server, baseUrl } = await startServer(t, transport);
    const c = await raw(baseUrl);
    t.after(() => c.sock.destroy());
    const key = Buffer.alloc(16, 3).toString('base64');
    c.sock.write(`GET / HTTP/1.0\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await waitFor(() => c.text().length > 0 || c.closed(), 'an answer', 3000);
    assert.match(c.text(), /^HTTP\/1.1 400 /);
    assert.match(c.text(), /HTTP\/1.1 or later/);
    assert.equal(server.counters().subscribers, 0);
  });
}

test('the engine refuses an HTTP/1.0 opening handshake wherever it is used, not only behind the lab servers', () => {
  const headers = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': Buffer.alloc(16, 3).toString('base64'), 'sec-websocket-version': '13' };
  const old = validateUpgradeRequest({ method: 'GET', headers, httpVersion: '1.0' });
  assert.equal(old.ok, false);
  assert.equal(old.ok ? 0 : old.status, 400);
  assert.equal(validateUpgradeRequest({ method: 'GET', headers, httpVersion: '1.1' }).ok, true);
});
