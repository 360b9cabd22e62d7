/**
 * Each of echo, fan-out, throughput and overhead runs for real at a tiny scale
 * and yields the figures its report section needs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScenarioResult, TransportName } from '../../metrics/results.ts';
import type { RunContext } from '../../scenarios/contract.ts';
import { echo, echoPingPong, type EchoParams } from '../../scenarios/echo/index.ts';
import { fanOut, type FanOutParams } from '../../scenarios/fan-out/index.ts';
import { throughputDown, throughputUp, type ThroughputParams } from '../../scenarios/throughput/index.ts';
import { overhead, crossovers, type OverheadParams } from '../../scenarios/overhead/index.ts';
import { readFanOutCapacity, readFanOutSteps } from '../../scenarios/fan-out/schema.ts';
import { readThroughputExtra } from '../../scenarios/throughput/schema.ts';
import { readOverheadSummary, readOverheadSweep, readPayloadPoints, type OverheadSweepPoint } from '../../scenarios/overhead/schema.ts';
import { BOTH_PAYLOADS_SWEEP } from '../helpers.ts';
import { assertRowAgrees } from './row-check.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };
const common = { pollIntervalMs: 100, longPollTimeoutMs: 25_000, headers: 'minimal' as const };

describe('echo', () => {
  const p: EchoParams = { ...common, clients: 3, ratePerClient: 20, size: 64, durationMs: 700, warmupMs: 0, loadProcesses: 1 };
  for (const t of ['polling', 'websocket'] as TransportName[]) {
    test(`${t}: open-loop round trips are all echoed and timed`, async () => {
      const row = await echo.run(t, p, ctx);
      assert.equal(row.state, 'completed');
      assertRowAgrees(row);
      assert.ok(row.messages!.sent >= 35, `sent ${row.messages!.sent}`);
      assert.equal(row.messages!.lost, 0);
      assert.equal(row.latencyMs!.count, row.messages!.delivered);
      // Short polling's echo waits for the next poll: up to one interval.
      if (t === 'polling') assert.ok(row.latencyMs!.p50 > 5 && row.latencyMs!.max <= 250, JSON.stringify(row.latencyMs));
      else assert.ok(row.latencyMs!.p50 < 20);
      assert.equal(row.extra!['mode'], 'open-loop');
      assert.ok(row.wire!.payloadBytes === (row.messages!.sent + row.messages!.delivered) * 64);
    });
  }
  test('ping-pong: one connection, round trips per second', async () => {
    const row = await echoPingPong.run('ws', { ...p, clients: 1 }, ctx);
    assertRowAgrees(row);
    assert.equal(row.extra!['mode'], 'ping-pong');
    assert.ok(row.throughput!.messagesPerSec > 100, `${row.throughput!.messagesPerSec} round trips/s`);
    assert.equal(row.messages!.lost, 0);
    // Closed loop: the corrected and uncorrected figures are the same measurement.
    assert.equal(row.latencyMs!.p50, row.latencyMsUncorrected!.p50);
  });
});

test('fan-out: a step per N with p50/p99, and the capacity summary', async () => {
  const p: FanOutParams = {
    ...common,
    steps: [1, 5, 20],
    rate: 20,
    size: 64,
    stepDurationMs: 500,
    limitMs: 1000,
    capacity: false,
    capacityMax: 100,
    loadProcesses: 1,
  };
  const sr: ScenarioResult = { name: 'fan-out', params: { ...p }, results: [] };
  for (const t of ['sse', 'ws'] as TransportName[]) sr.results.push(await fanOut.run(t, p, ctx));
  for (const r of sr.results) assertRowAgrees(r);
  const summary = fanOut.summarize!(sr);
  for (const row of sr.results) {
    const steps = row.extra!['steps'] as { n: number; p99: number; delivered: number; lost: number }[];
    assert.deepEqual(readFanOutSteps(row.extra), steps, 'the schema reads every step written');
    assert.deepEqual(
      steps.map((s) => s.n),
      [1, 5, 20],
    );
    for (const s of steps) {
      assert.equal(s.delivered, 10 * s.n, `N=${s.n}: 10 messages each`);
      assert.equal(s.lost, 0);
      assert.ok(s.p99 > 0);
    }
    // The row's own figures are the largest step's, counted for that step only.
    assert.equal(row.messages!.delivered, 200);
  }
  const cap = readFanOutCapacity(summary)!;
  assert.equal(cap.searched, false);
  assert.equal(sr.params['capacity'], false, 'the flag stays as given');
  assert.equal(cap.largestN['sse'], 20);
  assert.equal(cap.largestN['ws'], 20);
});

describe('throughput', () => {
  const p: ThroughputParams = {
    ...common,
    direction: 'down',
    clients: 2,
    startRate: 500,
    maxSteps: 2,
    stepDurationMs: 400,
    p99LimitMs: 1000,
    resolution: 0.25,
    warmupMs: 0,
    size: 64,
  };
  test('down: the rate is doubled while delivery keeps up', async () => {
    const row = await throughputDown.run('websocket', p, ctx);
    assertRowAgrees(row);
    const steps = row.extra!['steps'] as { rate: number; sustained: boolean; endP50Ms?: number }[];
    assert.deepEqual(
      steps.map((s) => s.rate),
      [500, 1000],
    );
    // Each step's last tenth was timed apart, and kept up; that latency is the verdict's, not the row's.
    for (const s of steps) assert.ok(s.endP50Ms !== undefined && s.endP50Ms < 100, JSON.stringify(s));
    assert.equal(row.extra!['endLatencyMs'], undefined);
    assert.deepEqual(readThroughputExtra(row.extra)?.steps, steps, 'the schema reads every rung written');
    assert.ok(steps.every((s) => s.sustained));
    assert.equal(row.extra!['sustainedRate'], 1000);
    assert.ok(row.throughput!.messagesPerSec >= 1900, `${row.throughput!.messagesPerSec} msg/s at 2 × 1000`);
    assert.ok((row.extra!['payloadMBps'] as number) > 0);
  });
  test('up: messages are counted where they arrive, with nothing echoed', async () => {
    const row = await throughputUp.run('sse', { ...p, direction: 'up', clients: 4 }, ctx);
    assertRowAgrees(row);
    const steps = row.extra!['steps'] as { rate: number; sustained: boolean }[];
    assert.ok(steps.length >= 1);
    assert.equal(row.extra!['direction'], 'up');
    assert.ok(row.messages!.delivered >= 190, `server received ${row.messages!.delivered}`);
    assert.equal(row.latencyMs, null);
    // Upward only: what went down is the POST answers, no echoes.
    assert.ok(row.wire!.bytesDown < row.wire!.bytesUp);
  });
});

test('overhead: a sweep point per rate × size, and crossovers computed from the lines', async () => {
  const p: OverheadParams = {
    ...common,
    clients: 3,
    rates: [5, 50],
    sizes: [40, 512],
    minMessages: 2,
    minWindowMs: 300,
    sessionSeconds: 60,
    extrapolateClients: [1000, 10_000],
    payloads: ['compressible'],
  };
  const sr: ScenarioResult = { name: 'overhead', params: { ...p }, results: [] };
  for (const t of ['polling', 'websocket'] as TransportName[]) sr.results.push(await overhead.run(t, p, ctx));
  // The wire block is the first point's window with its share of the set-up, as its bytesPerMessage is.
  for (const r of sr.results) assertRowAgrees(r, (r.extra!['sweep'] as { delivered: number }[])[0]!.delivered);
  const summary = readOverheadSummary(overhead.summarize!(sr))!;
  const sweep = (t: string) =>
    sr.results.find((r) => r.transport === t)!.extra!['sweep'] as {
      ratePerClient: number;
      sizeBytes: number;
      steadyBytesPerMessage: number;
      overheadBytesPerMessage: number;
    }[];
  assert.equal(sweep('polling').length, 4);
  assert.equal(readOverheadSweep(sr.results[0]!.extra)?.length, 4, 'the schema reads every point written');
  for (const pt of sweep('websocket')) {
    // A server → client frame of ≤ 125 bytes has a 2-byte header; 126…65535 bytes, 4.
    assert.equal(pt.steadyBytesPerMessage, pt.sizeBytes + (pt.sizeBytes <= 125 ? 2 : 4), JSON.stringify(pt));
  }
  // Polling every 100 ms pays far more per message at 5 msg/s than at 50 msg/s (more polls come back empty).
  const at = (r: number) => sweep('polling').find((x) => x.ratePerClient === r && x.sizeBytes === 40)!.overheadBytesPerMessage;
  assert.ok(at(5) > 1.5 * at(50), `polling overhead ${at(5)} B at 5 msg/s vs ${at(50)} B at 50 msg/s`);
  const ext = summary.extrapolated!;
  assert.equal(ext.length, 4);
  assert.ok(ext.every((e) => e.headerBytesPerSec > 0));
  // Crossover arithmetic on lines made up for the purpose: a falls from 300 to 100, b stays at 200 → cross at 10^0.5.
  const lines = new Map([
    [
      'a',
      [
        { ratePerClient: 1, sizeBytes: 64, bytesPerMessage: 300, overheadBytesPerMessage: 236 },
        { ratePerClient: 10, sizeBytes: 64, bytesPerMessage: 100, overheadBytesPerMessage: 36 },
      ],
    ],
    [
      'b',
      [
        { ratePerClient: 1, sizeBytes: 64, bytesPerMessage: 200, overheadBytesPerMessage: 136 },
        { ratePerClient: 10, sizeBytes: 64, bytesPerMessage: 200, overheadBytesPerMessage: 136 },
      ],
    ],
  ]);
  const x = crossovers(lines, [64]);
  assert.equal(x.length, 1);
  assert.equal(x[0]!.cheaperBelow, 'b');
  assert.ok(Math.abs(x[0]!.ratePerClient - Math.sqrt(10)) < 0.01);
});

test('overhead: with both payloads, a deflate row sends fewer bytes for compressible text than for random base64, and CPU per message is recorded', async () => {
  const p = BOTH_PAYLOADS_SWEEP;
  const row = await overhead.run('websocket+deflate' as TransportName, p, ctx);
  const all = readPayloadPoints(row.extra)!;
  assert.deepEqual(
    all.map((x) => x.payload),
    ['compressible', 'incompressible'],
  );
  assert.equal(readOverheadSweep(row.extra)?.length, 1, 'the lines use the first payload kind only');
  const [squeezed, random] = all as [OverheadSweepPoint, OverheadSweepPoint];
  // JSON-like records shrink to well under half; base64 (6 bits per byte) no lower than about 3/4.
  assert.ok(squeezed.steadyBytesPerMessage! < 0.5 * 512, `compressible: ${squeezed.steadyBytesPerMessage} B/msg`);
  assert.ok(random.steadyBytesPerMessage! > 0.7 * 512, `incompressible: ${random.steadyBytesPerMessage} B/msg`);
  for (const x of all) assert.ok(x.serverCpuUsPerMessage! > 0, JSON.stringify(x));
});
