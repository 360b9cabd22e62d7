/**
 * The connections scenario leads with the memory figure that is resolved: RSS per idle connection
 * once its rise over the empty server passes its resolution, the V8 heap (counted after a gc)
 * below that, as at a few hundred connections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { connectionsFacet, RSS_RESOLUTION_BYTES } from '../../scenarios/connections/facet.ts';

const MiB = 1024 * 1024;

/** A completed row holding `n` connections whose RSS rose by `rssRise` and heap by `heapPerConn` each. */
function row(transport: string, n: number, rssRise: number, heapPerConn: number, baseHeap = 5 * MiB): TransportResult {
  const base = { rssBytes: 60 * MiB, heapBytes: baseHeap };
  const step = {
    connections: n,
    rssBytes: base.rssBytes + rssRise,
    heapBytes: base.heapBytes + heapPerConn * n,
    rssPerConnBytes: Math.round(rssRise / n),
    heapPerConnBytes: baseHeap > 0 ? heapPerConn : 0,
    cpuPct: 0.1,
  };
  return {
    transport,
    state: 'completed',
    error: null,
    latencyMs: null,
    throughput: null,
    messages: null,
    wire: null,
    server: { cpuMs: 1, rssMaxBytes: step.rssBytes },
    extra: { steps: [step], baseline: base },
  };
}

const scenario = (results: TransportResult[]): ScenarioResult => ({
  name: 'connections',
  params: { steps: [(results[0]!.extra!['steps'] as { connections: number }[])[0]!.connections] },
  results,
});

test('a few hundred connections: RSS rose by less than its resolution, so the column and the finding give the heap per connection', () => {
  // RSS moved by 2 MiB for one row and fell for another: noise; the heaps differ clearly.
  const s = scenario([row('ws', 200, 2 * MiB, 4000), row('sse', 200, -1 * MiB, 9000), row('websocketd', 200, 3 * MiB, 0, 0)]);
  const [col] = connectionsFacet.matrix!(s);
  assert.equal(col!.label, 'heap/idle conn');
  assert.match(col!.question, /V8 heap after a gc at 200 connections: RSS rose by less than its 8\.0 MiB resolution/);
  assert.deepEqual((col!.cells['ws'] as { range: { median: number } }).range.median, 4000);
  assert.deepEqual((col!.cells['sse'] as { range: { median: number } }).range.median, 9000);
  assert.match((col!.cells['websocketd'] as { na: string }).na, /no JS heap/);
  const [finding] = connectionsFacet.findings!(s);
  assert.match(finding!.text, /^connections: server V8 heap per idle connection at 200: ws 3\.91 KiB, sse 8\.79 KiB \(RSS rose by less than/);
});

test('past its resolution RSS leads, as it is what the machine pays', () => {
  const rise = RSS_RESOLUTION_BYTES + 6 * MiB;
  const s = scenario([row('ws', 1000, rise, 4000), row('sse', 1000, rise * 2, 9000)]);
  const [col] = connectionsFacet.matrix!(s);
  assert.equal(col!.label, 'RSS/idle conn');
  assert.equal((col!.cells['ws'] as { range: { median: number } }).range.median, Math.round(rise / 1000));
  assert.match(connectionsFacet.findings!(s)[0]!.text, /^connections: server RSS per idle connection at 1,000: ws /);
});
