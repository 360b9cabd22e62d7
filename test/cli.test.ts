/** The command line: one-line errors with exit 2, and a tiny real bench that writes its results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Results } from '../metrics/results.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function lab(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'run.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const badInputs: [string[], RegExp][] = [
  [['bench', '--frob'], /--frob/],
  [['bench', '--rate', 'fast'], /--rate must be a number/],
  [['bench', '--clients', '1.5'], /--clients must be a whole number/],
  [['bench', '--size', '4'], /--size must be at least/],
  [['bench', '--transports', 'carrier-pigeon'], /--transports: unknown value "carrier-pigeon"/],
  [['bench', '--scenario', 'nope'], /--scenario: unknown value "nope"/],
  [['bench', '--headers', 'fancy'], /--headers must be one of/],
  [['serve', 'telegraph'], /unknown transport "telegraph"/],
  [['serve', 'sse', '--port', '99999'], /--port must be at most 65535/],
  [['frobnicate'], /unknown command "frobnicate"/],
];

for (const [args, pattern] of badInputs) {
  test(`bad input: ${args.join(' ')} → one line, exit 2`, () => {
    const r = lab(args);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('serve on a port in use → one line naming the port, exit 2', async (t) => {
  const net = await import('node:net');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const r = lab(['serve', 'polling', '--port', String(port)]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), new RegExp(`^transport-lab: --port ${port}: .*already in use$`));
});

test('bench with a tiny duration writes results.json with the fixed points and an offline index.html', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'lab-bench-'));
  try {
    // The fixed-load phase is tested on its own; here it would only lengthen a run about the results' fixed points.
    const r = lab(
      [
        'bench',
        '--scenario',
        'push',
        '--repeat',
        '1',
        '--duration',
        '0.5',
        '--clients',
        '3',
        '--rate',
        '20',
        '--poll-interval',
        '100',
        '--fixed-rate',
        '0',
        '--out',
        out,
      ],
      120_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    for (const k of ['startedAt', 'command', 'git', 'node', 'cpu', 'cores', 'os'] as const) assert.ok(k in results.meta, `meta.${k}`);
    const push = results.scenarios.find((s) => s.name === 'push');
    assert.ok(push, 'push scenario present');
    assert.ok(push.results.length >= 4);
    for (const row of push.results) {
      assert.equal(row.state, 'completed', `${row.transport}: ${row.error}`);
      for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean', 'count'] as const)
        assert.equal(typeof row.latencyMs?.[k], 'number', `${row.transport} latencyMs.${k}`);
      assert.equal(row.messages!.sent, 10 * 3, `${row.transport}: 10 messages × 3 subscribers owed`);
      assert.equal(row.messages!.delivered + row.messages!.lost, row.messages!.sent);
      for (const k of ['bytesUp', 'bytesDown', 'payloadBytes', 'overheadBytesPerMessage', 'requests'] as const) assert.equal(typeof row.wire?.[k], 'number');
      assert.ok(row.wire!.bytesDown > row.wire!.payloadBytes, `${row.transport}: wire bytes exceed the payload`);
      assert.ok(row.server!.cpuMs > 0 && row.server!.rssMaxBytes > 0);
      assert.ok(row.throughput!.messagesPerSec > 0);
    }
    assert.match(r.stdout, /push/);
    assert.match(r.stdout, /results: .*results\.json/);
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script[^>]+src=["']?(https?:)?\/\//i, 'no external script');
    // What the servers ran with is in the environment, beside the CPU sets.
    assert.deepEqual(results.meta.serverNodeFlags, ['--no-memory-reducer']);
    assert.match(html, /server Node flags[\s\S]{0,200}--no-memory-reducer/);
    assert.ok(existsSync(path.join(out, 'index.html')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a transport whose server dies mid-run is recorded as errored; the others are still written', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'lab-fault-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'run.ts',
        'bench',
        '--scenario',
        'push',
        '--repeat',
        '1',
        '--duration',
        '1',
        '--clients',
        '2',
        '--rate',
        '20',
        '--transports',
        'sse,ws',
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, LAB_FAULT: 'sse:crash' },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const rows = results.scenarios[0]!.results;
    const sse = rows.find((x) => x.transport === 'sse')!;
    assert.equal(sse.state, 'errored');
    assert.match(sse.error!, /sse server process exited \(code 3\)/);
    const ws = rows.find((x) => x.transport === 'ws')!;
    assert.equal(ws.state, 'completed');
    assert.equal(ws.messages!.delivered, 40);
    assert.match(r.stderr, /sse: ERRORED/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('Ctrl-C stops every child process and still writes what was measured', async () => {
  const { spawn, execFileSync } = await import('node:child_process');
  const out = mkdtempSync(path.join(tmpdir(), 'lab-sigint-'));
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'run.ts',
        'bench',
        '--scenario',
        'push',
        '--repeat',
        '1',
        '--transports',
        'ws,sse,polling',
        '--duration',
        '3',
        '--clients',
        '2',
        '--rate',
        '10',
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    // Interrupt once the first transport is done and the second is publishing.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no progress seen:\n${stderr}`)), 60_000);
      child.stderr.on('data', (s: string) => {
        stderr += s;
        if (/\[1\/3 push\] ws: done/.test(stderr) && /\[2\/3 push\] sse: publishing/.test(stderr)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 130);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const rows = results.scenarios[0]!.results;
    assert.equal(rows.find((r) => r.transport === 'ws')!.state, 'completed');
    const sse = rows.find((r) => r.transport === 'sse')!;
    assert.equal(sse.state, 'errored');
    assert.match(sse.error!, /interrupted/);
    assert.equal(rows.length, 2, 'polling never started');
    assert.ok(existsSync(path.join(out, 'index.html')));
    // No server or load process of the run is left behind.
    // Only this checkout's children: other checkouts of the lab may be running on the same machine.
    const mine = path.join(ROOT, 'runner');
    const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(out) || (l.includes(mine) && /(server|load)-child\.ts/.test(l)));
    assert.deepEqual(
      left.filter((l) => !l.includes('ps -eo')),
      [],
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the transport-lab command: --version prints the package version; a tiny bench runs through the launcher', () => {
  const launcher = path.join(ROOT, 'bin', 'transport-lab.js');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  assert.equal(path.resolve(ROOT, pkg.bin['transport-lab']!), launcher, 'package.json bin points at the launcher');
  const v = spawnSync(process.execPath, [launcher, '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkg.version);
  const out = mkdtempSync(path.join(tmpdir(), 'lab-bin-'));
  try {
    const r = spawnSync(
      process.execPath,
      [launcher, 'bench', '--scenario', 'push', '--repeat', '1', '--duration', '2', '--transports', 'sse', '--clients', '2', '--rate', '10', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.scenarios[0]!.results[0]!.state, 'completed');
    assert.ok(existsSync(path.join(out, 'index.html')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
