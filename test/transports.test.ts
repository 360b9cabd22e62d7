/** The transport registry: names, traits and the load-client choice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClientFor, transport, transportNames, transports, withHttpServers } from '../transports/index.ts';
import { requestPerUpdate } from '../transports/descriptor.ts';
import { TRANSPORTS } from '../metrics/results.ts';
import { Session } from '../runner/session.ts';

const VARIANTS = ['polling-node', 'long-polling-node', 'sse-node'];
/** The HTTP/2 rows (test/h2-rows.test.ts), and the rows named for HTTP/2 that give n/a. */
const H2 = ['polling-h2', 'long-polling-h2', 'sse-h2', 'websocket-h2'];
const NOT_H2 = ['ws-h2', 'uws-h2', 'websocketd-h2', 'socket.io-ws-h2', 'socket.io-polling-h2'];
/** The peer rows (transports/peers.ts), run by name only. */
const PEERS = ['uws', 'websocketd', 'socket.io-ws', 'socket.io-polling'];

test('the five built-in transports, the tcp ceiling, the variants and the peers, in report order, are the rows a results file may hold', () => {
  assert.deepEqual(transportNames(), ['polling', 'long-polling', 'sse', 'websocket', 'ws'], 'a run takes the five by default');
  assert.deepEqual(
    transports().map((d) => d.name),
    ['polling', 'long-polling', 'sse', 'websocket', 'ws', 'tcp', ...VARIANTS, ...H2, 'websocket+deflate', 'ws+deflate', ...PEERS, ...NOT_H2],
  );
  assert.deepEqual(
    [...TRANSPORTS],
    ['polling', 'long-polling', 'sse', 'websocket', 'ws', 'tcp', ...VARIANTS, ...H2, 'websocket+deflate', 'ws+deflate', ...PEERS, ...NOT_H2],
  );
});

test("a node:http variant keeps its transport's traits and client and names the server it runs on", () => {
  for (const name of VARIANTS) {
    const v = transport(name);
    const base = transport(v.variantOf!);
    assert.deepEqual(v.traits, base.traits);
    assert.deepEqual(v.client, base.client);
    assert.equal(v.httpServer, 'node');
    assert.equal(base.httpServer, 'express');
    assert.deepEqual(v.server.options, { httpServer: 'node' });
  }
});

test('--http-server expands each HTTP transport once per server kind and leaves the WebSocket rows alone', () => {
  assert.deepEqual(withHttpServers(['polling', 'websocket'], ['express']), ['polling', 'websocket']);
  assert.deepEqual(withHttpServers(['polling', 'sse', 'ws'], ['express', 'node']), ['polling', 'polling-node', 'sse', 'sse-node', 'ws']);
  assert.deepEqual(withHttpServers(['long-polling'], ['node']), ['long-polling-node']);
  assert.deepEqual(withHttpServers(['sse-node'], ['express']), ['sse-node'], 'a variant named outright is kept');
});

test("only the polling deliveries (socket.io's long polling among them) cost a request per update", () => {
  assert.deepEqual(
    transports()
      .filter((d) => requestPerUpdate(d.traits))
      .map((d) => d.name),
    ['polling', 'long-polling', 'polling-node', 'long-polling-node', 'polling-h2', 'long-polling-h2', 'socket.io-polling', 'socket.io-polling-h2'],
  );
});

test('--ws-client picks one client for every row that delivers by frames, and no other', () => {
  const [ws, engine, sse] = [transport('ws'), transport('websocket'), transport('sse')];
  assert.deepEqual(loadClientFor(ws, 'own'), ws.client);
  assert.deepEqual(loadClientFor(ws, 'engine'), engine.client);
  assert.deepEqual(loadClientFor(engine, 'ws'), ws.client);
  assert.deepEqual(loadClientFor(engine, 'engine'), engine.client);
  for (const choice of ['own', 'engine', 'ws'] as const) assert.deepEqual(loadClientFor(sse, choice), sse.client);
});

test('a session hands the chosen client to every child it starts', () => {
  assert.deepEqual(new Session('ws', {}, { wsClient: 'engine' }).loadClient, transport('websocket').client);
  assert.deepEqual(new Session('ws', {}, { wsClient: 'own' }).loadClient, transport('ws').client);
  assert.throws(() => new Session('nope', {}, { wsClient: 'own' }), /unknown transport "nope"/);
});
