/**
 * connect for real through an emulated rtt=100ms link: every transport's first message comes
 * after the round trips its protocols predict, within ±0.5, with and without TLS; and the
 * prediction itself, step by step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ConnectParams, predictedRoundTrips } from '../../scenarios/connect/index.ts';
import { MATCH_ROUND_TRIPS, matches } from '../../scenarios/connect/facet.ts';
import { readConnect } from '../../scenarios/connect/schema.ts';
import { liveChildren } from '../../runner/session.ts';
import { throwawayCertificate } from '../../path/route.ts';
import { transport } from '../../transports/index.ts';
import type { RunContext } from '../../scenarios/contract.ts';

const P: ConnectParams = { fresh: 3, pollIntervalMs: 1000, longPollTimeoutMs: 25_000, headers: 'browser', publishEveryMs: 2 };
const base: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };

test('the predicted round trips follow the delivery: upgrade or request after TCP (and TLS); the polls learn their cursor first', () => {
  const steps = (t: string, tls: boolean) => predictedRoundTrips(transport(t), tls);
  assert.deepEqual(steps('websocket', true), { roundTrips: 3, steps: ['TCP 1', 'TLS 1.3 1', 'upgrade 1'], plusInterval: false });
  assert.equal(steps('sse', false)!.roundTrips, 2);
  assert.deepEqual(steps('polling', false), { roundTrips: 3, steps: ['TCP 1', 'cursor request 1', 'first poll 1'], plusInterval: true });
  // The long-polling client holds its first poll on the connection the cursor's answer freed: no second connection first.
  assert.deepEqual(steps('long-polling', false), { roundTrips: 3, steps: ['TCP 1', 'cursor request 1', 'held poll 1'], plusInterval: false });
  assert.equal(steps('long-polling', true)!.roundTrips, 4);
  assert.equal(steps('websocket@3g', false)!.roundTrips, 2, 'a link row predicts as its transport');
  // HTTP/2: one connection per page; a WebSocket waits for the server's SETTINGS before its extended CONNECT.
  assert.equal(steps('long-polling-h2', true)!.roundTrips, 4);
  assert.deepEqual(steps('websocket-h2', true)!.steps, ['TCP 1', 'TLS 1.3 1', 'server SETTINGS 1', 'extended CONNECT 1']);
});

for (const tls of [false, true]) {
  for (const t of ['polling', 'long-polling', 'sse', 'websocket', 'ws']) {
    test(`${t}@rtt100${tls ? ' over TLS' : ''}: the first message after the predicted round trips ± ${MATCH_ROUND_TRIPS}`, { timeout: 60_000 }, async (tc) => {
      const ctx: RunContext = tls ? { ...base, path: { tls: await throwawayCertificate() } } : base;
      const r = await connect.run(`${t}@rtt100`, P, ctx);
      assert.equal(r.state, 'completed', r.error ?? '');
      assert.equal(liveChildren.size, 0, 'every child process, the link’s included, is gone after the run');
      const x = readConnect(r.extra)!;
      tc.diagnostic(`${x.samplesMs?.join(', ')} ms = ${x.roundTrips} RTT, predicted ${x.predicted?.roundTrips}`);
      assert.equal(x.rttMs, 100);
      assert.equal(x.tls, tls);
      assert.equal(x.samplesMs?.length, P.fresh);
      assert.equal(matches(x), true, `${x.roundTrips} round trips against ${x.predicted?.roundTrips} predicted`);
      // After every connection was reset: the HTTP clients come back by themselves, the WebSocket ones do not.
      const back = x.reconnect!;
      tc.diagnostic(`after the reset: ${back.ms} ms (${back.rule})`);
      if (transport(t).traits.delivery === 'frames') assert.equal(back.ms, null);
      else {
        // At least the new connection's round trips (TCP, TLS, the request), at most the client's wait plus a few more.
        const least = (tls ? 3 : 2) * 100;
        assert.ok(back.ms !== null && back.ms >= least - 5 && back.ms < 3000 + 6 * 100, `${t}: ${back.ms} ms after the reset`);
      }
    });
  }
}
