/** The benchmark scripts run, print what they measured, and refuse bad flags in one line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

test('bench:micro measures engine and ws side by side and writes its figures', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-micro-'));
  try {
    const json = path.join(dir, 'micro.json');
    const r = run('bench/micro.ts', ['--time', '20', '--filter', '125 B', '--json', json]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /parse 125 B masked\s+[\d.]+[kM]?\s/);
    assert.match(r.stdout, /engine\/ws/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { rows: { name: string; engine: { opsPerSec: number }; ws: { opsPerSec: number }; ratio: number }[] };
    assert.deepEqual(out.rows.map((c) => c.name).sort(), ['encode 125 B masked', 'encode 125 B unmasked', 'parse 125 B masked', 'parse 125 B unmasked']);
    for (const c of out.rows) {
      assert.ok(c.engine.opsPerSec > 0 && c.ws.opsPerSec > 0, c.name);
      assert.equal(c.ratio, c.engine.opsPerSec / c.ws.opsPerSec);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz runs for the time asked and reports what it covered', () => {
  const r = run('bench/fuzz.ts', ['--seconds', '0.5', '--seed', '11']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: \d+ streams/m);
  assert.match(r.stdout, /errors by code: \{.*WS_ERR_/);
});

test('bench:fixed drives served servers at a fixed rate, reads their CPU per message from /proc and pairs their trials', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-fixed-'));
  try {
    const json = path.join(dir, 'fixed.json');
    const r = run('bench/fixed-load.ts', [
      '--servers',
      'websocket,ws',
      '--trials',
      '3',
      // Enough echoes for each trial's server CPU to span several of /proc's 10 ms ticks: at
      // 400 msg/s for 0.3 s the engine's ~2 ms fell inside one tick and a trial could read 0.
      '--seconds',
      '0.5',
      '--warmup',
      '0.1',
      '--rate',
      '4000',
      '--connections',
      '4',
      '--json',
      json,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fixed load: 4000 msg\/s over 4 connections, 64 B/m);
    assert.match(r.stdout, /^ws: median [\d.]+ µs\/msg/m);
    assert.match(r.stdout, /^websocket\/ws: [\d.]+× the server CPU per message/m);
    assert.match(r.stdout, /^websocket\/ws trial by trial: [\d.]+–[\d.]+× \(95 % interval over 3 pairs\)/m);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { servers: Record<string, { trials: number[]; median: number }> };
    for (const s of ['websocket', 'ws']) {
      assert.equal(out.servers[s]!.trials.length, 3);
      assert.ok(out.servers[s]!.median > 0 && Number.isFinite(out.servers[s]!.median));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench:fixed --bare drives the bare echo servers, raw TCP as the ceiling, and splits the server CPU into user and kernel', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-fixed-bare-'));
  try {
    const json = path.join(dir, 'bare.json');
    const r = run('bench/fixed-load.ts', [
      '--bare',
      '--servers',
      'engine,net',
      '--trials',
      '1',
      '--seconds',
      '0.5',
      '--warmup',
      '0.1',
      '--rate',
      '400',
      '--connections',
      '4',
      '--json',
      json,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fixed load: 400 msg\/s over 4 connections, 64 B, .* bare echo servers/m);
    assert.match(r.stdout, /^net: median [\d.]+ µs\/msg \([\d.]+–[\d.]+; user [\d.]+, kernel [\d.]+\); load median [\d.]+ µs\/msg/m);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { bare: boolean; servers: Record<string, { trials: number[] }> };
    assert.equal(out.bare, true);
    // Every echo was counted on both kinds of client: a WebSocket message, and `size` raw bytes back.
    for (const s of ['engine', 'net']) {
      const m = new RegExp(`^  ${s} trial 1: .*\\((\\d+) echoes`, 'm').exec(r.stdout);
      assert.ok(m && Number(m[1]) > 0, `${s} echoed: ${r.stdout}`);
      assert.equal(out.servers[s]!.trials.length, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench:push pushes to one raw client, checks every byte arrived, and writes per-core figures against net', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-push-'));
  try {
    const json = path.join(dir, 'push.json');
    const r = run('bench/push-ceiling.ts', ['--servers', 'net,websocket', '--seconds', '0.3', '--warmup', '0.1', '--trials', '1', '--json', json]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^batched websocket: median [\d.]+ [kM] .*, [\d.]+ of net$/m);
    assert.match(r.stdout, /^single websocket: median [\d.]+ [kM] .*, [\d.]+ of net$/m);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, Record<string, { median: number }>> };
    for (const mode of ['batched', 'single']) for (const s of ['net', 'websocket']) assert.ok(out.results[mode]![s]!.median > 0, `${mode} ${s}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad flag to a benchmark script is one line, exit 2', () => {
  for (const [script, args, pattern] of [
    ['bench/micro.ts', ['--time', 'soon'], /^bench:micro: --time must be a number/],
    ['bench/fuzz.ts', ['--nope'], /^fuzz: .*--nope/],
    ['bench/fixed-load.ts', ['--rate', 'fast'], /^bench:fixed: --rate must be a number/],
    ['bench/fixed-load.ts', ['--bare', '--servers', 'websocket'], /^bench:fixed: --servers: "websocket" is not a bare server \(with --bare: engine, /],
    ['bench/push-ceiling.ts', ['--modes', 'sometimes'], /^bench:push: --modes: unknown value "sometimes"/],
  ] as const) {
    const r = run(script, [...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});
