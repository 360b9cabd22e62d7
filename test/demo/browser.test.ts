/**
 * The teaching page and the exec example in real Chromium (Debian's, driven by playwright-core).
 * Chromium is installed by scripts/ensure-chromium.sh when missing; a failed install fails the
 * suite instead of skipping it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeAccept, Opcode, WebSocketServer, type WebSocketConnection } from '../../protocol/index.ts';
import type { DeflateOptions } from '../../protocol/deflate.ts';
import { launchChromium, type LaunchedChromium } from '../helpers/browser.ts';
import { startDemo, type DemoServer } from '../../demo/server.ts';
import { startExec } from '../../exec/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = `${ROOT}test-output/demo`;

let browser: LaunchedChromium;
let demo: DemoServer;
let page: Page;
const consoleErrors: string[] = [];
const outside: string[] = [];

before(async () => {
  execFileSync('sh', [`${ROOT}scripts/ensure-chromium.sh`], { stdio: 'inherit' });
  mkdirSync(OUT, { recursive: true });
  demo = await startDemo({ port: 0, heartbeatIntervalMs: 500, maxMissedPongs: 3, appHeartbeatMs: 300, appHeartbeatMaxLoss: 3, longPollTimeoutMs: 3000 });
  browser = await launchChromium({ viewport: { width: 1440, height: 900 } });
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => {
    if (!/^(http|ws):\/\/127\.0\.0\.1:\d+\//.test(r.url())) outside.push(r.url());
  });
  await page.goto(demo.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await demo?.close();
});

const stat = (pane: string, label: string) => page.locator(`#pane-${pane} dd[data-k="${label}"]`).innerText();

test('every pane receives the published messages', async () => {
  // Let the first polls and the SSE/WebSocket connections settle, then publish three messages.
  await page.waitForTimeout(500);
  for (const text of ['first', 'second', 'third']) {
    await page.fill('#publish-text', text);
    await page.click('#publish-btn');
    await page.waitForTimeout(150);
  }
  for (const pane of ['polling', 'long-polling', 'sse', 'websocket']) {
    await page.waitForFunction((p) => Number(document.querySelector(`#pane-${p} dd[data-k="messages received"]`)?.textContent) >= 3, pane, { timeout: 8000 });
    assert.match(await stat(pane, 'latency last / median'), /^\d+ ms \/ \d+ ms$/, `${pane} shows a latency`);
    assert.match(await stat(pane, 'wire bytes ↓ server→page'), /\d/, `${pane} shows bytes`);
  }
  assert.match(await page.locator('#pane-websocket .log').innerText(), /"third"/);
  // A bad publish body is a 400 with a reason, not a crash.
  const bad = await fetch(`${demo.url}publish`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /not valid JSON/);
});

test('the handshake panel works out the same Sec-WebSocket-Accept as the server', async () => {
  await page.waitForSelector('#acc-verdict.ok', { timeout: 5000 });
  const key = await page.locator('#acc-key').innerText();
  const computed = await page.locator('#acc-base64').innerText();
  const server = await page.locator('#acc-server').innerText();
  assert.equal(computed, server);
  assert.equal(computed, computeAccept(key));
  assert.match(await page.locator('#hs-request').innerText(), /Sec-WebSocket-Key: /);
  assert.match(await page.locator('#hs-response').innerText(), /^HTTP\/1\.1 101 Switching Protocols/);
});

test('the frame inspector shows a masked page frame and an unmasked server frame, fragments, ping/pong and close', async () => {
  await page.fill('#ws-text', 'echo me');
  await page.click('#ws-send');
  const masked = page.locator('.frame[data-dir="page-to-server"][data-opcode="text"][data-masked="true"]').first();
  await masked.waitFor({ timeout: 5000 });
  const f = await masked.evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  assert.match(f['key']!, /^[0-9a-f]{8}$/);
  const key = Buffer.from(f['key']!, 'hex');
  const sent = Buffer.from(f['maskedPayload']!, 'hex');
  const plain = Buffer.from(f['payload']!, 'hex');
  assert.deepEqual(Buffer.from(sent.map((b, i) => b ^ key[i % 4]!)), plain, 'masked XOR key = unmasked');
  // The pane accepts Chromium's permessage-deflate offer: the unmasked payload is compressed (RSV1) and inflates to the text.
  assert.equal(f['rsv1'], 'true');
  assert.equal(Buffer.from(f['inflated']!, 'hex').toString(), 'echo me');
  assert.notEqual(plain.toString(), 'echo me');
  assert.equal(f['fin'], 'true');
  assert.equal(f['lengthForm'], '7');

  const echo = page.locator('.frame[data-dir="server-to-page"][data-opcode="text"][data-masked="false"]', { hasText: 'echo me' }).first();
  await echo.waitFor({ timeout: 5000 });
  const e = await echo.evaluate((el) => ({ ...(el as HTMLElement).dataset }));
  assert.equal(e['key'], '');
  assert.equal(e['rsv1'], 'true');
  assert.equal(Buffer.from(e['inflated']!, 'hex').toString(), 'echo me');

  await page.click('#ws-fragment');
  await page.locator('.frame[data-dir="server-to-page"][data-opcode="text"][data-fin="false"]').first().waitFor({ timeout: 5000 });
  await page.locator('.frame[data-dir="server-to-page"][data-opcode="continuation"][data-fin="true"]').first().waitFor({ timeout: 5000 });
  await page.locator('.frame[data-dir="server-to-page"][data-opcode="ping"]').first().waitFor({ timeout: 5000 });
  await page.locator('.frame[data-dir="page-to-server"][data-opcode="pong"][data-masked="true"]').first().waitFor({ timeout: 5000 });
  await page.uncheck('#show-control');
  await page.click('#ws-send');
  await page.waitForTimeout(300);
  await page.locator('#inspector').screenshot({ path: `${OUT}/demo-inspector.png` });
  await page.locator('#handshake').screenshot({ path: `${OUT}/demo-handshake.png` });
  await page.check('#show-control');

  await page.click('#ws-close');
  await page.locator('.frame[data-dir="page-to-server"][data-opcode="close"]').first().waitFor({ timeout: 5000 });
  await page.locator('.frame[data-dir="server-to-page"][data-opcode="close"]').first().waitFor({ timeout: 5000 });
  await page.click('#ws-reconnect');
  await page.waitForFunction(() => /open \(101/.test(document.querySelector('#pane-websocket .log')?.textContent ?? ''), null, { timeout: 5000 });
});

test('permessage-deflate with Chromium: the engine negotiates it and messages round-trip both ways, with and without context takeover', async () => {
  for (const perMessageDeflate of [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true }] as DeflateOptions[]) {
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http, perMessageDeflate });
    const inRsv1: boolean[] = [];
    const outRsv1: boolean[] = [];
    const serverSide = new Promise<WebSocketConnection>((resolve) =>
      wss.on('connection', (conn: WebSocketConnection) => {
        conn.onFrame = (dir, bytes) => {
          const opcode = bytes[0]! & 0x0f;
          if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) (dir === 'in' ? inRsv1 : outRsv1).push((bytes[0]! & 0x40) !== 0);
        };
        // Echo, and greet first: the page must inflate a message the server compressed before any came in.
        conn.on('message', (data: Buffer, isBinary: boolean) => conn.send(data, { binary: isBinary }));
        conn.send(`hello ${'compressible '.repeat(40)}`);
        resolve(conn);
      }),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    try {
      const result = await page.evaluate(async (url) => {
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        const got: Array<string | number[]> = [];
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = () => reject(new Error('WebSocket error'));
        });
        const texts = ['short', 'a longer text that repeats, a longer text that repeats, a longer text that repeats', 'é ü ✓ 😀'.repeat(20), ''];
        const done = new Promise<void>((resolve) => {
          ws.onmessage = (e) => {
            got.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data as ArrayBuffer)));
            if (got.length === 1 + texts.length + 1) resolve();
          };
        });
        for (const t of texts) ws.send(t);
        ws.send(new Uint8Array(Array.from({ length: 3000 }, (_, i) => i % 7)));
        await done;
        ws.close(1000);
        return { extensions: ws.extensions, got, texts };
      }, `ws://127.0.0.1:${port}/`);
      const conn = await serverSide;
      assert.ok(conn.compressed, 'the engine agreed permessage-deflate with Chromium');
      assert.match(result.extensions, /^permessage-deflate/);
      if (perMessageDeflate.serverNoContextTakeover) assert.match(result.extensions, /server_no_context_takeover/);
      assert.match(result.got[0] as string, /^hello compressible/);
      assert.deepEqual(result.got.slice(1, 1 + result.texts.length), result.texts);
      assert.deepEqual(
        result.got.at(-1),
        Array.from({ length: 3000 }, (_, i) => i % 7),
      );
      // Chromium compressed what it sent (RSV1 on its frames) and inflated what the engine compressed.
      assert.ok(inRsv1.length >= 5 && inRsv1.some(Boolean), `frames from Chromium: RSV1 ${inRsv1.join(',')}`);
      assert.ok(outRsv1.length >= 6 && outRsv1.every(Boolean), `frames from the engine: RSV1 ${outRsv1.join(',')}`);
    } finally {
      await wss.close();
      await new Promise((r) => http.close(r));
    }
  }
});

test('a helper that stops answering pings is dropped; the page heartbeat goes offline', async () => {
  await page.waitForFunction(() => document.querySelector('#peer-state')?.textContent === 'connected', null, { timeout: 10_000 });
  await page.waitForFunction(() => /pong received/.test(document.querySelector('#peer-log')?.textContent ?? ''), null, { timeout: 5000 });
  await page.uncheck('#peer-answer');
  await page.check('#app-silent');
  await page.waitForFunction(() => document.querySelector('#peer-state')?.textContent === 'dropped by the server', null, { timeout: 8000 });
  const log = await page.locator('#peer-log').innerText();
  assert.match(log, /ignored, no pong/);
  assert.match(log, /3 pings unanswered → dropping the connection/);
  assert.match(log, /1006/);
  await page.waitForFunction(() => document.querySelector('#app-state')?.textContent === 'offline', null, { timeout: 8000 });
  assert.equal(await page.locator('#app-loss').innerText(), '3');
  await page.locator('#heartbeat').screenshot({ path: `${OUT}/demo-heartbeat.png` });
});

test('a foreign Origin is refused with 403 and a spent token with 401', async () => {
  await page.click('#origin-test');
  await page.waitForSelector('#origin-result[data-status]', { timeout: 5000 });
  assert.equal(await page.locator('#origin-result').getAttribute('data-status'), '403');
  assert.match(await page.locator('#origin-result').innerText(), /Origin: http:\/\/evil\.example/);

  await page.click('#token-test');
  await page.waitForSelector('#token-result[data-second]', { timeout: 8000 });
  assert.equal(await page.locator('#token-result').getAttribute('data-first'), '101');
  // The greeting /secure sends from its handleUpgrade callback reached the page.
  assert.match(await page.locator('#token-result').innerText(), /Server says: "token accepted/);
  assert.equal(await page.locator('#token-result').getAttribute('data-second'), '401');
  await page.locator('#security').screenshot({ path: `${OUT}/demo-security.png` });
});

test('the link selector: switched to 3G, every pane measures its latency rise by the link’s round trips', async (t) => {
  const PANES = ['polling', 'long-polling', 'sse', 'websocket'];
  const medianMs = async (pane: string) => Number(/\/ (\d+) ms/.exec(await stat(pane, 'latency last / median'))?.[1] ?? Number.NaN);
  const setPollInterval = (ms: number) =>
    page.evaluate((v) => {
      const e = document.getElementById('poll-interval') as HTMLInputElement;
      e.value = String(v);
      e.dispatchEvent(new Event('input'));
    }, ms);
  // Short polling's latency is uniform over its interval: the shortest interval and about 15
  // messages make each median steady enough to compare (loopback under 250 ms, 3G around 400).
  const measure = async (tag: string) => {
    await page.click('#reset-btn');
    await page.fill('#publish-text', tag);
    await page.selectOption('#rate', '5');
    await page.waitForTimeout(3000);
    await page.selectOption('#rate', '0');
    await page.waitForTimeout(1500);
    return Object.fromEntries(await Promise.all(PANES.map(async (p) => [p, await medianMs(p)] as const)));
  };
  await setPollInterval(250);
  const options = await page.locator('#link option').allInnerTexts();
  assert.deepEqual(options, ['loopback', '4g', '3g', 'satellite']);
  const loopback = await measure('loopback');
  await page.selectOption('#link', '3g');
  await page.waitForFunction(() => document.body.dataset['link'] === '3g');
  assert.match(await page.locator('#link-model').innerText(), /300 ms RTT/);
  // Every pane reconnects through the link: TCP and its request or upgrade, 2 to 4 round trips of 300 ms.
  await page.waitForTimeout(2500);
  const threeG = await measure('3g');
  t.diagnostic(`median latency, ms: loopback ${JSON.stringify(loopback)}, 3G ${JSON.stringify(threeG)}`);
  for (const p of PANES) {
    assert.ok(Number.isFinite(loopback[p]!) && Number.isFinite(threeG[p]!), `${p}: ${loopback[p]} ms then ${threeG[p]} ms`);
    assert.ok(threeG[p]! > loopback[p]!, `${p}: ${loopback[p]} ms on loopback, ${threeG[p]} ms on 3G`);
  }
  // SSE and WebSocket pay half the round trip, no more than the page's timing adds.
  for (const p of ['sse', 'websocket']) assert.ok(threeG[p]! >= 150 && threeG[p]! < 250, `${p} on 3G: ${threeG[p]} ms, RTT/2 = 150 ms`);
  await page.locator('header').screenshot({ path: `${OUT}/demo-link-3g.png` });
  await page.selectOption('#link', 'loopback');
  await page.waitForFunction(() => document.body.dataset['link'] === 'loopback');
  await setPollInterval(1000);
  await page.waitForTimeout(500);
});

test('the page is whole: no outside requests, no script errors, a readable screenshot', async () => {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${OUT}/demo-full.png`, fullPage: true });
  await page.screenshot({ path: `${OUT}/demo-viewport.png` });
  assert.deepEqual(outside, []);
  // The second token connection fails on purpose; the browser logs that as an error.
  assert.deepEqual(
    consoleErrors.filter((m) => !/\/secure\?token=/.test(m)),
    [],
  );
});

test('exec: count.sh delivers 1…10 to the example page, then closes with 1000', async (t) => {
  const server = await startExec({ program: `${ROOT}examples/count.sh`, port: 0, staticDir: `${ROOT}examples`, env: { COUNT_DELAY: '0.05' } });
  t.after(() => server.close());
  const p = await browser.context.newPage();
  t.after(() => p.close());
  await p.goto(`http://127.0.0.1:${server.port}/count.html`);
  await p.waitForFunction(() => /DISCONNECT/.test(document.getElementById('log')?.textContent ?? ''), null, { timeout: 10_000 });
  const log = (await p.locator('#log').innerText()).trim().split('\n');
  assert.deepEqual(log, ['CONNECT', ...Array.from({ length: 10 }, (_, i) => `MESSAGE: ${i + 1}`), 'DISCONNECT (code 1000)']);
  await p.screenshot({ path: `${OUT}/exec-count.png` });
});
