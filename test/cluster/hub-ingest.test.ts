/** The hub as a backplane feeds it: numbers from elsewhere, a history that starts late, a cursor ahead that is lag, not a restart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hub } from '../../servers/hub.ts';

test('a hub fed from a shared stream keeps its numbers, and reports what it never held as a gap', () => {
  const hub = new Hub(4);
  const seen: number[] = [];
  hub.subscribe((m) => void seen.push(m.seq));
  for (const seq of [5, 6, 7]) hub.ingest({ seq, data: `m${seq}` });
  hub.ingest({ seq: 6, data: 'again' });
  assert.deepEqual(seen, [5, 6, 7], 'a number at or below the newest is not delivered twice');
  assert.equal(hub.lastSeq, 7);
  const r = hub.since(0);
  assert.deepEqual(r.gap, { from: 1, to: 4 });
  assert.deepEqual(
    r.messages.map((m) => m.data),
    ['m5', 'm6', 'm7'],
  );
  // Past the capacity the oldest go, as with local publishing.
  for (const seq of [8, 9, 10]) hub.ingest({ seq, data: `m${seq}` });
  assert.equal(hub.firstKept, 7);
  assert.deepEqual(hub.since(5).gap, { from: 6, to: 6 });
});

test('behind a backplane a cursor ahead of the hub waits; without one it is a restart', () => {
  const fed = new Hub();
  fed.aheadIsReset = false;
  fed.ingest({ seq: 3, data: 'x' });
  assert.deepEqual(fed.since(5), { messages: [], next: 5, gap: null, more: false, reset: false });
  const local = new Hub();
  local.publish('x');
  assert.equal(local.since(5).reset, true);
});
