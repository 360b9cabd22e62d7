/** --threshold: the grammar, its one-line errors, and which rows break a condition. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results, TransportResult } from '../../metrics/results.ts';
import { evaluateThresholds, parseThresholds } from '../../path/threshold.ts';

const SCENARIOS = ['echo', 'push'];

test('conditions parse with their units turned into the metric’s own', () => {
  const [a, b, c, d, e, f] = parseThresholds(['p99<50ms,echo:loss<=0.1%', 'msgs/s>1000', 'p50<0.2s', 'loss<0.01', 'errors==0'], SCENARIOS);
  assert.deepEqual(a, { text: 'p99<50ms', metric: 'p99', op: '<', value: 50 });
  assert.deepEqual(b, { text: 'echo:loss<=0.1%', scenario: 'echo', metric: 'loss', op: '<=', value: 0.1 });
  assert.equal(c!.metric, 'msgs/s');
  assert.equal(c!.op, '>');
  assert.equal(d!.value, 200);
  assert.equal(e!.value, 1);
  assert.equal(f!.metric, 'errors');
});

test('bad syntax is one line naming the flag', () => {
  for (const bad of ['p99<<5', 'p42<5ms', 'nope:p99<5', 'p99<5%', 'loss<5ms', 'msgs/s>5ms', 'p99']) {
    assert.throws(
      () => parseThresholds([bad], SCENARIOS),
      (e: Error) => e.message.startsWith('--threshold: ') && !e.message.includes('\n'),
      bad,
    );
  }
});

function row(transport: string, p99: number, lost: number, state: TransportResult['state'] = 'completed'): TransportResult {
  return {
    transport,
    state,
    error: null,
    latencyMs: { p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2, count: 100 },
    throughput: { messagesPerSec: 500, payloadBytesPerSec: 0 },
    messages: { sent: 1000, delivered: 1000 - lost, lost },
    wire: null,
    server: null,
  };
}

const results = {
  meta: { version: 2, startedAt: '', command: '', git: null, node: '', cpu: '', cores: 2, os: '' },
  scenarios: [
    { name: 'echo', params: {}, results: [row('ws', 10, 0), row('sse', 80, 5)] },
    { name: 'push', params: {}, results: [row('ws', 70, 0), { ...row('sse', 0, 0, 'n/a'), latencyMs: null }] },
  ],
} as unknown as Results;

test('a global condition judges every row that has the metric; n/a rows are not judged', () => {
  const broken = evaluateThresholds(parseThresholds(['p99<50ms'], SCENARIOS), results);
  assert.deepEqual(
    broken.map((b) => `${b.scenario}/${b.transport}`),
    ['echo/sse', 'push/ws'],
  );
  assert.match(broken[0]!.reason, /^threshold p99<50ms broken: echo × sse has p99 = 80 ms$/);
});

test('a scenario condition judges that scenario only; loss is a percentage of what was owed', () => {
  const broken = evaluateThresholds(parseThresholds(['echo:loss<=0.1%', 'push:p99<100ms'], SCENARIOS), results);
  assert.equal(broken.length, 1);
  assert.equal(broken[0]!.transport, 'sse');
  assert.equal(broken[0]!.actual, 0.5);
  assert.deepEqual(evaluateThresholds(parseThresholds(['msgs/s>=500'], SCENARIOS), results), []);
});
