/**
 * The open-loop schedule reports how late it ran at worst and how late it ended: a pause it
 * caught up from shows in the first only, a sender that cannot keep the rate in both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSchedule } from '../../runner/schedule.ts';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // The event loop is held, as by a long GC pause or a busy server.
  }
}

test('a pause the schedule caught up from counts at worst, not at the end', async () => {
  setTimeout(() => block(300), 150);
  let fired = 0;
  const r = await runSchedule(1000, 800, () => fired++);
  assert.equal(fired, 800);
  assert.equal(r.count, 800);
  assert.ok(r.maxLateMs >= 290, `worst lateness ${r.maxLateMs} ms covers the 300 ms pause`);
  assert.ok(r.endLateMs < r.maxLateMs - 150, `ended ${r.endLateMs} ms late, caught up from ${r.maxLateMs} ms`);
});

test('a sender slower than the rate ends behind its schedule', async () => {
  // Each message costs 2 ms: at 1000 msg/s for 0.4 s the last of 400 leaves about 0.4 s late.
  const r = await runSchedule(1000, 400, () => block(2));
  assert.equal(r.count, 400);
  assert.ok(r.endLateMs >= 300, `ended ${r.endLateMs} ms late`);
});
