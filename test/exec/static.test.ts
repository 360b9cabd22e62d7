/** The exec server's pages: files under the --static folder, a folder's index.html, and nothing outside the folder. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { serveStatic } from '../../exec/static.ts';

/** A server answering every request from `dir`; its base URL. */
async function serving(t: { after(fn: () => void): void }, dir: string | undefined): Promise<string> {
  const server = createServer((req, res) => void serveStatic(dir, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('files under the folder are served with their type; a folder gives its index.html; the rest is refused with the right status', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'exec-static-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'index.html'), '<p>hi</p>');
  writeFileSync(join(dir, 'sub', 'app.js'), 'x()');
  const base = await serving(t, dir);
  const get = async (path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') => {
    const r = await request(`${base}${path}`, { method });
    return { status: r.statusCode, type: r.headers['content-type'], body: await r.body.text() };
  };
  assert.deepEqual(await get('/'), { status: 200, type: 'text/html; charset=utf-8', body: '<p>hi</p>' });
  assert.deepEqual(await get('/sub/app.js'), { status: 200, type: 'text/javascript; charset=utf-8', body: 'x()' });
  assert.deepEqual(await get('/', 'HEAD'), { status: 200, type: 'text/html; charset=utf-8', body: '' });
  assert.equal((await get('/missing.txt')).status, 404);
  assert.equal((await get('/', 'POST')).status, 405);
  assert.equal((await get('/..%2f..%2fetc%2fpasswd')).status, 403, 'a climb out of the folder behind encoded slashes');
  assert.equal((await get('/%2e%2e/%2e%2e/etc/passwd')).status, 404, 'dots the URL resolves stay inside the folder');
  assert.equal((await get('/%E0%A4%A')).status, 400, 'a path that does not decode');
});

test('without a folder every request is told this is a WebSocket endpoint', async (t) => {
  const base = await serving(t, undefined);
  const r = await request(`${base}/`);
  assert.equal(r.statusCode, 404);
  assert.match(await r.body.text(), /WebSocket endpoint/);
});
