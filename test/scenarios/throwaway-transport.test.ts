/**
 * A transport is one server file, one client file and one registry entry: a toy line-stream
 * transport (test/fixtures/toy/) is registered here only, in the runner's process, and the
 * scenarios run on it for real — its server and client modules are imported by URL in the
 * child processes — with texts that follow from its traits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { push, PUSH_DEFAULTS } from '../../scenarios/push/index.ts';
import { deadPeer, expectation, mechanism, type DeadPeerParams, type DeadPeerRowExtra } from '../../scenarios/dead-peer/index.ts';
import { httpSaturation } from '../../scenarios/http-saturation/index.ts';
import { whyNot, type RunContext } from '../../scenarios/contract.ts';
import { liveChildren } from '../../runner/session.ts';
import { readFlags, SHARED_FLAGS } from '../../runner/flags.ts';
import { registerTransport, transport, transportNames } from '../../transports/index.ts';

registerTransport({
  name: 'lines',
  inWords: 'the line stream',
  traits: { delivery: 'stream', heartbeat: 'one-way', socketsPerClient: 1, upward: 'post' },
  look: { color: '#999999', dash: [1, 1] },
  server: { kind: 'module', module: import.meta.resolve('../fixtures/toy/server.ts'), export: 'createLineServer' },
  client: { module: import.meta.resolve('../fixtures/toy/client.ts'), export: 'LineClient' },
});

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };

test('the registry takes the toy after the built-in transports and refuses its name twice', () => {
  assert.deepEqual(transportNames(), ['polling', 'long-polling', 'sse', 'websocket', 'ws', 'lines']);
  assert.throws(() => registerTransport({ ...transport('lines') }), /already registered/);
  assert.throws(
    () => transport('nope'),
    /unknown transport "nope" \(known: polling, long-polling, sse, websocket, ws, tcp, polling-node, long-polling-node, sse-node, polling-h2, long-polling-h2, sse-h2, websocket-h2, websocket\+deflate, ws\+deflate, uws, websocketd, socket\.io-ws, socket\.io-polling, ws-h2, uws-h2, websocketd-h2, socket\.io-ws-h2, socket\.io-polling-h2, lines\)/,
  );
});

test('http-saturation does not apply to it, for the reason its delivery gives', () => {
  assert.equal(
    whyNot(httpSaturation, 'lines', httpSaturation.params(readFlags({ ...SHARED_FLAGS, ...httpSaturation.flags }, {}, 'quick'), 'quick')),
    'the line stream holds one streaming response per client; there is no request per update to saturate',
  );
});

test('push: every published message reaches every subscriber of the toy', { timeout: 30_000 }, async () => {
  const p = { ...PUSH_DEFAULTS, clients: 3, rate: 40, durationMs: 1500 };
  const r = await push.run('lines', p, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  assert.equal(r.transport, 'lines');
  assert.equal(liveChildren.size, 0, 'every child process is gone after the run');
  const m = r.messages!;
  const published = m.published ?? 0;
  assert.ok(published >= 50, `published ${published}`);
  assert.equal(m.delivered, published * p.clients);
  assert.equal(m.lost, 0);
  assert.equal(r.latencyMs!.count, m.delivered);
  assert.ok(r.wire!.bytesDown > m.delivered * p.size, 'the payloads crossed the server socket');
  assert.equal(r.server!.connections, p.clients, 'one held request per subscriber');
});

test('dead-peer: the one-way heartbeat never notices a frozen peer, and the texts say so', { timeout: 30_000 }, async () => {
  const P: DeadPeerParams = { heartbeatIntervalMs: 300, maxMissed: 2, capMs: 2000, pollIntervalMs: 200, longPollTimeoutMs: 1000 };
  const r = await deadPeer.run('lines', P, ctx);
  assert.equal(r.state, 'completed', r.error ?? '');
  assert.equal(liveChildren.size, 0, 'every child process is gone after the run');
  const x = r.extra as unknown as DeadPeerRowExtra;
  assert.deepEqual(x.before, { connectionsOpen: 1, subscribers: 1 });
  assert.equal(x.detected, false);
  assert.equal(x.timeline.length, 1, 'the server never changed its view of the peer');
  // From the traits: a one-way heartbeat at the interval, nothing expected to notice.
  assert.equal(x.heartbeatKind, 'one-way comment');
  assert.deepEqual(x.heartbeat, { intervalMs: 300, maxMissed: 0 });
  assert.equal(x.expectedMs, null);
  assert.equal(x.timeouts, undefined, 'no keep-alive timeout applies to a response in progress');
  assert.equal(x.mechanism, mechanism(transport('lines'), P, undefined));
  assert.match(x.mechanism, /^comment heartbeat every 0\.3 s is one-way: .* the stream stays open .*; not freed within the 2 s cap$/);
  // Not short polling's story, which is what a name comparison would have fallen through to.
  assert.notDeepEqual(expectation(transport('lines'), P), expectation(transport('polling'), P));
  assert.doesNotMatch(x.mechanism, /between polls|keep-alive socket/);
});
