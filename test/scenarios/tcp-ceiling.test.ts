/** The raw TCP ceiling runs the same echo, pipelined echo and push as the WebSocket rows, at tiny scale. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { echo, echoPipelined } from '../../scenarios/echo/index.ts';
import { PUSH_DEFAULTS, push } from '../../scenarios/push/index.ts';
import type { RunContext } from '../../scenarios/contract.ts';
import { liveChildren } from '../../runner/session.ts';
import { loadClientFor, transport } from '../../transports/index.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'ws' };
const base = { size: 64, warmupMs: 0, pollIntervalMs: 200, longPollTimeoutMs: 1000, headers: 'minimal' as const, loadProcesses: 1 };

test('the ceiling keeps its own client whatever --ws-client says', () => {
  assert.deepEqual(loadClientFor(transport('tcp'), 'ws'), transport('tcp').client);
  assert.equal(transport('tcp').role, 'ceiling');
});

test('tcp: open-loop echo returns every message', { timeout: 30_000 }, async () => {
  const r = await echo.run('tcp', { ...base, clients: 3, ratePerClient: 20, durationMs: 1000 }, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  assert.ok(r.messages!.delivered >= 50, `delivered ${r.messages!.delivered}`);
  assert.equal(r.messages!.lost, 0);
  assert.ok(r.server!.cpuUsPerMessage! > 0, 'server CPU per message measured');
  assert.equal(liveChildren.size, 0);
});

test('tcp: pipelined echo keeps messages in flight', { timeout: 30_000 }, async () => {
  const r = await echoPipelined.run('tcp', { ...base, clients: 2, inFlight: 4, durationMs: 500 }, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  assert.ok(r.messages!.delivered > 8);
  assert.equal(r.messages!.lost, 0);
});

test('the fixed-load phase after a pipelined echo: server CPU per message at a rate the server sustains', { timeout: 30_000 }, async () => {
  const fixed = { ratePerSec: 200, connections: 4, durationMs: 600, warmupMs: 200, size: 64, kind: 'echo' as const };
  const r = await echoPipelined.run('tcp', { ...base, clients: 2, inFlight: 2, durationMs: 300, fixed }, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  const f = r.extra!['fixedLoad'] as { ratePerSec: number; delivered: number; lost: number; sustained: boolean; cpuUsPerMessage: number };
  assert.equal(f.ratePerSec, 200);
  assert.equal(f.lost, 0);
  assert.ok(f.delivered >= 100, `delivered ${f.delivered}`);
  assert.equal(r.extra!['fixedCpuUsPerMessage'], f.sustained ? f.cpuUsPerMessage : undefined, 'the figure only when the rate held');
  assert.ok(f.cpuUsPerMessage > 0);
  // The phase's own round trips, at a rate far below saturation: the latency that compares between runs.
  const lat = (r.extra!['fixedLoad'] as { latencyMs?: { p50: number; p99: number; p999: number } }).latencyMs;
  assert.ok(lat && lat.p50 > 0 && lat.p50 <= lat.p99 && lat.p99 <= lat.p999, JSON.stringify(lat));
  assert.equal(r.extra!['fixedP99Ms'], f.sustained ? lat.p99 : undefined);
  assert.equal(liveChildren.size, 0);
});

test('tcp: push reaches every subscriber, one line per message', { timeout: 30_000 }, async () => {
  const p = { ...PUSH_DEFAULTS, clients: 3, rate: 40, durationMs: 1000 };
  const r = await push.run('tcp', p, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  const m = r.messages!;
  assert.equal(m.delivered, (m.published ?? 0) * p.clients);
  assert.equal(m.lost, 0);
  // 64 payload bytes and one newline per delivered message, plus one upgrade per client.
  assert.ok(r.wire!.bytesDown >= m.delivered * 65);
  assert.ok(r.wire!.bytesDown < m.delivered * 65 + p.clients * 200);
});

test('one fixed-load phase per trial: a second scenario takes it, the scenario that measured it (a rerun) measures again', { timeout: 60_000 }, async () => {
  const fixed = { ratePerSec: 200, connections: 4, durationMs: 600, warmupMs: 200, size: 64, kind: 'echo' as const };
  const p = { ...base, clients: 2, inFlight: 2, durationMs: 300, fixed };
  const fixedLoads: NonNullable<RunContext['fixedLoads']> = new Map();
  const first = await echoPipelined.run('tcp', p, { ...ctx, fixedLoads, scenario: 'echo-pipelined', trial: 1 });
  const measured = first.extra!['fixedLoad'] as { cpuUsPerMessage: number; measuredBy?: string };
  assert.equal(measured.measuredBy, undefined, 'measured here');
  assert.equal(fixedLoads.size, 1);
  // Another scenario in the same trial: the same figure, named as that scenario's, and no phase run.
  const lines: string[] = [];
  const other = await echoPipelined.run('tcp', p, { ...ctx, fixedLoads, scenario: 'throughput-up', trial: 1, progress: (l) => lines.push(l) });
  const taken = other.extra!['fixedLoad'] as { cpuUsPerMessage: number; measuredBy?: string };
  assert.equal(taken.measuredBy, 'echo-pipelined');
  assert.equal(taken.cpuUsPerMessage, measured.cpuUsPerMessage);
  assert.ok(!lines.some((l) => /fixed load, 200 msg\/s/.test(l)), 'no second phase started');
  // Another trial, or a rerun of the scenario that measured it: measured again.
  const next = await echoPipelined.run('tcp', p, { ...ctx, fixedLoads, scenario: 'throughput-up', trial: 2, progress: (l) => lines.push(l) });
  assert.equal((next.extra!['fixedLoad'] as { measuredBy?: string }).measuredBy, undefined);
  const rerun: string[] = [];
  await echoPipelined.run('tcp', p, { ...ctx, fixedLoads, scenario: 'echo-pipelined', trial: 1, progress: (l) => rerun.push(l) });
  assert.ok(
    rerun.some((l) => /fixed load, 200 msg\/s/.test(l)),
    'the rerun ran its phase',
  );
  assert.equal(liveChildren.size, 0);
});
