/**
 * --target: the lab's load clients against servers it did not start — a bare WebSocket echo
 * server and the lab's SSE server, both started here in the test process — with client-side
 * figures only and n/a for scenarios that need the lab's own server; and --threshold's exit code.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import type { Results } from '../../metrics/results.ts';
import { startServer } from '../helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs the command line without blocking this process (it serves the target). */
function lab(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function outDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-target-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a bare WebSocket echo server: echo measured from the client side; push n/a; a broken threshold exits 3 with its reason', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  t.after(() => new Promise<void>((r) => wss.close(() => r())));
  const port = (wss.address() as { port: number }).port;
  const out = outDir(t);
  const r = await lab([
    'bench',
    '--target',
    `ws://127.0.0.1:${port}/`,
    '--scenario',
    'echo-ping-pong,push',
    '--transports',
    'ws',
    '--echo-duration',
    '0.5',
    '--duration',
    '0.5',
    '--cpus',
    'off',
    '--threshold',
    'p50<0.0001ms,errors==0',
    '--out',
    out,
  ]);
  assert.equal(r.code, 3, r.stderr);
  const reasons = r.stderr.split('\n').filter((l) => l.includes('threshold'));
  assert.deepEqual(reasons.length, 1, r.stderr);
  assert.match(reasons[0]!, /^transport-lab: threshold p50<0\.0001ms broken: echo-ping-pong × ws has p50 = [\d.]+ ms$/);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  assert.equal(results.meta.path?.target, `http://127.0.0.1:${port}`);
  assert.equal(results.meta.thresholds?.broken.length, 1);
  const echo = results.scenarios.find((s) => s.name === 'echo-ping-pong')!.results[0]!;
  assert.equal(echo.state, 'completed', echo.error ?? '');
  assert.ok((echo.messages?.delivered ?? 0) > 10);
  assert.equal(echo.server, null, 'no server figures for a server the lab did not start');
  assert.match(String(echo.extra?.['measuredFrom']), /client side only/);
  assert.ok((echo.wire?.bytesUp ?? 0) > 0 && (echo.wire?.bytesDown ?? 0) > 0, 'client-side byte counts remain');
  const push = results.scenarios.find((s) => s.name === 'push')!.results[0]!;
  assert.equal(push.state, 'n/a');
  assert.match(push.error ?? '', /--target/);
});

test('the lab’s SSE server started outside the launcher, given as its /events endpoint', async (t) => {
  const { baseUrl } = await startServer(t, 'sse');
  const out = outDir(t);
  const r = await lab(['bench', '--target', `${baseUrl}/events`, '--scenario', 'echo-ping-pong', '--echo-duration', '0.5', '--cpus', 'off', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  const rows = results.scenarios[0]!.results;
  assert.deepEqual(
    rows.map((x) => x.transport),
    ['sse'],
    'an /events URL selects the stream rows',
  );
  assert.equal(rows[0]!.state, 'completed', rows[0]!.error ?? '');
  assert.ok((rows[0]!.messages?.delivered ?? 0) > 0);
});

test('bad threshold syntax ends at once with one line naming the flag', async () => {
  const r = await lab(['bench', '--scenario', 'push', '--threshold', 'p99<<5']);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^transport-lab: --threshold: cannot read "p99<<5"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
