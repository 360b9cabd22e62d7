/**
 * The throughput ramp's pure parts: a step's verdict and figures from what it counted, and the
 * log that keeps the best row, asks for the next rate and makes the search's row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportResult } from '../../metrics/results.ts';
import { measuredRow } from '../../scenarios/contract.ts';
import { RampLog, stepTotals, upClean, upFigures, upStepWhy, withoutEnd } from '../../scenarios/throughput/steps.ts';

const latency = (p50: number, p99: number) => ({ p50, p90: p99, p99, p999: p99, max: p99, mean: p50, count: 100 });

/** A row delivering `perSec` messages/s; its payload says which step made it. */
const rowAt = (perSec: number): TransportResult =>
  measuredRow('websocket', { throughput: { messagesPerSec: perSec, payloadBytesPerSec: perSec * 1e6 }, latencyMs: latency(1, 2), extra: { mark: perSec } });

describe('a step going up', () => {
  it('holds when every message was sent and 99 % of them arrived', () => {
    assert.equal(upStepWhy({ owed: 1000, notSent: 0, got: 990, clients: 4 }), undefined);
    assert.equal(upStepWhy({ owed: 1000, notSent: 0, got: 989, clients: 4 }), 'server received only 989 of 1000');
  });

  it('fails when a sender held messages back, whatever arrived', () => {
    assert.equal(upStepWhy({ owed: 1000, notSent: 3, got: 1000, clients: 4 }), '3 messages held back: 4 client(s) could not send that fast');
  });

  it('leaves its senders reusable only when nothing was held back and everything arrived', () => {
    assert.equal(upClean({ owed: 10, notSent: 0, got: 10, clients: 1 }), true);
    assert.equal(upClean({ owed: 10, notSent: 0, got: 9, clients: 1 }), false, 'a step that held at 99 % still left messages in flight');
    assert.equal(upClean({ owed: 10, notSent: 1, got: 10, clients: 1 }), false);
  });

  it('turns the senders’ cumulative totals into the step’s own', () => {
    assert.deepEqual(stepTotals({ sent: 5000, notSent: 7 }, { sent: 3000, notSent: 2 }), { owed: 2000, notSent: 5 });
  });

  it('counts what the server received: no latency, the payload and bytes per message of what arrived', () => {
    const row = measuredRow('ws', {
      latencyMs: latency(1, 2),
      wire: { bytesUp: 1000, bytesDown: 200, payloadBytes: 0, overheadBytesPerMessage: 0, requests: 3 },
    });
    const up = upFigures(row, { owed: 12, notSent: 2, got: 10, clients: 2 }, 16, 2);
    assert.equal(up.latencyMs, null);
    assert.equal(up.latencyMsUncorrected, null);
    assert.deepEqual(up.percentiles, []);
    assert.deepEqual(up.messages, { sent: 14, delivered: 10, lost: 4 });
    assert.deepEqual(up.throughput, { messagesPerSec: 5, payloadBytesPerSec: 80 });
    assert.deepEqual(up.wire, { bytesUp: 1000, bytesDown: 200, payloadBytes: 160, overheadBytesPerMessage: 104, bytesPerMessage: 120, requests: 3 });
    assert.equal(row.latencyMs?.p99, 2, 'the measured row is left as it was');
    assert.deepEqual(upFigures(row, { owed: 5, notSent: 0, got: 0, clients: 1 }, 16, 1).wire?.bytesPerMessage, 0, 'nothing arrived: no division by zero');
  });
});

describe('a step going down', () => {
  it('keeps its last tenth’s latency out of the row, as the verdict’s median', () => {
    const { row, endP50 } = withoutEnd(measuredRow('sse', { extra: { endLatencyMs: latency(42, 90), other: 1 } }));
    assert.equal(endP50, 42);
    assert.deepEqual(row.extra, { other: 1 });
    assert.equal(withoutEnd(measuredRow('sse', {})).endP50, undefined);
  });
});

describe('the ramp log', () => {
  /** Runs the log against an oracle that holds every rate below `limit`; returns the rates tried. */
  function run(log: RampLog, limit: number): number[] {
    const rates: number[] = [];
    for (let rate = log.next(); rate !== undefined; rate = log.next()) {
      rates.push(rate);
      log.record(rate, { row: rowAt(Math.min(rate, limit)), why: rate < limit ? undefined : 'fell behind' });
    }
    return rates;
  }

  it('doubles, bisects, and reports the row of the highest rate that held with the bracket', () => {
    const log = new RampLog({ direction: 'down', startRate: 1000, resolution: 0.25, maxSteps: 10 });
    assert.deepEqual(run(log, 5000), [1000, 2000, 4000, 8000, 6000, 5000]);
    const r = log.row('websocket');
    assert.equal(r.extra?.['mark'], 4000, 'the row of 4000 msg/s, the highest that held');
    assert.equal(r.extra?.['sustainedRate'], 4000);
    assert.equal(r.extra?.['failedRate'], 5000);
    assert.equal(r.extra?.['resolution'], 0.25);
    assert.equal(r.extra?.['payloadMBps'], 4000);
    assert.equal(log.steps.length, 6);
    assert.deepEqual(
      log.steps.map((s) => s.sustained),
      [true, true, true, false, false, false],
    );
    assert.equal(log.steps[3]!.why, 'fell behind');
  });

  it('keeps the best row when a lower rate holds after it', () => {
    const log = new RampLog({ direction: 'up', startRate: 100, resolution: 0.1, maxSteps: 5 });
    log.record(100, { row: rowAt(100), why: undefined });
    log.record(200, { row: rowAt(200), why: undefined });
    log.record(150, { row: rowAt(150), why: undefined });
    assert.equal(log.row('ws').extra?.['mark'], 200);
  });

  it('records the last tenth’s median on a step only when it has one', () => {
    const log = new RampLog({ direction: 'down', startRate: 100, resolution: 0.1, maxSteps: 5 });
    log.record(100, { row: rowAt(100), why: undefined, endP50: 3 });
    log.record(200, { row: rowAt(200), why: undefined });
    assert.equal(log.steps[0]!.endP50Ms, 3);
    assert.equal('endP50Ms' in log.steps[1]!, false);
  });

  it('marks the row when not even the first rate held', () => {
    const log = new RampLog({ direction: 'down', startRate: 1000, resolution: 0.1, maxSteps: 1 });
    assert.deepEqual(run(log, 10), [1000]);
    const r = log.row('sse');
    assert.equal(r.transport, 'sse');
    assert.deepEqual(r.throughput, { messagesPerSec: 10, payloadBytesPerSec: 0 });
    assert.equal(r.extra?.['sustainedRate'], 0);
    assert.equal(r.extra?.['note'], 'the first rate (1000 msg/s) was not sustained: fell behind');
  });
});
