/**
 * --via nginx: the session starts nginx in front of a transport's server on a free port and the
 * lab's clients round-trip through it (WebSocket upgrade passed on, SSE streamed unbuffered);
 * closing the session ends nginx and removes its directory. The set-up installs nginx with the
 * project's script when it is missing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { before, test } from 'node:test';
import { DEFAULT_PROXY, NGINX_BIN } from '../../path/nginx.ts';
import { throwawayCertificate } from '../../path/route.ts';
import { Session } from '../../runner/session.ts';
import { waitFor } from '../helpers/wait.ts';
import { startCollectorAt } from './helpers.ts';

before(() => {
  // Installs nginx when missing, as `bench --via nginx` does; a failed install fails the file with the script's reason.
  execFileSync('sh', [new URL('../../scripts/ensure-nginx.sh', import.meta.url).pathname], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  assert.ok(existsSync(NGINX_BIN), `${NGINX_BIN} is installed`);
});

for (const [name, tls] of [
  ['websocket', false],
  ['sse', false],
  ['long-polling', false],
  ['ws', true],
] as const) {
  test(`${name}${tls ? ' over TLS ended at nginx' : ''}: published and echoed through nginx`, async (t) => {
    const s = new Session(
      name,
      {},
      { wsClient: 'own', path: { via: { kind: 'nginx', proxy: DEFAULT_PROXY }, ...(tls && { tls: await throwawayCertificate() }) } },
    );
    t.after(() => s.close());
    await s.startServer();
    assert.ok(s.proxy, 'nginx runs');
    assert.notEqual(new URL(s.baseUrl).port, String(s.port), 'clients reach nginx, not the server');
    assert.equal(new URL(s.baseUrl).protocol, tls ? 'https:' : 'http:');
    const c = await startCollectorAt(t, s);
    // Published straight to the server; delivered to the subscriber through nginx.
    const r = await fetch(`http://127.0.0.1:${s.port}/publish`, { method: 'POST', body: 'through nginx', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 202);
    await waitFor(() => c.received.includes('through nginx'), 'the published message through nginx');
    await c.client.send('echo through nginx');
    await waitFor(() => c.received.includes('echo through nginx'), 'the echo through nginx');
    const usage = s.proxyTotals();
    assert.ok(usage && usage.processes >= 2 && usage.rssBytes > 0, 'master and worker read from /proc');
    const dir = s.proxy!.dir;
    const pid = s.proxy!.proc.pid!;
    await c.client.stop();
    await s.close();
    assert.equal(existsSync(dir), false, 'the run directory is removed');
    assert.throws(() => process.kill(pid, 0), 'nginx has exited');
  });
}
