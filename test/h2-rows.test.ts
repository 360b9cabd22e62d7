/** The HTTP/2 rows in the registry: what they are, and the n/a rows of the servers that cannot run over HTTP/2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClientFor, transport, withHttpServers } from '../transports/index.ts';
import { whyNot } from '../scenarios/contract.ts';
import { scenarioByName } from '../scenarios/index.ts';
import { readFlags, SHARED_FLAGS } from '../runner/flags.ts';

test('the h2 rows: a variant of each HTTP row and of the engine, one connection per page, their own clients', () => {
  for (const name of ['polling', 'long-polling', 'sse', 'websocket']) {
    const d = transport(`${name}-h2`);
    assert.equal(d.httpServer, 'h2');
    assert.equal(d.variantOf, name);
    assert.equal(d.traits.socketsPerClient, 1);
    assert.match(d.client.module, /clients\/h2-/);
    assert.deepEqual(d.server.options, { httpServer: 'h2' });
    assert.equal(d.role, undefined, 'findings that compare the engine with ws take the plain rows');
  }
  // --ws-client engine|ws would hand it an HTTP/1.1 client: an h2 row keeps its own.
  assert.equal(loadClientFor(transport('websocket-h2'), 'ws'), transport('websocket-h2').client);
  assert.deepEqual(withHttpServers(['polling', 'sse', 'websocket'], ['express', 'h2']), ['polling', 'polling-h2', 'sse', 'sse-h2', 'websocket']);
});

test('servers that cannot run over HTTP/2 give n/a with the reason; h2 rows are n/a behind nginx, against a target, under autocannon', () => {
  const overhead = scenarioByName('overhead')!;
  const params = overhead.params(readFlags({ ...SHARED_FLAGS, ...overhead.flags }, {}, 'quick'), 'quick');
  for (const [name, why] of [
    ['ws-h2', /websockets\/ws#1458/],
    ['uws-h2', /uWebSockets\.js#178/],
    ['websocketd-h2', /HTTP\/1\.1 Upgrade only/],
    ['socket.io-ws-h2', /ws#1458/],
    ['socket.io-polling-h2', /allowHTTP1/],
  ] as const) {
    assert.match(whyNot(overhead, name, params) ?? '', why, name);
    assert.equal(transport(name).peer, undefined, `${name}: nothing is installed for a row that never starts`);
  }
  assert.equal(whyNot(overhead, 'polling-h2', params), null);
  const nginx = { via: { kind: 'nginx' as const, proxy: { buffering: false, readTimeoutMs: 1000, sendTimeoutMs: 1000 } } };
  assert.match(whyNot(overhead, 'sse-h2', params, nginx) ?? '', /HTTP\/1\.1/);
  assert.match(whyNot(overhead, 'polling-h2', params, { target: 'http://127.0.0.1:1' }) ?? '', /target/);
  const saturation = scenarioByName('http-saturation')!;
  assert.match(
    whyNot(saturation, 'polling-h2', saturation.params(readFlags({ ...SHARED_FLAGS, ...saturation.flags }, {}, 'quick'), 'quick')) ?? '',
    /autocannon/,
  );
});
