/**
 * The reconnect policies' delays (seeded, and from chosen draws worked out by hand from the
 * formulas), the EventSource default, the resume frames, and a WebSocket client of each row that
 * resumes by cursor across a server restart on the same port.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  eventSourceDelayMs,
  parseResumeFrame,
  type RECONNECT_POLICIES,
  reconnectPolicy,
  SOCKET_IO_BACKOFF,
  seededRandom,
  seedOf,
} from '../../clients/reconnect.ts';
import type { TransportServer } from '../../servers/contract.ts';
import { createClientFor, createServerFor } from '../../transports/load.ts';
import { waitFor } from '../helpers/wait.ts';

/** A "random" source that returns the given draws in turn. */
const draws = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length]!;
};

describe('reconnect policies', () => {
  test('none gives up at once; immediate never waits', () => {
    const none = reconnectPolicy('none');
    const now = reconnectPolicy('immediate');
    for (let a = 0; a < 5; a++) {
      assert.equal(none.delayMs(a), null);
      assert.equal(now.delayMs(a), 0);
    }
  });

  test('exponential follows socket.io-client: 1 s doubling, capped at 5 s, moved down or up by r·0.5 of the base', () => {
    // r = 0.25: tenths digit 2 (even) → down by ⌊0.25·0.5·1000⌋ = 125 → 875.
    // r = 0.35: tenths digit 3 (odd) → up by ⌊0.35·0.5·2000⌋ = 350 → 2350.
    // r = 0.05: digit 0 → down by ⌊0.05·0.5·4000⌋ = 100 → 3900.
    // r = 0.95: digit 9 → up by ⌊0.95·0.5·8000⌋ = 3800 → 11800, capped at 5000.
    const p = reconnectPolicy('exponential', draws(0.25, 0.35, 0.05, 0.95));
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => p.delayMs(a)),
      [875, 2350, 3900, 5000],
    );
  });

  test('full jitter draws uniformly below min(5 s, 1 s·2^attempt)', () => {
    const p = reconnectPolicy('full-jitter', draws(0.5, 0.5, 0.5, 0.999));
    assert.deepEqual(
      [0, 2, 3, 6].map((a) => p.delayMs(a)),
      [500, 2000, 2500, 4995],
    );
  });

  test('seeded: the same seed replays the same delays, another seed draws others, all within the policy’s bounds', () => {
    for (const name of ['exponential', 'full-jitter'] as const) {
      const seq = (seed: number) => {
        const p = reconnectPolicy(name, seededRandom(seed));
        return Array.from({ length: 8 }, (_, a) => p.delayMs(a)!);
      };
      const a = seq(seedOf('p0c1'));
      assert.deepEqual(seq(seedOf('p0c1')), a);
      assert.notDeepEqual(seq(seedOf('p0c2')), a);
      a.forEach((ms, attempt) => {
        const base = SOCKET_IO_BACKOFF.minMs * 2 ** attempt;
        const hi = Math.min(SOCKET_IO_BACKOFF.maxMs, name === 'exponential' ? base * 1.5 : base);
        const lo = name === 'exponential' ? Math.min(SOCKET_IO_BACKOFF.maxMs, base * 0.5) : 0;
        assert.ok(Number.isInteger(ms) && ms >= lo && ms <= hi, `${name} attempt ${attempt}: ${ms} outside ${lo}–${hi}`);
      });
    }
  });

  test('jitter spreads a herd: 1,000 clients’ first delays under exponential and full jitter', () => {
    const first = (name: (typeof RECONNECT_POLICIES)[number]) =>
      Array.from({ length: 1000 }, (_, i) => reconnectPolicy(name, seededRandom(seedOf(`c${i}`))).delayMs(0)!);
    const exp = first('exponential');
    const full = first('full-jitter');
    // socket.io's first delay lies in [500, 1500]; full jitter's in [0, 1000).
    assert.ok(Math.min(...exp) >= 500 && Math.max(...exp) <= 1500);
    assert.ok(Math.min(...full) >= 0 && Math.max(...full) < 1000);
    // Uniform draws: each half of the range holds a fair share of the herd.
    assert.ok(full.filter((x) => x < 500).length > 400 && full.filter((x) => x < 500).length < 600);
  });

  test('seeded numbers lie in [0, 1)', () => {
    const r = seededRandom(42);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      assert.ok(x >= 0 && x < 1);
    }
  });
});

test('EventSource: the server’s retry when it sent one, else 3 s as Chrome waits', () => {
  assert.equal(eventSourceDelayMs(undefined), 3000);
  assert.equal(eventSourceDelayMs(1500), 1500);
  assert.equal(eventSourceDelayMs(0), 0);
});

