/** Rows on emulated links in the findings: compared only within their link, and read in round trips against the model. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results, TransportResult } from '../../metrics/results.ts';
import { computeFindings } from '../../report-model/findings.ts';
import { expectedRoundTrips } from '../../report-model/links.ts';
import { facetOf } from '../../scenarios/facets.ts';

function row(transport: string, p50: number, p99: number): TransportResult {
  return {
    transport,
    state: 'completed',
    error: null,
    latencyMs: { p50, p90: p99, p99, p999: p99, max: p99, mean: p50, count: 1000 },
    throughput: { messagesPerSec: 2500, payloadBytesPerSec: 160_000 },
    messages: { sent: 5000, delivered: 5000, lost: 0 },
    wire: { bytesUp: 1000, bytesDown: 400_000, payloadBytes: 320_000, overheadBytesPerMessage: 16, bytesPerMessage: 80, requests: 50 },
    server: null,
  };
}

const results: Results = {
  meta: { version: 1, startedAt: 'x', node: 'x', os: 'x', cpu: 'x', cores: 2, command: 'x', git: null },
  scenarios: [
    {
      name: 'push',
      params: { pollIntervalMs: 1000, clients: 50, rate: 50, size: 64 },
      results: [row('websocket', 1.2, 2.5), row('polling', 510, 990), row('websocket@3g', 153, 167), row('polling@3g', 684, 1277)],
    },
  ],
};

test('the model in round trips: RTT/2 for a stream, plus half the interval for short polling, a whole RTT for an echo', () => {
  assert.equal(expectedRoundTrips('websocket@3g', 300, 1000, false), 0.5);
  assert.equal(expectedRoundTrips('sse@3g', 300, 1000, true), 1);
  assert.ok(Math.abs(expectedRoundTrips('polling@3g', 300, 1000, false)! - (0.5 + 500 / 300)) < 1e-9);
  assert.equal(expectedRoundTrips('polling', 0, 1000, false), undefined, 'no link, no round trips');
  // 50 msg/s is faster than one per 300 ms: a long poll is mostly being re-sent when a message comes.
  assert.equal(expectedRoundTrips('long-polling@3g', 300, 1000, false, 50), 1);
  assert.equal(expectedRoundTrips('long-polling@3g', 300, 1000, false, 1), 0.5);
  // An echo sent up by POST faster than one per RTT queues behind its own requests: no count is claimed.
  assert.equal(expectedRoundTrips('sse@3g', 300, 1000, true, 5), undefined);
  assert.equal(expectedRoundTrips('websocket@3g', 300, 1000, true, 5), 1);
});

test('latency findings compare rows of one link; a link gets its p50 / p99 in round trips beside the model', () => {
  const texts = computeFindings(results, facetOf).map((f) => f.text);
  const lowest = texts.filter((t) => /^push: lowest p99/.test(t));
  assert.equal(lowest.length, 2, texts.join('\n'));
  assert.ok(lowest.some((t) => t.includes('websocket (') && !t.includes('@3g')));
  assert.ok(lowest.some((t) => t.includes('websocket@3g (') && t.includes('polling@3g')));
  const rt = texts.find((t) => t.startsWith('push over 3g (RTT 300 ms)'));
  assert.ok(rt, texts.join('\n'));
  assert.match(rt, /websocket@3g 0\.51 \/ 0\.56 \(model 0\.50\)/);
  assert.match(rt, /polling@3g 2\.28 \/ 4\.26 \(model 2\.17\)/);
  assert.ok(!texts.some((t) => t.startsWith('push over loopback')), 'loopback rows have no round trips to speak of');
});
