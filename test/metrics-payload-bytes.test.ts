import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload, decodePayloadBytes, encodePayload, PayloadWriter, type Stamp } from '../metrics/payload.ts';

const fresh = (): Stamp => ({ seq: -1, intendedNs: -1, lateNs: -1 });

test("PayloadWriter's bytes are encodePayload's text, whatever the previous message left in its buffer", () => {
  const w = new PayloadWriter();
  const now = process.hrtime.bigint();
  // Long stamps then short ones: the bytes a longer stamp left behind must be filler again.
  const cases: [number, bigint, bigint, number][] = [
    [123_456_789, now, now + 999_999_999n, 64],
    [1, now, now, 64],
    [35, 36n, 0n, 40],
    [36, 2n ** 60n + 5n, 2n ** 60n + 17n, 100],
    [7, 1000n, 900n, 1],
    [2 ** 40, now, now + 1n, 32],
    [0, 0n, 0n, 8],
  ];
  for (const [seq, intended, actual, size] of cases) {
    assert.equal(w.encode(seq, intended, actual, size).toString('latin1'), encodePayload(seq, intended, actual, size), `${seq} ${intended} ${actual} ${size}`);
  }
});

test('decodePayloadBytes reads what decodePayload reads, and refuses what it refuses', () => {
  const intended = process.hrtime.bigint();
  for (const text of [encodePayload(42, intended, intended + 77n, 64), encodePayload(1, 5n, 4n, 32), encodePayload(9, intended, intended, 2000)]) {
    const a = fresh();
    const b = fresh();
    assert.equal(decodePayload(text, a), true);
    assert.equal(decodePayloadBytes(Buffer.from(text), b), true);
    assert.deepEqual(b, a);
  }
  for (const text of ['', 'hello', 'a.b', '1..2.', '.1.2.', '1.2.3', 'zz.AB.0.x', '1.2-3.0.', '1.ab_c.0.', `1.${'1'.repeat(14)}.0.`, 'é.1.2.']) {
    const st = fresh();
    assert.equal(decodePayloadBytes(Buffer.from(text), st), decodePayload(text, fresh()), JSON.stringify(text));
    assert.deepEqual(st, fresh(), JSON.stringify(text));
  }
});
