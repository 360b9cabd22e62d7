/**
 * The demo's endpoints against a hostile page: cross-origin state changes
 * refused, Host checked against DNS rebinding, the inspector shows no credentials and cuts off
 * a reader that does not keep up, unspent tokens swept.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startDemo } from '../../demo/server.ts';
import { connect } from '../../protocol/index.ts';

async function demo(t: TestContext, o: Parameters<typeof startDemo>[0] = {}) {
  const d = await startDemo({ port: 0, ...o });
  t.after(() => d.close());
  return d;
}

/** One request with exactly these headers (fetch would set Host and Origin itself). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('cross-origin POSTs to /publish and /peer/start are refused with 403 and change nothing', async (t) => {
  const d = await demo(t);
  const port = d.ports.page;
  const host = `127.0.0.1:${port}`;
  const evil = { Host: host, Origin: 'http://evil.example', 'Content-Type': 'text/plain' };
  assert.equal((await raw(port, 'POST', '/publish', evil, 'from evil')).status, 403);
  assert.equal((await raw(port, 'POST', '/publish', { Host: host, 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'text/plain' }, 'x')).status, 403);
  assert.equal((await raw(port, 'POST', '/peer/start', evil)).status, 403);
  assert.equal((await raw(port, 'POST', '/app-heartbeat/silent?client=a', { ...evil, 'Content-Type': 'application/json' }, '{"silent":true}')).status, 403);
  // The page's own origin, and a client that is not a browser, may publish; nothing from evil got in.
  const own = await raw(
    port,
    'POST',
    '/publish',
    { Host: host, Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'text/plain' },
    'mine',
  );
  assert.equal(own.status, 202);
  assert.equal((JSON.parse(own.body) as { seq: number }).seq, 1);
  assert.equal((await raw(port, 'POST', '/publish', { Host: host, 'Content-Type': 'text/plain' }, 'curl')).status, 202);
});

test('a Host that is not this server (DNS rebinding) gets 421 from /config, /token, /stats and /inspect', async (t) => {
  const d = await demo(t);
  const port = d.ports.page;
  for (const path of ['/config', '/token', '/stats', '/inspect?client=a', '/']) {
    const r = await raw(port, 'GET', path, { Host: `rebind.evil.example:${port}` });
    assert.equal(r.status, 421, path);
    assert.ok(!r.body.includes('pageOrigin') && !r.body.includes('token"'), `${path} leaked: ${r.body.slice(0, 80)}`);
  }
  assert.equal((await raw(port, 'GET', '/config', { Host: `127.0.0.1:${port}` })).status, 200);
  assert.equal((await raw(port, 'GET', '/config', { Host: `localhost:${port}` })).status, 200);
  assert.equal((await raw(port, 'GET', '/config', { Host: '127.0.0.1:1' })).status, 421);
  // The WebSocket pane's own port checks it too.
  assert.equal((await raw(d.ports.websocket, 'GET', '/', { Host: `rebind.evil.example:${d.ports.websocket}` })).status, 421);
});

test('/inspect does not pass on the cookies or credentials of a refused handshake', async (t) => {
  const d = await demo(t);
  const ctrl = new AbortController();
  t.after(() => ctrl.abort());
  const res = await fetch(`http://127.0.0.1:${d.ports.page}/inspect?client=watcher`, { signal: ctrl.signal });
  const reader = res.body!.getReader();
  await assert.rejects(
    connect(`ws://127.0.0.1:${d.ports.websocket}/?client=x`, {
      origin: 'http://evil.example',
      headers: { Cookie: 'session=s3cr3t-cookie', Authorization: 'Bearer s3cr3t-token' },
    }),
  );
  let text = '';
  const decoder = new TextDecoder();
  while (!text.includes('event: security')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  const event = text.slice(text.indexOf('event: security'));
  assert.match(event, /evil\.example/, 'the refused request is shown');
  assert.doesNotMatch(event, /s3cr3t/, 'its credentials are not');
});

test('an /inspect reader that never reads is cut off once 64 KiB wait for it', async (t) => {
  const d = await demo(t, { inspectMaxBufferedBytes: 64 * 1024 });
  const port = d.ports.page;
  const sock = netConnect({ host: '127.0.0.1', port });
  t.after(() => sock.destroy());
  await once(sock, 'connect');
  sock.write(`GET /inspect?client=slow HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  sock.pause();
  // That page's WebSocket: every frame both ways becomes an event for the inspector.
  const ws = await connect(`ws://127.0.0.1:${d.ports.websocket}/?client=slow`, { origin: `http://127.0.0.1:${port}` });
  t.after(() => ws.terminate());
  const ended = new Promise<void>((resolve) => {
    sock.once('end', resolve);
    sock.once('close', () => resolve());
  });
  let echoed = 0;
  ws.on('message', () => echoed++);
  // ~4,000 events of ~700 bytes each: more than the kernel's socket buffers and the limit.
  const text = 'x'.repeat(300);
  for (let round = 0; round < 20 && echoed < 2000; round++) {
    for (let i = 0; i < 100; i++) ws.send(text);
    const until = Date.now() + 2000;
    while (echoed < (round + 1) * 100 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(echoed >= 2000, `the WebSocket echoed ${echoed} messages`);
  // Now read: the stream must end (cut off) instead of delivering everything queued.
  sock.resume();
  let bytes = 0;
  sock.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  const cut = await Promise.race([ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  assert.ok(cut, `the inspector stream was not ended (${bytes} bytes read)`);
});

test('unspent tokens are swept after their lifetime', async (t) => {
  const d = await demo(t, { tokenTtlMs: 1500 });
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`http://127.0.0.1:${d.ports.page}/token`);
    assert.equal(r.status, 200);
    await r.json();
  }
  assert.equal(d.unspentTokens, 20);
  const until = Date.now() + 6000;
  while (d.unspentTokens > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(d.unspentTokens, 0);
});
