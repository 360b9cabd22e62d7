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

/** A row with its relay's figures as the runner writes them. */
function linked(transport: string, p50: number, p99: number, link: Record<string, unknown>, wire?: Partial<TransportResult['wire'] & object>): TransportResult {
  const r = row(transport, p50, p99);
  return { ...r, wire: { ...r.wire!, ...wire }, extra: { link } };
}

const queue = (meanBytes: number, peakBytes: number) => ({ chunks: 100, meanBytes, peakBytes });

test('loss against the same link without it: p50 barely moves, p99 by about an RTO, in RTTs and RTOs', () => {
  const run: Results = {
    ...results,
    scenarios: [
      {
        name: 'push',
        params: { pollIntervalMs: 1000, clients: 50, rate: 50, size: 64 },
        results: [
          row('websocket@rtt100', 50.4, 52.1),
          row('websocket@rtt100-loss1', 50.9, 351.3),
          row('sse@rtt100', 50.6, 53),
          // Polling's tail is its interval: an RTO behind a lost segment hardly moves it.
          row('polling@rtt100', 560, 1010),
          row('polling@rtt100-loss1', 540, 1030),
          // No clean sse row on this lossy link's twin: no sentence for it.
          row('sse@rtt200-loss1', 101, 402),
        ],
      },
    ],
  };
  const texts = computeFindings(run, facetOf).map((f) => f.text);
  const ws = texts.filter((t) => t.includes('% loss moves websocket'));
  assert.equal(ws.length, 1, texts.join('\n'));
  // RTO = 100 + 200 ms; p99 moved by 299.2 ms = 2.99 RTT = 1.00 RTO; p50 by 0.5 ms.
  assert.match(ws[0]!, /1\.00 % loss moves websocket's p50 50\.4 → 50\.9 ms \(\+0\.01 RTT, 0\.00 RTO\) and its p99 52\.1 → 351 ms \(\+2\.99 RTT, 1\.00 RTO\)/);
  assert.match(ws[0]!, /RTO 300 ms/);
  assert.ok(!texts.some((t) => t.includes('loss moves sse')), 'a lossy row without its clean twin gets no comparison');
  assert.match(ws[0]!, /the tail moves by about an RTO/);
  const polling = texts.find((t) => t.includes('% loss moves polling'));
  assert.match(polling ?? '', /p99 1,010 → 1,030 ms \(\+0\.20 RTT, 0\.07 RTO\).*less than half an RTO/);
});

test('the uplink: requests of measured size saturate it at up ÷ (8 × bytes) per second; the relay’s measured queue says whether it grew', () => {
  const run: Results = {
    ...results,
    scenarios: [
      {
        name: 'push',
        params: { pollIntervalMs: 1000, clients: 50, rate: 50, size: 64 },
        results: [
          // 50 requests/s over 50 clients at 800 B each; 5000 delivered at 2500/s: 2 s.
          linked('polling@3g', 684, 1277, { cpuPct: 3, queueUp: queue(0, 800) }, { bytesUp: 80_000, requests: 100 }),
          linked('long-polling@3g', 300, 600, { cpuPct: 3, queueUp: queue(1200, 4000) }, { bytesUp: 70_000, requests: 100 }),
          linked('websocket@3g', 153, 167, { cpuPct: 3, queueUp: queue(0, 0) }),
        ],
      },
    ],
  };
  const texts = computeFindings(run, facetOf).map((f) => f.text);
  const up = texts.find((t) => t.startsWith('push over 3g: requests fill its 768 kbit/s uplink'));
  assert.ok(up, texts.join('\n'));
  // 768,000 / (8 × 800) = 120 requests/s; 100 chunks up in 2 s over 50 clients = 1/s each: 120 clients to fill it.
  assert.match(
    up,
    /polling@3g 800 B a request → 120\/s, 120 clients at this pace on one uplink; measured 1\.00\/s per client, queue met 0 B mean, 800 B peak;/,
  );
  // 700 B: 137/s; a peak of 4,000 B is more than two requests waiting: it grew.
  assert.match(
    up,
    /long-polling@3g 700 B a request → 137\/s, 138 clients at this pace on one uplink; measured 1\.00\/s per client, queue met 1,200 B mean, 4,000 B peak \(grew\)/,
  );
  assert.ok(!up.includes('websocket@3g'), 'frames are not requests');
  assert.match(up, /at most 3\.33\/s at 300 ms/);
  assert.equal(computeFindings(run, facetOf).find((f) => f.text === up)?.level, 'warn', 'a grown queue is a flag');
});

test('a link relay above a fifth of a core is a warning on its row', () => {
  const run: Results = {
    ...results,
    scenarios: [
      {
        name: 'echo',
        params: { clients: 50, rate: 50, size: 64 },
        results: [linked('sse@4g', 400, 500, { cpuPct: 27.3, cpuUsPerMessage: 41 }), linked('websocket@4g', 200, 300, { cpuPct: 12, cpuUsPerMessage: 20 })],
      },
    ],
  };
  const warns = computeFindings(run, facetOf).filter((f) => f.level === 'warn' && f.text.includes('link relay'));
  assert.equal(warns.length, 1, JSON.stringify(warns));
  assert.match(warns[0]!.text, /sse@4g's link relay took 27\.3 % of a core \(41\.0 µs per message\), above 20 %/);
});
