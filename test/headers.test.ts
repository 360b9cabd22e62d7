/**
 * The default `browser` header profile is Chromium's, byte for byte: one poll
 * of the real polling client costs exactly the request built from
 * clients/chromium-headers.json plus the server's response, and the overhead
 * scenario's bytes per message for polling (one message per poll) come to
 * that exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { chromiumHeaders, profileHeaders } from '../clients/headers.ts';
import { HttpSide } from '../clients/http-base.ts';
import { overhead } from '../scenarios/overhead/index.ts';
import type { RunContext } from '../scenarios/contract.ts';
import { readFlags, SHARED_FLAGS } from '../runner/flags.ts';
import { startServer } from './helpers.ts';
import { waitFor } from './helpers/wait.ts';

/** The request bytes of a fetch GET, as undici writes them: request line, Host, Connection, then the profile's headers in order. */
function fetchRequestBytes(path: string, host: string, origin: string): number {
  const lines = [`GET ${path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
  for (const [k, v] of chromiumHeaders().fetch) lines.push(`${k}: ${v.replaceAll('{origin}', origin)}`);
  return Buffer.byteLength(`${lines.join('\r\n')}\r\n\r\n`);
}

/** The server's response to exactly these request bytes, read on a raw socket until `done` says it is whole. */
async function responseTo(port: number, request: string, done: (b: Buffer) => boolean): Promise<Buffer> {
  const sock = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'connect');
  sock.write(request);
  await waitFor(() => done(Buffer.concat(chunks)), 'the response');
  sock.destroy();
  return Buffer.concat(chunks);
}

test('the browser profile is the captured Chromium set, with the run’s origin and no cookie', () => {
  const data = chromiumHeaders();
  assert.match(data.chromium, /^\d+\.\d+/);
  const h = profileHeaders('browser', 'fetch', 'http://127.0.0.1:8080');
  const names = Object.keys(h).map((k) => k.toLowerCase());
  for (const k of ['user-agent', 'accept', 'accept-language', 'accept-encoding', 'referer', 'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-dest', 'sec-ch-ua'])
    assert.ok(names.includes(k), k);
  assert.ok(!names.includes('cookie'));
  assert.equal(h['Referer'], 'http://127.0.0.1:8080/app/');
  assert.match(h['User-Agent']!, /Chrome\/\d+/);
  assert.doesNotMatch(h['User-Agent']!, /Headless/);
  const ws = profileHeaders('browser', 'webSocket', 'http://127.0.0.1:8080');
  assert.equal(ws['Origin'], 'http://127.0.0.1:8080');
  assert.equal(profileHeaders('browser', 'eventSource', 'http://x')['Accept'], 'text/event-stream');
  assert.deepEqual(profileHeaders('minimal', 'fetch', 'http://x'), {});
  // The raw capture holds the same lines, in the same order (the origin aside).
  const raw = data.raw.fetch.split('\r\n').slice(3, -2);
  assert.equal(raw.length, data.fetch.length);
});

test('polling, default headers: one poll costs exactly the Chromium-like request plus the server’s response', async (t) => {
  const { server, baseUrl } = await startServer(t, 'polling');
  const url = new URL(baseUrl);
  const payload = 'p'.repeat(64);
  // The polling client's own HTTP side, as every poll of it goes out.
  const http = new HttpSide({ baseUrl, clientId: 'c1', headers: 'browser', onMessage: () => {} }, 1);
  const cursor = server.hub.publish(payload).seq - 1;
  const c0 = server.counters();
  const r = await http.get(`/poll?cursor=${cursor}&client=c1`);
  await http.close();
  assert.equal(r.status, 200);
  assert.match(r.text, new RegExp(payload));
  const c1 = server.counters();
  const path = `/poll?cursor=${cursor}&client=c1`;
  const requestBytes = fetchRequestBytes(path, url.host, url.origin);
  assert.equal(c1.bytesRead - c0.bytesRead, requestBytes, 'request bytes: the header data, byte for byte');
  // The same request again from a raw socket: the server's answer to it, byte for byte.
  const headers = Object.entries(profileHeaders('browser', 'fetch', url.origin)).map(([k, v]) => `${k}: ${v}\r\n`);
  const request = `GET ${path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headers.join('')}\r\n`;
  assert.equal(Buffer.byteLength(request), requestBytes);
  const response = await responseTo(Number(url.port), request, (b) => b.includes(payload) && b.toString().endsWith('}'));
  assert.equal(c1.bytesWritten - c0.bytesWritten, response.length, 'response bytes: the server’s own');
  // A browser's poll is several hundred bytes heavier than a lean script's.
  assert.ok(requestBytes - fetchRequestBytesMinimal(path, url.host) > 400);
});

function fetchRequestBytesMinimal(path: string, host: string): number {
  return Buffer.byteLength(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\n\r\n`);
}

test('overhead scenario, polling, default headers: bytes per message match the Chromium-like exchanges byte for byte', async (t) => {
  const f = readFlags(
    { ...SHARED_FLAGS, ...overhead.flags },
    { 'overhead-clients': '1', 'overhead-rates': '1', 'overhead-sizes': '64', 'overhead-window': '4', 'poll-interval': '500' },
    'quick',
  );
  const p = overhead.params(f, 'quick');
  assert.equal(p.headers, 'browser', 'browser headers are the default');
  const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };
  const row = await overhead.run('polling', p, ctx);
  const point = ((row.extra?.['sweep'] ?? []) as { steadyBytesPerMessage: number; delivered: number; requests: number }[])[0]!;
  // The exchanges of that window rebuilt here: the request from the header data, the server's answers (one message, or none) read off a server of our own.
  const { server, baseUrl } = await startServer(t, 'polling');
  const url = new URL(baseUrl);
  const request = (cursor: number) => {
    const headers = Object.entries(profileHeaders('browser', 'fetch', url.origin)).map(([k, v]) => `${k}: ${v}\r\n`);
    return `GET /poll?cursor=${cursor}&client=s0c0 HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n${headers.join('')}\r\n`;
  };
  for (let i = 0; i < 5; i++) server.hub.publish('x'.repeat(64));
  const one = await responseTo(Number(url.port), request(4), (b) => b.toString().endsWith('}'));
  const none = await responseTo(Number(url.port), request(5), (b) => /\r\n\r\n$/.test(b.toString()));
  assert.match(none.toString(), /^HTTP\/1\.1 204/);
  // The scenario's server listened on another port: its Host, Referer and Origin lines differ by the port's digits.
  const portDigits = (n: number) => String(n).length;
  const fix = 3 * (5 - portDigits(Number(url.port)));
  const req = Buffer.byteLength(request(4)) + fix;
  const empty = point.requests - point.delivered;
  assert.ok(empty >= 0, `${point.requests} polls for ${point.delivered} messages`);
  const expected = (point.requests * req + point.delivered * one.length + empty * none.length) / point.delivered;
  // What may still differ per exchange: the digits of the cursor, the id and the next cursor, and the scenario's port (at most a byte each way).
  assert.ok(Math.abs(point.steadyBytesPerMessage - expected) <= 8, `${point.steadyBytesPerMessage} B per message, expected ${expected.toFixed(1)}`);
});