test('resume frames: a numbered message (spaces in the data kept), an echo, a gap, a reset, and text that is none', () => {
  assert.deepEqual(parseResumeFrame('12 a b c'), { kind: 'message', seq: 12, data: 'a b c' });
  assert.deepEqual(parseResumeFrame('3 '), { kind: 'message', seq: 3, data: '' });
  assert.deepEqual(parseResumeFrame('gap 4 9'), { kind: 'gap', from: 4, to: 9 });
  assert.deepEqual(parseResumeFrame('reset 50 3'), { kind: 'reset', newest: 3 });
  assert.deepEqual(parseResumeFrame('- 7 is mine'), { kind: 'echo', data: '7 is mine' });
  assert.equal(parseResumeFrame('hello'), undefined);
  assert.equal(parseResumeFrame('gap 4'), undefined);
});

/** A server of `row` on `port` (0: any) whose hub first holds `history` (numbered from 1), as a restarted server that kept its log. */
async function serverWith(row: string, port: number, history: string[], capacity?: number): Promise<{ server: TransportServer; port: number }> {
  const server = await createServerFor(row, capacity ? { history: capacity } : {});
  history.forEach((data, i) => server.hub.ingest({ seq: i + 1, data }));
  return { server, port: await server.listen(port, '127.0.0.1') };
}

for (const row of ['websocket', 'ws']) {
  describe(`${row}: reconnect and resume by cursor across a restart on the same port`, () => {
    test('a resuming client gets what was published while it was away, once, then the live messages', async (t) => {
      const first = await serverWith(row, 0, []);
      let server = first.server;
      t.after(() => server.close());
      const got: string[] = [];
      let connected = 0;
      const client = await createClientFor(row, {
        baseUrl: `http://127.0.0.1:${first.port}`,
        clientId: 'r1',
        reconnect: 'immediate',
        resume: true,
        onMessage: (d) => got.push(d),
        onConnected: () => void connected++,
      });
      await client.start();
      t.after(() => client.stop());
      server.hub.publish('a');
      server.hub.publish('b');
      await waitFor(() => got.length === 2, 'a and b');
      await server.close();
      // The restarted server kept its log; c is published before the client is back.
      const second = await serverWith(row, first.port, ['a', 'b'], undefined);
      server = second.server;
      server.hub.publish('c');
      await waitFor(() => connected === 2, 'the reconnect');
      server.hub.publish('d');
      await waitFor(() => got.length === 4, 'c and d');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, ['a', 'b', 'c', 'd']);
    });

    test('a cursor older than the history is told the gap', async (t) => {
      const first = await serverWith(row, 0, []);
      let server = first.server;
      t.after(() => server.close());
      const got: string[] = [];
      const gaps: string[] = [];
      const client = await createClientFor(row, {
        baseUrl: `http://127.0.0.1:${first.port}`,
        clientId: 'r2',
        reconnect: 'immediate',
        resume: true,
        onMessage: (d) => got.push(d),
        onGap: (from, to) => gaps.push(`${from}-${to}`),
      });
      await client.start();
      t.after(() => client.stop());
      server.hub.publish('a');
      await waitFor(() => got.length === 1, 'a');
      await server.close();
      // History of two messages: 2 and 3 were published meanwhile, and only 2..3 kept of 1..3.
      const second = await serverWith(row, first.port, ['a', 'b', 'c', 'd'], 2);
      server = second.server;
      await waitFor(() => got.length === 3, 'the replay');
      assert.deepEqual(got, ['a', 'c', 'd']);
      assert.deepEqual(gaps, ['2-2']);
    });
  });

  describe(`${row}: no reconnect across a restart`, () => {
    test('policy none (no reconnect) stays closed and misses what follows', async (t) => {
      const first = await serverWith(row, 0, []);
      let server = first.server;
      t.after(() => server.close());
      const got: string[] = [];
      const errors: string[] = [];
      const client = await createClientFor(row, {
        baseUrl: `http://127.0.0.1:${first.port}`,
        clientId: 'r3',
        onMessage: (d) => got.push(d),
        onError: (e) => errors.push(e.message),
      });
      await client.start();
      t.after(() => client.stop());
      await server.close();
      await waitFor(() => errors.length > 0, 'the close reported');
      assert.match(errors[0]!, /1001/);
      server = (await serverWith(row, first.port, [])).server;
      server.hub.publish('x');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(got, []);
      assert.equal(server.counters().subscribers, 0);
    });
  });
}
