/**
 * A closed loop whose echoes never come back fails, naming the message, once the oldest has
 * waited its timeout: the load process's one watchdog (runner/load-child.ts) rather than a
 * hang until the request's own deadline.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../runner/session.ts';

test('a closed loop fails when an echo is overdue, with the message it waited for', { timeout: 60_000 }, async () => {
  // A server with echo off takes every message and answers none.
  const s = new Session('websocket', { echo: false }, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ clients: 1, processes: 1, pollIntervalMs: 1000, headers: 'minimal', mode: 'echo' });
    const started = performance.now();
    await assert.rejects(s.loads[0]!.ask({ type: 'ping-pong', size: 64, durationMs: 5_000, echoTimeoutMs: 300 }, 20_000), /no echo of message 1 within 0\.3 s/);
    const waited = performance.now() - started;
    // Failed by the watchdog (300 ms, checked every 75 ms), long before the loop's 5 s or the request's 20 s.
    assert.ok(waited >= 300 && waited < 4_000, `failed after ${Math.round(waited)} ms`);
    assert.equal((await s.counters()).messagesIn - (s.baseCounters?.messagesIn ?? 0), 1, 'one message in flight, sent once');
  } finally {
    await s.close();
  }
});
