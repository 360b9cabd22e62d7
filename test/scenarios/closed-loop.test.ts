/**
 * The load process's closed loop (runner/closed-loop.ts): the first failure of any loop fails
 * every echo still awaited, so no loop keeps sending after the run has failed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AwaitedEcho, runClosedLoop } from '../../runner/closed-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client whose echo comes back on the next turn of the event loop, counting its sends. */
function echoing(awaiting: Map<number, AwaitedEcho>) {
  const c = {
    sends: 0,
    send: async (seq: number) => {
      c.sends++;
      setImmediate(() => {
        const w = awaiting.get(seq);
        if (!w) return;
        awaiting.delete(seq);
        w.wake();
      });
    },
  };
  return c;
}

test('a loop whose echo never comes fails the run at its timeout, and the loops that were doing well stop with it', { timeout: 20_000 }, async () => {
  const awaiting = new Map<number, AwaitedEcho>();
  const good = echoing(awaiting);
  let silentSends = 0;
  const silent = async () => {
    silentSends++;
  };
  const started = performance.now();
  await assert.rejects(
    runClosedLoop({ senders: [good.send, silent], inFlight: 2, durationMs: 10_000, timeoutMs: 200, awaiting }),
    /^Error: no echo of message \d+ within 0\.2 s$/,
  );
  assert.ok(performance.now() - started < 5_000, 'failed at the echo timeout, not at the end of the loop');
  assert.equal(silentSends, 2, 'each of the silent client’s loops sent once and waited');
  assert.ok(good.sends > 2, `the echoing client ran (${good.sends} sends)`);
  assert.equal(awaiting.size, 0, 'no echo is left awaited');
  const at = good.sends;
  await sleep(300);
  assert.equal(good.sends, at, 'no loop sends after the failure');
});

test('a send that fails ends every loop with its error; a send that never settles does not hold the failure back', { timeout: 20_000 }, async () => {
  const awaiting = new Map<number, AwaitedEcho>();
  const good = echoing(awaiting);
  let calls = 0;
  const broken = async () => {
    // The first send of this client hangs; its second fails.
    if (++calls === 1) return new Promise<void>(() => {});
    await sleep(50);
    throw new Error('socket closed');
  };
  await assert.rejects(runClosedLoop({ senders: [good.send, broken], inFlight: 2, durationMs: 10_000, timeoutMs: 5_000, awaiting }), /^Error: socket closed$/);
  assert.equal(awaiting.size, 0);
  const at = good.sends;
  await sleep(200);
  assert.equal(good.sends, at, 'no loop sends after the failure');
});

test('without a failure every echo is awaited and the last sequence number is returned', async () => {
  const awaiting = new Map<number, AwaitedEcho>();
  const a = echoing(awaiting);
  const b = echoing(awaiting);
  const { last } = await runClosedLoop({ senders: [a.send, b.send], inFlight: 3, durationMs: 100, timeoutMs: 1_000, awaiting });
  assert.equal(last, a.sends + b.sends);
  assert.equal(awaiting.size, 0);
});
