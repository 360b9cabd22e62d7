/**
 * The uWebSockets.js row's parts that hold the lab's rules, tested with stand-ins for uWS's
 * request, response and socket (no native module needed): limits and liveness from the lab's
 * options, the client id from the upgrade, the broadcast topic, echo, and bodies up to the limit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withDefaults } from '../servers/base.ts';
import { readBody, type UwsCounts, type UwsRequest, type UwsResponse, type UwsSocket, wsBehavior } from '../servers/uws.ts';

const counts = (): UwsCounts => ({ upgrades: 0, open: 0, requests: 0, errors: 0, messagesIn: 0 });

/** A response that records what was written and lets the test feed its body. */
function response() {
  const out = { status: '', body: '', upgraded: undefined as unknown, onData: (_c: ArrayBuffer, _last: boolean) => {}, onAborted: () => {} };
  const res: UwsResponse = {
    onAborted: (fn) => {
      out.onAborted = fn;
      return res;
    },
    onData: (fn) => {
      out.onData = fn;
      return res;
    },
    writeStatus: (s) => {
      out.status = s;
      return res;
    },
    writeHeader: () => res,
    end: (b) => {
      out.body = b ?? '';
      return res;
    },
    cork: (fn) => {
      fn();
      return res;
    },
    upgrade: (data) => {
      out.upgraded = data;
    },
  };
  return { res, out };
}

const request = (query: Record<string, string>): UwsRequest => ({ getHeader: () => '', getQuery: (k) => query[k] });

function socket(client?: string) {
  const sent: unknown[] = [];
  const topics: string[] = [];
  const ws: UwsSocket<{ client?: string }> = {
    send: (m) => sent.push(m),
    subscribe: (t) => topics.push(t) > 0,
    getUserData: () => (client === undefined ? {} : { client }),
    end: () => {},
  };
  return { ws, sent, topics };
}

test("liveness and limits follow the lab's options: heartbeat × missed pongs as uWS's idle timeout, at least 8 s", () => {
  const b = wsBehavior(withDefaults({ heartbeatIntervalMs: 5000, maxMissedPongs: 3, maxMessageBytes: 1000, maxBufferedBytes: 4096 }), counts(), new Map());
  assert.equal(b['idleTimeout'], 15);
  assert.equal(b['sendPingsAutomatically'], true);
  assert.equal(b['maxPayloadLength'], 1000);
  assert.equal(b['maxBackpressure'], 4096);
  assert.equal(wsBehavior(withDefaults({ heartbeatIntervalMs: 1000, maxMissedPongs: 2 }), counts(), new Map())['idleTimeout'], 8);
  const off = wsBehavior(withDefaults({ heartbeatIntervalMs: 0 }), counts(), new Map());
  assert.equal(off['idleTimeout'], 0);
  assert.equal(off['sendPingsAutomatically'], false);
});

test('an upgrade carries its client id; a malformed one is refused with 400 and counted', () => {
  const c = counts();
  const b = wsBehavior(withDefaults(), c, new Map()) as { upgrade: (res: UwsResponse, req: UwsRequest, ctx: unknown) => void };
  const ok = response();
  b.upgrade(ok.res, request({ client: 'a1' }), {});
  assert.deepEqual(ok.out.upgraded, { client: 'a1' });
  const bad = response();
  b.upgrade(bad.res, request({ client: 'x'.repeat(1000) }), {});
  assert.equal(bad.out.status, '400 Bad Request');
  assert.equal(bad.out.upgraded, undefined);
  assert.deepEqual({ requests: c.requests, upgrades: c.upgrades, errors: c.errors }, { requests: 2, upgrades: 1, errors: 1 });
});

test('an open socket joins the broadcast topic and is found by its client id until it closes; a message is echoed when echo is on', () => {
  const c = counts();
  const byClient = new Map<string, UwsSocket<{ client?: string }>>();
  type Handlers = { open: (ws: unknown) => void; close: (ws: unknown) => void; message: (ws: unknown, m: ArrayBuffer, bin: boolean) => void };
  const b = wsBehavior(withDefaults({ echo: true }), c, byClient) as unknown as Handlers;
  const s = socket('a');
  b.open(s.ws);
  assert.deepEqual(s.topics, ['all']);
  assert.equal(byClient.get('a'), s.ws);
  const m = new ArrayBuffer(3);
  b.message(s.ws, m, true);
  assert.deepEqual(s.sent, [m]);
  b.close(s.ws);
  assert.equal(byClient.has('a'), false);
  assert.deepEqual({ open: c.open, messagesIn: c.messagesIn }, { open: 0, messagesIn: 1 });
  const quiet = wsBehavior(withDefaults({ echo: false }), counts(), new Map()) as unknown as Handlers;
  const q = socket();
  quiet.message(q.ws, m, false);
  assert.deepEqual(q.sent, []);
});

test('a body is copied chunk by chunk up to the limit; past it the answer is 413 and nothing is handed on', () => {
  const { res, out } = response();
  let got: Buffer | undefined;
  readBody(res, 5, counts(), (b) => {
    got = b;
  });
  const lent = new Uint8Array([104, 105]);
  out.onData(lent.buffer, false);
  lent.fill(0); // uWS reuses the memory it lent
  out.onData(new Uint8Array([33]).buffer, true);
  assert.equal(got?.toString(), 'hi!');
  const big = response();
  let called = false;
  readBody(big.res, 5, counts(), () => {
    called = true;
  });
  big.out.onData(new Uint8Array(4).buffer, false);
  big.out.onData(new Uint8Array(4).buffer, true);
  assert.equal(called, false);
  assert.match(big.out.status, /^413 /);
  assert.match(big.out.body, /exceeds the 5-byte limit/);
});
