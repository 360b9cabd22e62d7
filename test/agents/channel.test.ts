/** The agent channel's checks, from memory: what an entry must be to be acted on, and where an agent may send traffic. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelKey, encode, type Entry, openEntry, StreamWriter } from '../../agents/channel.ts';
import { targetPolicy } from '../../agents/targets.ts';
import { replySchema, requestSchema } from '../../agents/wire.ts';
import type { RedisClient } from '../../cluster/redis.ts';

const KEY = channelKey('a-secret-of-enough-length');

/** The entries a writer makes, caught instead of sent to Redis. */
function writer(stream: string, context = '') {
  const made: Entry[] = [];
  const client = { xAdd: async (_: string, __: string, fields: Record<string, string>) => void made.push({ id: `${made.length + 1}-0`, fields }) };
  const w = new StreamWriter(client as unknown as RedisClient, stream, KEY);
  w.context = context;
  return { w, made };
}

const check = (stream: string, expected: number, context = '', key = KEY) => ({ stream, key, context, schema: requestSchema, maxBytes: 4096, expected });

test('an entry opens only on its own stream, at its own position, under the same key and context', async () => {
  const { w, made } = writer('lab:load:a:in', 'nonce1');
  await w.put({ type: 'snapshot' });
  await w.put({ type: 'measure', fromSeq: 1 });
  const [first, second] = made as [Entry, Entry];
  assert.deepEqual(openEntry(first, check('lab:load:a:in', 1, 'nonce1')), { ok: true, message: { type: 'snapshot' } });
  assert.deepEqual(openEntry(second, check('lab:load:a:in', 2, 'nonce1')), { ok: true, message: { type: 'measure', fromSeq: 1 } });
  const why = (e: Entry, c: ReturnType<typeof check>) => {
    const r = openEntry(e, c);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.why;
  };
  assert.match(why(first, check('lab:load:a:in', 3, 'nonce1')), /^replayed \(position 1 was already served\)$/);
  assert.match(why(second, check('lab:load:a:in', 1, 'nonce1')), /^out of order \(position 2, expected 1\)$/);
  assert.match(why(first, check('lab:load:b:in', 1, 'nonce1')), /^wrong MAC/, 'another stream');
  assert.match(why(first, check('lab:load:a:in', 1, 'nonce2')), /^wrong MAC/, 'another conversation');
  assert.match(why(first, check('lab:load:a:in', 1, 'nonce1', channelKey('another-secret-entirely'))), /^wrong MAC/);
  assert.match(why({ id: '1-0', fields: { ...first.fields, n: '2' } }, check('lab:load:a:in', 2, 'nonce1')), /^wrong MAC/, 'a position rewritten');
  const { mac: _, ...bare } = first.fields;
  assert.match(why({ id: '1-0', fields: bare }, check('lab:load:a:in', 1, 'nonce1')), /^not authenticated \(no MAC/);
  assert.match(
    why({ id: '1-0', fields: { ...first.fields, m: 'x'.repeat(5000) } }, check('lab:load:a:in', 1, 'nonce1')),
    /^oversized \(\d+ bytes, at most 4096\)$/,
  );
  assert.match(why({ id: '1-0', fields: { ...first.fields, extra: '1' } }, check('lab:load:a:in', 1, 'nonce1')), /^malformed \(fields "m,n,mac,extra"\)$/);
  // Without a key (--insecure) the same schema and positions hold.
  const open = (m: string, n = 1) => openEntry({ id: '1-0', fields: { m, n: String(n) } }, { ...check('s', 1), key: undefined });
  assert.equal(open(encode({ type: 'snapshot' })).ok, true);
  assert.match((open('{') as { why: string }).why, /^malformed \(not JSON: "\{"\)$/);
  assert.match((open(encode({ type: 'eval', code: '1' })) as { why: string }).why, /^invalid "eval": type: /);
  assert.match((open(encode({ type: 'snapshot', extra: 1 })) as { why: string }).why, /^invalid "snapshot": Unrecognized key: "extra"$/);
  assert.match((open(encode({ type: 'snapshot' }), 2) as { why: string }).why, /^out of order/);
});

test('bigints travel as decimal text and come back as bigints', () => {
  const text = encode({ type: 'init', controllerOffsetNs: -1234567890123456789n });
  assert.equal(text, '{"type":"init","controllerOffsetNs":"-1234567890123456789"}');
  const init = {
    transport: 'websocket',
    wsClient: 'own',
    baseUrl: 'http://127.0.0.1:1',
    clients: 1,
    idPrefix: 'a',
    pollIntervalMs: 1,
    headers: 'minimal',
    mode: 'subscribe',
  };
  const r = requestSchema.parse({ ...JSON.parse(text), ...init });
  assert.equal(r.type === 'init' && r.controllerOffsetNs, -1234567890123456789n);
  assert.deepEqual(requestSchema.parse(JSON.parse(encode({ type: 'mark', atNs: 98765432109876543n }))), { type: 'mark', atNs: 98765432109876543n });
});

test('--allow-target: listed names, addresses and ranges, nothing else and nothing by default', async () => {
  const none = await targetPolicy([]);
  assert.match(
    none.refuse('http://127.0.0.1:80') ?? '',
    /target 127\.0\.0\.1 is not one this agent may send traffic to \(none allowed: start the agent with --allow-target/,
  );
  const p = await targetPolicy(['10.0.0.0/8', 'localhost', '2001:db8::/32', '192.168.1.7']);
  for (const ok of [
    'http://10.1.2.3:8080',
    'ws://10.255.255.255/x',
    'https://localhost:443',
    'wss://[2001:db8::1]:9',
    'http://192.168.1.7',
    'http://127.0.0.1:1',
  ])
    assert.equal(p.refuse(ok), undefined, ok);
  for (const bad of ['http://11.0.0.1', 'http://192.168.1.8', 'http://example.com', 'http://[2001:db9::1]', 'http://localhost.evil.example'])
    assert.match(p.refuse(bad) ?? '', /is not one this agent may send traffic to \(allowed: 10\.0\.0\.0\/8, localhost/, bad);
  assert.match(p.refuse('file:///etc/passwd') ?? '', /not a scheme the load clients speak/);
  assert.match(p.refuse('not a url') ?? '', /is not a URL/);
  await assert.rejects(targetPolicy(['10.0.0.0/33']), /"10\.0\.0\.0\/33" is not a CIDR range/);
  await assert.rejects(targetPolicy(['bad_name!']), /neither a host name, an address nor a CIDR range/);
  await assert.rejects(targetPolicy(['no-such-host.invalid']), /"no-such-host\.invalid" does not resolve/);
});

test('a snapshot reply may carry HTTP/2 frame counts, and nothing else besides its figures', () => {
  const reply = {
    type: 'snapshot',
    delivered: 3,
    sent: 0,
    h2Frames: { up: { HEADERS: { frames: 2, bytes: 40, blockBytes: 22 } }, down: { DATA: { frames: 3, bytes: 99 } } },
  };
  assert.deepEqual(replySchema.parse(reply), reply);
  assert.equal(replySchema.safeParse({ ...reply, h2Frames: { up: { 'not a type': { frames: 1, bytes: 1 } }, down: {} } }).success, false);
  assert.equal(replySchema.safeParse({ ...reply, extra: 1 }).success, false);
});
