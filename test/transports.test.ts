/** The transport registry: names, traits and the load-client choice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadClientFor, transport, transports } from '../transports/index.ts';
import { requestPerUpdate } from '../transports/descriptor.ts';
import { TRANSPORTS } from '../metrics/results.ts';
import { Session } from '../runner/session.ts';

test('the built-in transports (five and the tcp ceiling), in report order, are the rows a results file may hold', () => {
  assert.deepEqual(
    transports().map((d) => d.name),
    ['polling', 'long-polling', 'sse', 'websocket', 'ws', 'tcp'],
  );
  assert.deepEqual([...TRANSPORTS], ['polling', 'long-polling', 'sse', 'websocket', 'ws', 'tcp']);
});

test('only the polling deliveries cost a request per update', () => {
  assert.deepEqual(
    transports()
      .filter((d) => requestPerUpdate(d.traits))
      .map((d) => d.name),
    ['polling', 'long-polling'],
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
