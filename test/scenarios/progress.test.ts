/** The run's ETA on a fake clock: the plan, its correction as runs finish, and the terminal versus CI output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, fmtLeft } from '../../runner/progress.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { readFlags, SHARED_FLAGS } from '../../runner/flags.ts';
import { transport, transportNames } from '../../transports/index.ts';

function fake(planned: number[], tty = false) {
  let now = 0;
  const out: string[] = [];
  const p = new Progress(planned, () => now, { write: (s) => out.push(s), tty });
  return { p, out, advance: (ms: number) => (now += ms) };
}

test('before anything ran, the time left is the plan', () => {
  const { p } = fake([10_000, 20_000, 30_000]);
  assert.equal(p.leftMs(), 60_000);
  assert.equal(p.fraction(), 0);
});

test('the current run counts down, never below zero', () => {
  const { p, advance } = fake([10_000, 20_000]);
  p.start(0);
  advance(4000);
  assert.equal(p.leftMs(), 26_000);
  advance(20_000);
  assert.equal(p.leftMs(), 20_000, 'an overrunning run adds nothing left of its own');
});

test('runs taking twice their plan push the estimate of the rest toward twice', () => {
  const { p, advance } = fake([10_000, 10_000, 10_000, 10_000, 10_000]);
  for (let i = 0; i < 3; i++) {
    p.start(i);
    advance(20_000);
    p.finish(i);
  }
  // Ratio (60 s + prior 5 s) / (30 s + 5 s): close to 2, drawn a little toward 1.
  const r = (60_000 + 5000) / (30_000 + 5000);
  assert.ok(Math.abs(p.ratio() - r) < 1e-9);
  assert.ok(Math.abs(p.leftMs() - 20_000 * r) < 1e-6);
  assert.ok(p.leftMs() > 35_000 && p.leftMs() < 40_000);
});

test('a skipped run neither takes time nor corrects the pace', () => {
  const { p, advance } = fake([10_000, 10_000, 10_000]);
  p.finish(0, true);
  assert.equal(p.ratio(), 1);
  assert.equal(p.leftMs(), 20_000);
  p.start(1);
  advance(5000);
  p.finish(1);
  assert.ok(p.ratio() < 1, 'a faster run shortens the rest');
  assert.ok(p.leftMs() < 10_000);
});

test('not a terminal: one plain line per finished run, no carriage returns', () => {
  const { p, out, advance } = fake([1000, 1000]);
  p.begin();
  p.start(0);
  p.log('[1/2 push] sse: publishing');
  advance(1000);
  p.finish(0);
  p.redraw();
  assert.deepEqual(out, ['progress: 0/2 runs, 0 % done, about 2 s left\n', '[1/2 push] sse: publishing\n', 'progress: 1/2 runs, 50 % done, about 1 s left\n']);
  assert.ok(out.every((l) => !l.includes('\r')));
});

test('a terminal: the status line is redrawn in place under each log line and cleared at the end', () => {
  const { p, out, advance } = fake([60_000, 60_000], true);
  p.start(0);
  advance(30_000);
  p.log('[1/2 push] sse: publishing');
  const last = out.slice(-2);
  assert.equal(last[0], '\r\x1b[K[1/2 push] sse: publishing\n');
  assert.equal(last[1], '\r\x1b[Kprogress: 0/2 runs, 25 % done, about 1 min 30 s left');
  p.end();
  assert.equal(out[out.length - 1], '\r\x1b[K');
  assert.ok(
    out.every((l) => !l.endsWith('left\n')),
    'no status line ends in a newline',
  );
});

test('time left in words', () => {
  assert.equal(fmtLeft(0), '0 s');
  assert.equal(fmtLeft(59_400), '59 s');
  assert.equal(fmtLeft(90_000), '1 min 30 s');
  assert.equal(fmtLeft(120_000), '2 min');
  assert.equal(fmtLeft(14.6 * 60_000), '15 min');
});

test('every scenario plans a positive time for every transport under both profiles', () => {
  const specs = { ...SHARED_FLAGS };
  for (const sc of SCENARIOS) Object.assign(specs, sc.flags ?? {});
  for (const profile of ['quick', 'full'] as const) {
    const f = readFlags(specs, {}, profile);
    for (const sc of SCENARIOS) {
      const params = sc.params(f, profile);
      for (const name of transportNames()) {
        const ms = sc.plannedMs(params, transport(name));
        assert.ok(Number.isFinite(ms) && ms > 0, `${sc.name}/${name} (${profile}): ${ms}`);
      }
    }
  }
  // The full profile measures longer than the quick one.
  const total = (profile: 'quick' | 'full') => {
    const f = readFlags(specs, {}, profile);
    return SCENARIOS.reduce((a, sc) => a + transportNames().reduce((b, n) => b + sc.plannedMs(sc.params(f, profile), transport(n)), 0), 0);
  };
  assert.ok(total('full') > total('quick'));
});
