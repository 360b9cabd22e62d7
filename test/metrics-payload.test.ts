import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePayload, encodePayload, type Stamp } from '../metrics/payload.ts';

const fresh = (): Stamp => ({ seq: -1, intendedNs: -1, lateNs: -1 });

test('a payload decodes to the numbers it was built from, at every size', () => {
  const intended = process.hrtime.bigint();
  for (const size of [1, 32, 64, 1000]) {
    const text = encodePayload(123_456, intended, intended + 4321n, size);
    assert.ok(text.length >= Math.min(size, 32) && (size < 32 || text.length === size), `size ${size}: ${text.length}`);
    const st = fresh();
    assert.equal(decodePayload(text, st), true);
    assert.equal(st.seq, 123_456);
    assert.equal(st.intendedNs, Number(intended));
    assert.equal(st.lateNs, 4321);
  }
});

test('a message sent early carries no negative lateness', () => {
  const st = fresh();
  assert.equal(decodePayload(encodePayload(1, 5000n, 4000n, 64), st), true);
  assert.equal(st.lateNs, 0);
});

test('a clock far past 2^53 ns still decodes to within a few ns', () => {
  const intended = 2n ** 60n + 12_345n;
  const st = fresh();
  assert.equal(decodePayload(encodePayload(7, intended, intended, 64), st), true);
  assert.ok(Math.abs(st.intendedNs - Number(intended)) <= 2 ** 8, `${st.intendedNs} vs ${intended}`);
});

test('text without a stamp is refused and leaves the stamp as it was', () => {
  for (const text of ['', 'hello', 'a.b', '1..2.', '.1.2.', '1.2.3', 'zz.AB.0.x', '1.2-3.0.', '1.ab_c.0.', `1.${'1'.repeat(14)}.0.`]) {
    const st = fresh();
    assert.equal(decodePayload(text, st), false, JSON.stringify(text));
    assert.deepEqual(st, fresh(), JSON.stringify(text));
  }
});
