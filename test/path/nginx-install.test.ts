/**
 * `bench --via nginx` on a machine without nginx installs it first (scripts/ensure-nginx.sh),
 * as the peer rows install their programs. NGINX_PATH points at a place nginx is not, and the
 * package installer is replaced (LAB_APT_INSTALL) by one that records what it was asked for and
 * puts this machine's nginx at that place: the run then goes through nginx. A failed install
 * stops the run with the installer's own reason, before any row runs.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import type { Results } from '../../metrics/results.ts';
import { NGINX_BIN } from '../../path/nginx.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

before(() => {
  // The stand-in installer links the real nginx: make sure there is one.
  execFileSync('sh', [path.join(ROOT, 'scripts', 'ensure-nginx.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
});

/** A temporary directory with a stand-in installer; `body` is its shell, after the log line. */
function sandbox(body: string): { dir: string; nginx: string; installer: string; log: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-nginx-install-'));
  const nginx = path.join(dir, 'sbin', 'nginx');
  const log = path.join(dir, 'installer.log');
  const installer = path.join(dir, 'apt-install.sh');
  writeFileSync(installer, `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\n${body}\n`);
  chmodSync(installer, 0o755);
  return { dir, nginx, installer, log };
}

function bench(env: Record<string, string>, out: string) {
  const args = ['bench', '--scenario', 'push', '--via', 'nginx', '--transports', 'sse', '--duration', '0.5', '--clients', '2', '--rate', '20'];
  return spawnSync(process.execPath, ['--import', 'tsx', 'run.ts', ...args, '--fixed-rate', '0', '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
}

test('--via nginx with nginx missing runs the install script, then the run goes through nginx', (t) => {
  const box = sandbox(`mkdir -p "$(dirname "$NGINX_PATH")" && ln -s ${JSON.stringify(NGINX_BIN)} "$NGINX_PATH"`);
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  assert.ok(!existsSync(box.nginx));
  const out = path.join(box.dir, 'out');
  const r = bench({ NGINX_PATH: box.nginx, LAB_APT_INSTALL: box.installer }, out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(box.log, 'utf8'), 'ensure-nginx nginx\n', 'the installer was asked for nginx, once');
  assert.ok(existsSync(box.nginx), 'nginx is where the run looked for it');
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  assert.equal(results.meta.path?.via, 'nginx');
  const push = results.scenarios.find((s) => s.name === 'push');
  assert.equal(push?.results[0]?.state, 'completed', push?.results[0]?.error ?? undefined);
});

test('--via nginx when the install fails: the run stops with the installer reason, nothing measured', (t) => {
  const box = sandbox('echo "ensure-nginx: installing nginx needs root (stand-in)" >&2\nexit 1');
  t.after(() => rmSync(box.dir, { recursive: true, force: true }));
  const out = path.join(box.dir, 'out');
  const r = bench({ NGINX_PATH: box.nginx, LAB_APT_INSTALL: box.installer }, out);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /nginx is not available: scripts\/ensure-nginx\.sh failed \(ensure-nginx: installing nginx needs root \(stand-in\)\)/);
  assert.equal(readFileSync(box.log, 'utf8'), 'ensure-nginx nginx\n');
  assert.ok(!existsSync(path.join(out, 'results.json')), 'no row ran');
});
