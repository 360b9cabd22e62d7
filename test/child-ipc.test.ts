/**
 * The parent's side of a child's IPC channel (runner/child.ts) when the child dies under it: a
 * request written after the child died, before this process read the channel's end, fails that
 * request and every reply still awaited, and nothing is thrown uncaught.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Child } from '../runner/child.ts';
import type { DyingCalls } from './fixtures/dying-child.ts';

/**
 * Blocks this process's event loop until `pid` is dead with every thread gone, so its end of the
 * channel is closed, and not yet reaped. The leader of a process with threads reads as a zombie
 * while its other threads still hold the descriptor table, so the state alone is not enough.
 */
function blockUntilDead(pid: number, timeoutMs: number): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    // /proc/PID/stat: "pid (comm) STATE ..."; the command may hold spaces, the state follows its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') && readdirSync(`/proc/${pid}/task`).length === 1) return true;
    Atomics.wait(nap, 0, 0, 5);
  }
  return false;
}

test('a request written to a child that has just died fails with the write error; replies awaited fail with it', {
  skip: process.platform !== 'linux' && 'reads /proc',
  timeout: 30_000,
}, async () => {
  const child = new Child<DyingCalls>('dying', fileURLToPath(new URL('./fixtures/dying-child.ts', import.meta.url)));
  try {
    await child.ask({ type: 'ping' }, 20_000);
    const dying = child.ask({ type: 'die' }, 20_000).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    // The event loop is held: the child's death has not been read, and the channel still reads as connected.
    assert.ok(blockUntilDead(child.proc.pid!, 10_000), 'the child died');
    assert.equal(child.proc.connected, true, 'the channel still reads as connected');
    await assert.rejects(child.ask({ type: 'ping' }, 20_000), /^Error: dying: the request "ping" could not be sent: write (EPIPE|ECONNRESET)/);
    assert.match(await dying, /the request "ping" could not be sent/, 'the reply still awaited fails too');
  } finally {
    await child.kill();
  }
});
