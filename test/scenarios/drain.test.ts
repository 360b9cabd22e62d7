/**
 * Session.drain: it returns once every owed delivery is in, and with `stillMs` also once
 * deliveries stop coming (what a server dropped never arrives), never before `ms` otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../runner/session.ts';

/** A session whose one load process reports deliveries from `count()`; nothing is started. */
function sessionCounting(count: () => number): Session {
  const s = new Session('websocket', {}, { wsClient: 'own' });
  const load = { ask: async () => ({ delivered: count() }) };
  s.loads = [load as unknown as Session['loads'][number]];
  return s;
}

test('drain returns as soon as the target is reached', async () => {
  let n = 0;
  const s = sessionCounting(() => {
    n += 10;
    return n;
  });
  const t0 = performance.now();
  await s.drain(50, 10_000);
  assert.ok(n >= 50);
  assert.ok(performance.now() - t0 < 5_000, 'long before the bound');
});

test('with stillMs, drain stops once deliveries stop short of the target', async () => {
  let n = 0;
  const s = sessionCounting(() => {
    if (n < 30) n += 10;
    return n;
  });
  const t0 = performance.now();
  await s.drain(100, 10_000, undefined, 200);
  const took = performance.now() - t0;
  assert.equal(n, 30);
  assert.ok(took >= 200, `waited ${took} ms for the stillness`);
  assert.ok(took < 5_000, `gave up on the missing 70 long before the bound (${took} ms)`);
});

test('without stillMs, drain waits out its bound when deliveries stop', async () => {
  const s = sessionCounting(() => 30);
  const t0 = performance.now();
  await s.drain(100, 400);
  assert.ok(performance.now() - t0 >= 400);
});
