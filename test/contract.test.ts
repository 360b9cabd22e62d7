/** The server/client contract, run against every transport on real servers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { transport as describe_, transports as registered } from '../transports/index.ts';
import { clientFrom, serverFrom } from '../transports/load.ts';
import { post, request, startCollector, startServer } from './helpers.ts';
import { waitFor } from './helpers/wait.ts';
import type { SseClient } from '../clients/sse.ts';

// The peer rows follow their own programs' rules (no cursors, no lab polling routes): test/peers.test.ts covers them.
// Rows named for HTTP/2 that cannot run over it (`ws-h2`) are never started: test/transports.test.ts covers them.
const transports = registered()
  .filter((d) => !d.peer && d.notOverH2 === undefined)
  .map((d) => d.name);

test('every registered transport has a server and a client that load', async () => {
  assert.deepEqual(transports, [
    'polling',
    'long-polling',
    'sse',
    'websocket',
    'ws',
    'tcp',
    'polling-node',
    'long-polling-node',
    'sse-node',
    'polling-h2',
    'long-polling-h2',
    'sse-h2',
    'websocket-h2',
    'websocket+deflate',
    'ws+deflate',
    'ws+preframed',
    'websocket+immediate',
    'websocket+exponential',
    'websocket+full-jitter',
    'websocket+resume',
    'ws+immediate',
    'ws+exponential',
    'ws+full-jitter',
    'ws+resume',
  ]);
  for (const d of registered().filter((x) => !x.peer && x.notOverH2 === undefined)) {
    const server = await serverFrom(d.server);
    // A variant started with its launcher's options (node:http) names itself as its row; one whose
    // options only change the wire (permessage-deflate) may keep the name of its plain row.
    const plain = registered().find((x) => x.server.kind === d.server.kind && x.server.module === d.server.module && !x.server.options);
    assert.ok([d.name, plain?.name].includes(server.transport), `${d.name}: the server names itself ${server.transport}`);
    assert.equal(typeof (await clientFrom(d.client)), 'function', d.name);
  }
});

for (const transport of transports) {
  describe(`contract: ${transport}`, () => {
    test('delivers published messages in order', async (t) => {
      const { server, baseUrl } = await startServer(t, transport);
      const c = await startCollector(t, transport, baseUrl, 'a');
      const sent = Array.from({ length: 30 }, (_, i) => `m${i}`);
      for (const m of sent) server.hub.publish(m);
      await waitFor(() => c.received.length >= sent.length, `${sent.length} messages`);
      assert.deepEqual(c.received, sent);
    });

    test('echoes a client message to that client only', async (t) => {
      const { server, baseUrl } = await startServer(t, transport);
      const a = await startCollector(t, transport, baseUrl, 'a');
      const b = await startCollector(t, transport, baseUrl, 'b');
      await a.client.send('hello from a');
      await waitFor(() => a.received.length === 1, 'the echo');
      assert.deepEqual(a.received, ['hello from a']);
      // A broadcast after the echo reaches b behind anything sent to b before it: had the echo
      // gone to b too, b would hold it first.
      server.hub.publish('to everyone');
      await waitFor(() => b.received.length > 0, 'the broadcast at b');
      assert.deepEqual(b.received, ['to everyone']);
    });

    test('POST /publish fans out to every subscriber', async (t) => {
      const { baseUrl } = await startServer(t, transport);
      const cs = await Promise.all(['a', 'b', 'c', 'd'].map((id) => startCollector(t, transport, baseUrl, id)));
      const r1 = await post(baseUrl, '/publish', 'plain text');
      const r2 = await post(baseUrl, '/publish', JSON.stringify({ data: 'from json' }), 'application/json');
      const r3 = await post(baseUrl, '/publish', JSON.stringify('a json string'), 'application/json');
      assert.deepEqual([r1.status, r2.status, r3.status], [202, 202, 202]);
      await waitFor(() => cs.every((c) => c.received.length >= 3), 'three messages at every subscriber');
      for (const c of cs) assert.deepEqual(c.received, ['plain text', 'from json', 'a json string']);
    });

    test('malformed requests get 400 with a reason and the server keeps serving', async (t) => {
      const { server, baseUrl } = await startServer(t, transport);
      const bad = await post(baseUrl, '/publish', '{"data": ', 'application/json');
      assert.equal(bad.status, 400);
      assert.match(JSON.parse(bad.text).error, /not valid JSON/);
      const empty = await post(baseUrl, '/publish', '');
      assert.equal(empty.status, 400);
      const noClient = await post(baseUrl, '/send', 'x');
      assert.equal(noClient.status, 400);
      assert.match(JSON.parse(noClient.text).error, /client/);
      const delivery = describe_(transport).traits.delivery;
      const path = delivery === 'stream' ? '/events?cursor=abc' : '/poll?cursor=abc';
      if (delivery !== 'frames') {
        const r = await request(baseUrl, path);
        assert.equal(r.status, 400);
        assert.match(((await r.json()) as { error: string }).error, /cursor/);
        // A cursor ahead of the newest message is a restart, not a client error: see the hardening tests.
        const ahead = await request(baseUrl, path.replace('abc', '999'));
        assert.equal(ahead.status, 200);
        await ahead.body?.cancel();
      }
      const c = await startCollector(t, transport, baseUrl, 'ok');
      server.hub.publish('still alive');
      await waitFor(() => c.received.length === 1, 'a message after bad requests');
    });
  });
}

// The resume rules are the contract's logic, shared by the three HTTP servers: each runs them.
for (const [suffix, words] of [
  ['', ''],
  ['-node', ' (node:http)'],
  ['-h2', ' (node:http2)'],
] as const)
  describe(`resume without loss${words}`, () => {
    const v = (name: string) => `${name}${suffix}`;
    test('long polling: nothing lost across held-poll timeouts', async (t) => {
      const { server, baseUrl } = await startServer(t, v('long-polling'), { longPollTimeoutMs: 100 });
      const c = await startCollector(t, v('long-polling'), baseUrl, 'a');
      const client = c.client;
      await waitFor(() => client.emptyResponses >= 2, 'two held polls timed out');
      const sent: string[] = [];
      for (let i = 0; i < 40; i++) {
        sent.push(`m${i}`);
        server.hub.publish(`m${i}`);
        if (i % 10 === 9) {
          // Straddle further timeouts: the next batch goes out after another held poll ran empty.
          const empty = client.emptyResponses;
          await waitFor(() => client.emptyResponses > empty, 'another held poll timed out');
        }
      }
      await waitFor(() => c.received.length >= sent.length, 'all messages');
      assert.deepEqual(c.received, sent);
    });

    test('SSE: a dropped stream resumes from Last-Event-ID with nothing lost or repeated', async (t) => {
      const { server, baseUrl } = await startServer(t, v('sse'), { sseRetryMs: 100 });
      const c = await startCollector(t, v('sse'), baseUrl, 'a');
      const client = c.client as SseClient;
      for (let i = 0; i < 5; i++) server.hub.publish(`m${i}`);
      await waitFor(() => c.received.length === 5, 'first five');
      assert.equal(client.lastEventId, '5');
      client.dropConnection();
      // Published while the client is away: the server has let go of its stream.
      await waitFor(() => server.hub.subscriberCount === 0, 'the server to see the stream dropped');
      for (let i = 5; i < 10; i++) server.hub.publish(`m${i}`);
      await waitFor(() => c.received.length >= 10, 'all ten after reconnect');
      assert.deepEqual(
        c.received,
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.equal(client.reconnects, 1);
    });

    test('a cursor older than the history reports the gap instead of losing silently', async (t) => {
      const { server, baseUrl } = await startServer(t, v('polling'), { history: 5 });
      for (let i = 0; i < 12; i++) server.hub.publish(`m${i}`);
      const r = await request(baseUrl, '/poll?cursor=2');
      const body = (await r.json()) as { next: number; gap: { from: number; to: number }; messages: { id: number }[] };
      assert.deepEqual(body.gap, { from: 3, to: 7 });
      assert.deepEqual(
        body.messages.map((m) => m.id),
        [8, 9, 10, 11, 12],
      );
      assert.equal(body.next, 12);
    });
  });
