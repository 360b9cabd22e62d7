/**
 * In a real browser: headless Chromium's own EventSource, and a page running the WebSocket
 * resume client (the protocol of servers/resume.ts written for the browser's WebSocket), survive a
 * server restart on the same port. The EventSource waits the server's `retry:` before it
 * reconnects and resumes with `Last-Event-ID`; the WebSocket page comes back with `?cursor=N`.
 * Neither loses a message published while it was away. Installs Chromium first if needed; when
 * that is impossible the test fails, it does not skip.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TransportServer } from '../../servers/contract.ts';
import { createServerFor } from '../../transports/load.ts';
import { type LaunchedChromium, launchChromium } from '../helpers/browser.ts';
import { waitFor } from '../helpers/wait.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The server's reconnection time, short so the test is quick, and unlike Chrome's own 3 s. */
const RETRY_MS = 700;

let browser: LaunchedChromium;
before(() => {
  execFileSync(join(root, 'scripts', 'ensure-chromium.sh'), { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
});
after(async () => {
  await browser?.close();
});

/** A server of `row` on `port` (0: any) whose hub first holds `history`, as a restarted server that kept its log. */
async function serverOn(row: string, port: number, history: string[]): Promise<{ server: TransportServer; port: number }> {
  const server = await createServerFor(row, { sseRetryMs: RETRY_MS });
  history.forEach((data, i) => server.hub.ingest({ seq: i + 1, data }));
  return { server, port: await server.listen(port, '127.0.0.1') };
}

/** What the page keeps: each client's messages, and the EventSource's errors and opens (ms, the page's clock). */
interface PageState {
  sse: string[];
  ws: string[];
  errors: number[];
  opens: number[];
  wsOpens: number;
}

test('Chromium: an EventSource and a WebSocket resume page survive a restart, nothing lost, the EventSource after the server’s retry', {
  timeout: 120_000,
}, async (t) => {
  browser = await launchChromium();
  let sse = await serverOn('sse', 0, []);
  let ws = await serverOn('websocket', 0, []);
  t.after(() => sse.server.close());
  t.after(() => ws.server.close());
  const page = await browser.context.newPage();
  // A page of the SSE server's origin: its EventSource is same-origin, as a site's own is.
  await page.goto(`http://127.0.0.1:${sse.port}/stats`);
  // The page's script as text: what a page would ship, untouched by the test's own compiler.
  await page.evaluate(`(() => {
    const s = { sse: [], ws: [], errors: [], opens: [], wsOpens: 0 };
    window.lab = s;
    const es = new EventSource('/events?client=page');
    es.onmessage = (e) => s.sse.push(e.data);
    es.onerror = () => s.errors.push(performance.now());
    es.onopen = () => s.opens.push(performance.now());
    // The resume client: numbered frames '<seq> <data>', back after 200 ms with the last number seen.
    let cursor;
    const open = () => {
      const sock = new WebSocket('ws://127.0.0.1:${ws.port}/?client=page&cursor=' + (cursor ?? 'now'));
      sock.onopen = () => void s.wsOpens++;
      sock.onmessage = (e) => {
        const text = String(e.data);
        const sp = text.indexOf(' ');
        if (!/^[0-9]+$/.test(text.slice(0, sp))) return;
        cursor = Number(text.slice(0, sp));
        s.ws.push(text.slice(sp + 1));
      };
      sock.onclose = () => setTimeout(open, 200);
    };
    open();
  })()`);
  const state = () => page.evaluate(() => (window as unknown as { lab: PageState }).lab);
  await waitFor(() => sse.server.counters().subscribers === 1 && ws.server.counters().subscribers === 1, 'both page clients subscribed');
  for (const m of ['a', 'b']) {
    sse.server.hub.publish(m);
    ws.server.hub.publish(m);
  }
  const until = async (cond: (s: PageState) => boolean, what: string) => {
    const end = Date.now() + 15_000;
    for (;;) {
      const s = await state();
      if (cond(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await until((s) => s.sse.length === 2 && s.ws.length === 2, 'a and b');
  // The restart: both servers say goodbye; their successors keep the history and publish c before the clients are back.
  await sse.server.close();
  await ws.server.close();
  sse = await serverOn('sse', sse.port, ['a', 'b']);
  ws = await serverOn('websocket', ws.port, ['a', 'b']);
  sse.server.hub.publish('c');
  ws.server.hub.publish('c');
  const back = await until((s) => s.opens.length === 2 && s.wsOpens === 2, 'both clients back');
  sse.server.hub.publish('d');
  ws.server.hub.publish('d');
  const done = await until((s) => s.sse.length >= 4 && s.ws.length >= 4, 'c and d');
  await new Promise((r) => setTimeout(r, 200));
  const final = await state();
  assert.deepEqual(final.sse, ['a', 'b', 'c', 'd'], 'the EventSource resumed with Last-Event-ID: nothing lost, nothing twice');
  assert.deepEqual(final.ws, ['a', 'b', 'c', 'd'], 'the WebSocket page resumed by cursor: nothing lost, nothing twice');
  // WHATWG HTML §9.2.3: on a dropped stream the user agent waits the reconnection time (the server's retry:) and tries again.
  const delay = back.opens[1]! - back.errors[0]!;
  assert.ok(delay >= RETRY_MS * 0.9 && delay < RETRY_MS + 1500, `the EventSource came back ${Math.round(delay)} ms after the drop; retry: ${RETRY_MS}`);
  assert.equal(done.errors.length, 1, 'one drop, no failed attempt: the server was back within the retry');
});
