/**
 * The load's own cost, said beside the server's: LAB_LOAD_NODE_FLAGS reaches the load processes
 * (and only them), a row carries the load's CPU per delivered message, the fixed-rate phase its
 * own, and a finding says when the load costs as much as the server it measures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results, TransportResult } from '../metrics/results.ts';
import { summaryColumns } from '../report-model/figures.ts';
import { computeFindings } from '../report-model/findings.ts';
import type { Child } from '../runner/child.ts';
import { liveChildren, loadNodeFlags } from '../runner/session.ts';
import type { RunContext } from '../scenarios/contract.ts';
import { echo } from '../scenarios/echo/index.ts';
import { facetOf } from '../scenarios/facets.ts';

test('loadNodeFlags: the load’s own young generation, then the words of LAB_LOAD_NODE_FLAGS', () => {
  assert.deepEqual(loadNodeFlags({}), ['--max-semi-space-size=32']);
  assert.deepEqual(loadNodeFlags({ LAB_LOAD_NODE_FLAGS: '  --cpu-prof   --cpu-prof-dir=/tmp/p ' }), [
    '--max-semi-space-size=32',
    '--cpu-prof',
    '--cpu-prof-dir=/tmp/p',
  ]);
});

test('a run starts its load processes, and no server, with LAB_LOAD_NODE_FLAGS; its rows give the load µs per message', { timeout: 60_000 }, async () => {
  const programs: string[] = [];
  const ctx: RunContext = {
    progress: (line) => {
      if (line.includes('connecting')) for (const c of liveChildren) programs.push((c as Child<never>).proc.spawnargs.join(' '));
    },
    signal: new AbortController().signal,
    wsClient: 'own',
  };
  const before = process.env['LAB_LOAD_NODE_FLAGS'];
  process.env['LAB_LOAD_NODE_FLAGS'] = '--stack-trace-limit=13';
  let row: TransportResult;
  try {
    row = await echo.run(
      'websocket',
      {
        clients: 2,
        ratePerClient: 20,
        durationMs: 600,
        size: 64,
        warmupMs: 0,
        pollIntervalMs: 200,
        longPollTimeoutMs: 1000,
        headers: 'minimal',
        loadProcesses: 1,
      },
      ctx,
    );
  } finally {
    if (before === undefined) delete process.env['LAB_LOAD_NODE_FLAGS'];
    else process.env['LAB_LOAD_NODE_FLAGS'] = before;
  }
  assert.equal(row.state, 'completed', row.error ?? '');
  const loads = programs.filter((p) => p.includes('load-child'));
  assert.ok(loads.length > 0 && programs.some((p) => p.includes('server-child')), programs.join('\n'));
  for (const p of programs) assert.equal(p.includes('--stack-trace-limit=13'), loads.includes(p), p);
  const delivered = row.messages!.delivered;
  assert.ok(delivered > 0);
  // The row's CPU ms are rounded to 0.01 ms, its µs per message to 0.01 µs.
  const fromRow = (row.client!.cpuMs * 1000) / delivered;
  assert.ok(Math.abs(row.client!.cpuUsPerMessage! - fromRow) <= 0.01 + 5 / delivered, `${row.client!.cpuUsPerMessage} vs ${fromRow}`);
});

/** A completed push row with the server's and the load's µs per message, at the run's rate and the fixed one. */
function row(transport: string, server: number, load: number, fixedServer: number, fixedLoad: number): TransportResult {
  return {
    transport,
    state: 'completed',
    error: null,
    latencyMs: null,
    throughput: { messagesPerSec: 1000, payloadBytesPerSec: 64_000 },
    messages: { sent: 1000, delivered: 1000, lost: 0 },
    wire: { bytesUp: 0, bytesDown: 66_000, payloadBytes: 64_000, overheadBytesPerMessage: 2, requests: 1 },
    server: { cpuMs: server, rssMaxBytes: 1, cpuUsPerMessage: server },
    client: { cpuMs: load, cpuPct: 10, processes: 1, clientBound: false, cpuUsPerMessage: load },
    extra: { fixedCpuUsPerMessage: fixedServer, fixedLoadCpuUsPerMessage: fixedLoad },
  } as TransportResult;
}

test('a finding says where the load cost as much as the server, at the run and at the fixed rate; the table shows both beside the server', () => {
  const results = {
    meta: { startedAt: '', command: '', git: '', node: '', cpu: '', cores: 2, os: '' },
    scenarios: [{ name: 'push', params: {}, results: [row('websocket', 10, 7, 10, 12), row('ws', 20, 20, 20, 5)] }],
  } as unknown as Results;
  const texts = computeFindings(results, facetOf)
    .filter((f) => f.topic === 'limits')
    .map((f) => f.text);
  assert.deepEqual(texts, [
    "push/websocket: the load cost 12.0 µs of CPU per delivered message at the fixed rate, 1.2× the server's 10.0 µs: the load, not the server, is what saturates first.",
    "push/ws: the load cost 20.0 µs of CPU per delivered message, 1.0× the server's 20.0 µs: the load, not the server, is what saturates first.",
  ]);
  const heads = summaryColumns(results.scenarios[0]!.results).map((c) => c.head);
  for (const h of ['srv µs/msg', 'load µs/msg', 'srv µs/msg at fixed rate', 'load µs/msg at fixed rate']) assert.ok(heads.includes(h), h);
  assert.equal(heads.indexOf('load µs/msg'), heads.indexOf('srv µs/msg') + 1);
  assert.equal(heads.indexOf('load µs/msg at fixed rate'), heads.indexOf('srv µs/msg at fixed rate') + 1);
});
