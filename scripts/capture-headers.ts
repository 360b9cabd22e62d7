/**
 * Records what Chromium sends for `fetch`, `EventSource` and the WebSocket
 * upgrade, byte for byte, and writes the header sets to
 * clients/chromium-headers.json (the `browser` profile of the HTTP clients).
 *
 *   npx tsx scripts/capture-headers.ts            # needs /usr/bin/chromium (scripts/ensure-chromium.sh)
 *
 * A raw `node:net` server on 127.0.0.1 keeps every request's bytes as they
 * arrived (no HTTP parser in between to normalise them) and serves a page
 * that makes one request of each kind.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/browser.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'clients', 'chromium-headers.json');

const PAGE = `<!doctype html><meta charset="utf-8"><title>capture</title><script>
(async () => {
  await fetch('/poll?cursor=0');
  await fetch('/send?client=page', { method: 'POST', body: 'hi', headers: { 'content-type': 'text/plain' } });
  await new Promise((resolve) => { const es = new EventSource('/events'); es.onopen = () => { es.close(); resolve(); }; es.onerror = () => { es.close(); resolve(); }; });
  await new Promise((resolve) => { const ws = new WebSocket('ws://' + location.host + '/'); ws.onopen = ws.onerror = ws.onclose = () => { ws.close(); resolve(); }; });
  document.title = 'done';
})();
</script>`;

/** One request as it arrived: its request line and its header lines, in order, as sent. */
interface Captured {
  requestLine: string;
  headers: [string, string][];
  raw: string;
}

const seen: Captured[] = [];

function answer(sock: Socket, head: string): void {
  const path = head.split(' ')[1] ?? '/';
  if (/^upgrade:\s*websocket/im.test(head)) {
    // The bytes are what we came for; refusing the upgrade ends the page's wait.
    sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  } else if (path.startsWith('/events')) {
    sock.end('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n: hi\n\n');
  } else if (path.startsWith('/send')) {
    sock.write('HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n');
  } else if (path.startsWith('/poll')) {
    sock.write('HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\n\r\n');
  } else if (path === '/app/') {
    sock.write(`HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(PAGE)}\r\n\r\n${PAGE}`);
  } else {
    sock.write('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
  }
}

const server = createServer((sock) => {
  let buf = '';
  sock.setEncoding('latin1');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
      const head = buf.slice(0, end);
      // A body (the POST's) is not part of the headers: skip it.
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + length) break;
      buf = buf.slice(end + 4 + length);
      const [requestLine = '', ...lines] = head.split('\r\n');
      seen.push({
        requestLine,
        headers: lines.map((l): [string, string] => {
          const i = l.indexOf(':');
          return [l.slice(0, i), l.slice(i + 1).trimStart()];
        }),
        raw: `${head}\r\n\r\n`,
      });
      answer(sock, head);
    }
  });
  sock.on('error', () => {});
});

await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const origin = `http://127.0.0.1:${port}`;
const browser = await launchChromium();
let version = 'unknown';
try {
  const page = await browser.context.newPage();
  await page.goto(`${origin}/app/`);
  await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 15_000 });
  version = browser.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
} finally {
  await browser.close();
  server.close();
}

const find = (pred: (c: Captured) => boolean, what: string): Captured => {
  const c = seen.find(pred);
  if (!c) throw new Error(`no ${what} request was captured (saw: ${seen.map((s) => s.requestLine).join('; ')})`);
  return c;
};
const has = (c: Captured, name: string) => c.headers.some(([k]) => k.toLowerCase() === name);

/**
 * The header set of one kind of request, without what the HTTP client adds
 * itself (Host, Connection) and with this capture's origin as a placeholder,
 * since a run's server listens elsewhere. Headless Chromium names itself
 * HeadlessChrome; a page in a window says Chrome (user agent) and Chromium
 * (client-hint brand), so that is what is kept.
 */
function profile(c: Captured, drop: string[]): [string, string][] {
  return c.headers
    .filter(([k]) => !drop.includes(k.toLowerCase()))
    .map(([k, v]): [string, string] => [
      k,
      v
        .replaceAll(origin, '{origin}')
        .replace(/HeadlessChrome\//g, 'Chrome/')
        .replace(/"HeadlessChrome"/g, '"Chromium"'),
    ]);
}

const fetchReq = find((c) => c.requestLine.startsWith('GET /poll'), 'fetch');
const postReq = find((c) => c.requestLine.startsWith('POST /send'), 'fetch POST');
const sseReq = find((c) => c.requestLine.startsWith('GET /events'), 'EventSource');
const wsReq = find((c) => has(c, 'upgrade'), 'WebSocket upgrade');
const data = {
  note: 'Request headers headless Chromium sent from a page at {origin}/app/ (scripts/capture-headers.ts); Host and Connection are left to the HTTP client, {origin} is the server the page talks to; HeadlessChrome is written as a windowed Chromium names itself. No cookies: the page had none.',
  chromium: version,
  captured: new Date().toISOString().slice(0, 10),
  fetch: profile(fetchReq, ['host', 'connection']),
  // The body's length and type are the request's own.
  fetchPost: profile(postReq, ['host', 'connection', 'content-length', 'content-type']),
  eventSource: profile(sseReq, ['host', 'connection']),
  // The upgrade's key and version are the WebSocket client's own; the rest is the page's.
  webSocket: profile(wsReq, ['host', 'connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions']),
  raw: { fetch: fetchReq.raw, fetchPost: postReq.raw, eventSource: sseReq.raw, webSocket: wsReq.raw },
};
writeFileSync(OUT, `${JSON.stringify(data, null, 2)}\n`);
console.log(`${OUT}: Chromium ${version}, ${data.fetch.length} fetch, ${data.eventSource.length} EventSource, ${data.webSocket.length} WebSocket header(s)`);
