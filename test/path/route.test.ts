/** The path's n/a reasons and how a --target URL becomes the clients' base URL. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PROXY } from '../../path/nginx.ts';
import { targetBase } from '../../path/route.ts';
import { whyNot } from '../../scenarios/contract.ts';
import { scenarioByName } from '../../scenarios/index.ts';

test('a target URL becomes a base the clients add the contract paths to', () => {
  assert.equal(targetBase('ws://127.0.0.1:9000/'), 'http://127.0.0.1:9000');
  assert.equal(targetBase('wss://example.test/socket'), 'https://example.test/socket');
  assert.equal(targetBase('http://127.0.0.1:9000/events'), 'http://127.0.0.1:9000');
  assert.equal(targetBase('https://127.0.0.1:9000/lab/events/'), 'https://127.0.0.1:9000/lab');
  assert.throws(() => targetBase('ftp://x/'), /must be ws:\/\/, wss:\/\/, http:\/\/ or https:\/\//);
});

test('on a target only the scenarios that need no server internals run; the rest say why', () => {
  const target = { target: 'http://127.0.0.1:1' };
  const params = {};
  assert.equal(whyNot(scenarioByName('echo')!, 'ws', params, target), null);
  assert.equal(whyNot(scenarioByName('echo-ping-pong')!, 'sse', params, target), null);
  for (const n of ['push', 'overhead', 'connections', 'dead-peer', 'fan-out'])
    assert.match(whyNot(scenarioByName(n)!, 'ws', params, target) ?? '', /--target/, n);
});

test('the raw TCP ceiling has no TLS and no HTTP proxy; proxy-lessons needs nginx', () => {
  const push = scenarioByName('push')!;
  assert.match(whyNot(push, 'tcp', {}, { tls: { cert: '', key: '' } }) ?? '', /TLS/);
  assert.match(whyNot(push, 'tcp', {}, { via: { kind: 'nginx', proxy: DEFAULT_PROXY } }) ?? '', /proxy/);
  assert.match(whyNot(scenarioByName('proxy-lessons')!, 'ws', {}, undefined) ?? '', /--via nginx/);
  assert.equal(whyNot(scenarioByName('proxy-lessons')!, 'ws', {}, { via: { kind: 'nginx', proxy: DEFAULT_PROXY } }), null);
});

test('a peer row is n/a over TLS, with the reason; the lab’s own rows run', () => {
  const echo = scenarioByName('echo-ping-pong')!;
  const params = {};
  for (const peer of ['uws', 'websocketd', 'socket.io-ws', 'socket.io-polling'])
    assert.match(whyNot(echo, peer, params, { tls: { cert: '', key: '' } }) ?? '', /certificate/, peer);
  assert.equal(whyNot(echo, 'websocket', params, { tls: { cert: '', key: '' } }), null);
});
