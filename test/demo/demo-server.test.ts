/** The demo server without a browser: publishing, counters, the security and heartbeat endpoints. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { test, type TestContext } from 'node:test';
import { UsageError } from '../../args.ts';
import { demoCommand } from '../../demo/cli.ts';
import { frameForPage, publishBodyText, startDemo } from '../../demo/server.ts';
import { connect, encodeFrame, Opcode } from '../../protocol/index.ts';
import { waitFor } from '../helpers/wait.ts';

async function demo(t: TestContext, o: Parameters<typeof startDemo>[0] = {}) {
  const d = await startDemo({ port: 0, ...o });
  t.after(() => d.close());
  return d;
}

async function post(url: string, body: string, type = 'application/json') {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test('publish bodies: JSON {text}, a JSON string or plain text; anything else is a 400 with a reason', () => {
  assert.equal(publishBodyText('{"text":"hi"}', 'application/json'), 'hi');
  assert.equal(publishBodyText('"hi"', 'application/json'), 'hi');
  assert.equal(publishBodyText('plain words', 'text/plain'), 'plain words');
  for (const [body, msg] of [
    ['{oops', /not valid JSON/],
    ['[1,2]', /must be \{"text"/],
    ['{"text":5}', /must be a string/],
    ['{"text":"  "}', /empty/],
    [JSON.stringify({ text: 'x'.repeat(5000) }), /longer than 4096/],
  ] as const) {
    assert.throws(
      () => publishBodyText(body, 'application/json'),
      (e: Error & { status?: number }) => e.status === 400 && msg.test(e.message),
    );
  }
});

test('POST /publish reaches the three HTTP transports and the WebSocket pane, stamped', async (t) => {
  const d = await demo(t);
  const page = `http://127.0.0.1:${d.ports.page}`;
  const ws = await connect(`ws://127.0.0.1:${d.ports.websocket}/?client=t1`, { origin: page });
  t.after(() => ws.terminate());
  const got = once(ws, 'message');
  const r = await post(`${page}/publish`, JSON.stringify({ text: 'hello' }));
  assert.equal(r.status, 202);
  const [data] = (await got) as [Buffer];
  const m = JSON.parse(data.toString()) as { seq: number; sentAt: number; text: string };
  assert.equal(m.text, 'hello');
  assert.ok(Math.abs(Date.now() - m.sentAt) < 5000);
  for (const port of [d.ports.polling, d.ports['long-polling']]) {
    const poll = (await (await fetch(`http://127.0.0.1:${port}/poll?cursor=0`)).json()) as { messages: { data: string }[] };
    assert.equal(JSON.parse(poll.messages[0]!.data).text, 'hello');
  }
  const bad = await post(`${page}/publish`, '{nope');
  assert.equal(bad.status, 400);
  const stats = (await (await fetch(`${page}/stats`)).json()) as Record<string, { bytesWritten: number; requests: number }>;
  assert.deepEqual(Object.keys(stats), ['polling', 'long-polling', 'sse', 'websocket']);
  assert.ok(stats['websocket']!.bytesWritten > 0, 'the pane server counts its own socket bytes');
  assert.equal((await fetch(`${page}/nothing-here`)).status, 404);
});

test('CORS: the transports allow exactly the page origin', async (t) => {
  const d = await demo(t);
  const r = await fetch(`http://127.0.0.1:${d.ports.polling}/poll`);
  assert.equal(r.headers.get('access-control-allow-origin'), `http://127.0.0.1:${d.ports.page}`);
  await r.arrayBuffer();
});

test('the pane refuses a foreign Origin (403); /origin-test reports it', async (t) => {
  const d = await demo(t);
  await assert.rejects(
    connect(`ws://127.0.0.1:${d.ports.websocket}/?client=x`, { origin: 'http://evil.example' }),
    (e: Error & { status?: number }) => e.status === 403,
  );
  const r = await post(`http://127.0.0.1:${d.ports.page}/origin-test`, '');
  assert.deepEqual([r.body['status'], r.body['refused']], [403, true]);
});

test('a token opens /secure once; the same token again gets 401', async (t) => {
  const d = await demo(t);
  const page = `http://127.0.0.1:${d.ports.page}`;
  const { token } = (await (await fetch(`${page}/token`)).json()) as { token: string };
  const url = `ws://127.0.0.1:${d.ports.page}/secure?token=${token}`;
  const first = await connect(url, { origin: page });
  first.close(1000);
  await assert.rejects(connect(url, { origin: page }), (e: Error & { status?: number }) => e.status === 401);
  await assert.rejects(connect(`ws://127.0.0.1:${d.ports.page}/secure`, { origin: page }), (e: Error & { status?: number }) => e.status === 401);
});

test('/fragment sends one message in several frames: FIN=0 then continuations', async (t) => {
  const d = await demo(t);
  const page = `http://127.0.0.1:${d.ports.page}`;
  const frames: Buffer[] = [];
  const ws = await connect(`ws://127.0.0.1:${d.ports.websocket}/?client=frag`, {
    origin: page,
    onFrame: (dir, b) => dir === 'in' && frames.push(Buffer.from(b)),
  });
  t.after(() => ws.terminate());
  const got = once(ws, 'message');
  assert.equal((await post(`${page}/fragment?client=frag`, '')).status, 202);
  const [msg] = (await got) as [Buffer];
  assert.match(msg.toString(), /several frames/);
  const described = frames.map((b) => frameForPage(b, 'out'));
  assert.ok(described.length > 2);
  assert.deepEqual([described[0]!.opcodeName, described[0]!.fin], ['text', false]);
  assert.deepEqual([described.at(-1)!.opcodeName, described.at(-1)!.fin], ['continuation', true]);
  assert.equal((await post(`${page}/fragment?client=nobody`, '')).status, 409);
});

test('frameForPage: a masked client frame, its key and both payloads', () => {
  const f = frameForPage(encodeFrame('Hi', { opcode: Opcode.TEXT, mask: Buffer.from([1, 2, 3, 4]) }), 'in');
  assert.equal(f.maskingKey, '01020304');
  assert.equal(f.maskedPayload, Buffer.from([0x48 ^ 1, 0x69 ^ 2]).toString('hex'));
  assert.equal(f.payload, Buffer.from('Hi').toString('hex'));
  assert.deepEqual([f.fin, f.masked, f.lengthForm, f.headerLength, f.text], [true, true, 7, 6, 'Hi']);
  const big = frameForPage(encodeFrame(Buffer.alloc(70_000), { opcode: Opcode.BINARY }), 'out');
  assert.deepEqual([big.lengthForm, big.headerLength, big.truncated, big.text], [64, 10, true, null]);
});

test('frameForPage: a compressed (RSV1) frame shows its compressed bytes and what they inflate to', () => {
  const text = 'hello hello hello hello hello';
  const deflated = deflateRawSync(Buffer.from(text), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  // RFC 7692 §7.2.1: the sender drops the 00 00 ff ff tail of the sync flush.
  const payload = deflated.subarray(0, deflated.length - 4);
  const f = frameForPage(encodeFrame(payload, { opcode: Opcode.TEXT, rsv1: true }), 'out');
  assert.deepEqual([f.rsv1, f.compressed, f.payloadLength, f.inflatedLength, f.text], [true, true, payload.length, text.length, text]);
  assert.equal(f.payload, payload.toString('hex'));
  assert.ok(payload.length < text.length);
  // A frame that does not inflate on its own (here: not deflate data at all) is shown as compressed bytes only.
  const g = frameForPage(encodeFrame(Buffer.from([0xff, 0xff, 0xff]), { opcode: Opcode.TEXT, rsv1: true }), 'out');
  assert.deepEqual([g.compressed, g.inflated, g.text], [true, null, null]);
  const plainFrame = frameForPage(encodeFrame('plain', { opcode: Opcode.TEXT }), 'out');
  assert.deepEqual([plainFrame.rsv1, plainFrame.compressed, plainFrame.text], [false, false, 'plain']);
});

test('the helper peer that stops answering pings is dropped after the configured misses', async (t) => {
  const d = await demo(t, { heartbeatIntervalMs: 200, maxMissedPongs: 3 });
  const page = `http://127.0.0.1:${d.ports.page}`;
  const events: { side: string; type: string; code?: number; missed?: number }[] = [];
  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`${page}/inspect?client=hb`, { signal: ac.signal });
  const reader = res.body!.getReader();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += Buffer.from(value!).toString();
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: peer$/m.test(block) && data) events.push(JSON.parse(data));
      }
    }
  })();
  await post(`${page}/peer/start`, '');
  const seen = (side: string, type: string) => () => events.some((e) => e.side === side && e.type === type);
  await waitFor(seen('server', 'pong'), 'a pong', 8000);
  assert.equal((await post(`${page}/peer/answer`, '{"answer":false}')).status, 202);
  assert.equal((await post(`${page}/peer/answer`, '{"answer":"no"}')).status, 400);
  await waitFor(seen('server', 'close'), 'the drop', 8000);
  const timeout = events.find((e) => e.type === 'timeout');
  assert.equal(timeout?.missed, 3);
  assert.equal(events.find((e) => e.side === 'server' && e.type === 'close')?.code, 1006);
  await waitFor(seen('peer', 'closed'), 'the helper seeing it', 8000);
});

test('demo flags: bad values are one-line usage errors', async () => {
  await assert.rejects(demoCommand(['--port', 'abc']), (e: Error) => e instanceof UsageError && /--port must be a number/.test(e.message));
  await assert.rejects(demoCommand(['--port', '70000']), UsageError);
  await assert.rejects(demoCommand(['--nope']), UsageError);
  await assert.rejects(demoCommand(['extra']), UsageError);
});
