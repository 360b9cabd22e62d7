/**
 * The teaching page over HTTP/2 in real Chromium: one TLS connection (ALPN h2) for the page, its
 * polls, its event streams and its WebSockets (RFC 8441), as the DevTools protocol's Network
 * events and the server's own record show. Chromium is installed by scripts/ensure-chromium.sh
 * when missing; a failed install fails the suite instead of skipping it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../helpers/browser.ts';
import { startDemo, type DemoServer } from '../../demo/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One `Network.responseReceived` event, as far as these tests read it. */
interface Seen {
  url: string;
  type: string;
  protocol: string;
  connectionId: number;
}

let browser: LaunchedChromium;
let demo: DemoServer;
let page: Page;
let cdp: CDPSession;
const responses: Seen[] = [];
const pageErrors: string[] = [];

/** The base64 SHA-256 of a certificate's public key, as `--ignore-certificate-errors-spki-list` takes it. */
function spkiHash(certPem: string): string {
  const der = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

before(async () => {
  execFileSync('sh', [`${ROOT}scripts/ensure-chromium.sh`], { stdio: 'inherit' });
  demo = await startDemo({ port: 0, h2: true, heartbeatIntervalMs: 500, appHeartbeatMs: 300, longPollTimeoutMs: 3000 });
  assert.ok(demo.certificate, 'the h2 demo has a certificate');
  assert.match(demo.url, /^https:\/\//);
  // Chromium trusts exactly the demo's throwaway certificate (by its key), nothing else. It opens
  // WebSockets over HTTP/2 (RFC 8441) by itself when the server's SETTINGS allow: no flag for that.
  browser = await launchChromium({ args: [`--ignore-certificate-errors-spki-list=${spkiHash(demo.certificate)}`] });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The DevTools protocol's Network domain, attached before the page loads so its own response is seen.
  cdp = await browser.context.newCDPSession(page);
  cdp.on('Network.responseReceived', (e) => {
    responses.push({ url: e.response.url, type: e.type, protocol: e.response.protocol ?? '', connectionId: e.response.connectionId });
  });
  await cdp.send('Network.enable');
  await page.goto(demo.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
});

after(async () => {
  await browser?.close();
  await demo?.close();
});

test('the page, its polls and its event streams arrive over h2 on one connection', async () => {
  // Two polls of each kind and both event streams (the SSE pane's and the inspector's) must have answered.
  const wanted = (s: Seen) => new URL(s.url).pathname;
  await page.waitForFunction(() => Number(document.querySelector('#pane-polling dd[data-k="HTTP requests (page)"]')?.textContent?.split(' ')[0]) >= 2, null, {
    timeout: 8000,
  });
  await page.waitForTimeout(500);
  const byPath = (path: string) => responses.filter((s) => wanted(s) === path);
  const pageItself = byPath('/');
  const polls = byPath('/transport/polling/poll');
  const longPolls = byPath('/transport/long-polling/poll');
  const sse = byPath('/transport/sse/events');
  const inspect = byPath('/inspect');
  assert.equal(pageItself.length, 1, 'the page itself');
  assert.ok(polls.length >= 2, `polls seen: ${polls.length}`);
  assert.ok(longPolls.length >= 1, `long polls seen: ${longPolls.length}`);
  assert.equal(sse.length, 1, 'the SSE pane’s EventSource');
  assert.equal(inspect.length, 1, 'the inspector’s EventSource');
  assert.equal(sse[0]!.type, 'EventSource');
  const all = [...pageItself, ...polls, ...longPolls, ...sse, ...inspect];
  for (const s of all) assert.equal(s.protocol, 'h2', `${s.url} came over ${s.protocol}`);
  const connections = new Set(all.map((s) => s.connectionId));
  assert.equal(connections.size, 1, `connection ids: ${[...connections].join(', ')}`);
  assert.ok([...connections][0]! > 0, 'a real connection id');
  // The page shows it too: the navigation's nextHopProtocol and what each pane's requests came on.
  assert.equal(await page.locator('body').getAttribute('data-protocol'), 'h2');
  const shown = async (pane: string) => page.locator(`#pane-${pane} dd[data-k="protocol"]`).innerText();
  const polling = await shown('polling');
  assert.match(polling, /^h2, connection #\d+$/);
  for (const pane of ['long-polling', 'sse']) assert.equal(await shown(pane), polling, `${pane} shares the page's connection`);
});

test('the WebSocket pane runs over RFC 8441 on the page’s connection and exchanges messages with the engine', async () => {
  await page.waitForFunction(() => /extended CONNECT/.test(document.querySelector('#pane-websocket dd[data-k="protocol"]')?.textContent ?? ''), null, {
    timeout: 8000,
  });
  // The server's side: the pane's WebSocket arrived as an extended CONNECT stream, never as an HTTP/1.1 upgrade.
  assert.ok((demo.socketsVia.get('h2 extended CONNECT /ws') ?? 0) >= 1, JSON.stringify([...demo.socketsVia]));
  assert.equal(demo.socketsVia.get('HTTP/1.1 Upgrade /ws'), undefined);
  const polling = await page.locator('#pane-polling dd[data-k="protocol"]').innerText();
  const ws = await page.locator('#pane-websocket dd[data-k="protocol"]').innerText();
  assert.equal(ws.replace(/^.*connection /, ''), polling.replace(/^.*connection /, ''), `${ws} vs ${polling}`);
  // Chromium sends no Sec-WebSocket-Key over h2 (RFC 8441 §5); the handshake panel shows the CONNECT.
  const request = await page.locator('#hs-request').innerText();
  assert.match(request, /^:method: CONNECT$/m);
  assert.match(request, /^:protocol: websocket$/m);
  assert.doesNotMatch(request, /sec-websocket-key/i);
  assert.match(await page.locator('#hs-response').innerText(), /^:status: 200$/m);

  // Messages both ways: the page's echoed by the engine, and a publish pushed to it.
  await page.fill('#ws-text', 'over h2');
  await page.click('#ws-send');
  await page.locator('.frame[data-dir="server-to-page"][data-opcode="text"]', { hasText: 'over h2' }).first().waitFor({ timeout: 5000 });
  await page.locator('.frame[data-dir="page-to-server"][data-opcode="text"][data-masked="true"]').first().waitFor({ timeout: 5000 });
  for (const text of ['h2-one', 'h2-two']) {
    await page.fill('#publish-text', text);
    await page.click('#publish-btn');
    await page.waitForTimeout(150);
  }
  for (const pane of ['polling', 'long-polling', 'sse', 'websocket']) {
    await page.waitForFunction((p) => /"h2-two"/.test(document.querySelector(`#pane-${p} .log`)?.textContent ?? ''), pane, { timeout: 8000 });
  }
  // Its bytes are its stream's, counted on the server.
  assert.match(await page.locator('#pane-websocket dd[data-k="wire bytes ↓ server→page"]').innerText(), /^[1-9]\d* (B|KiB)$/);
});

test('the lower panels over h2: a spent token is refused with 401, the helper peer connects over TLS', async () => {
  await page.click('#token-test');
  await page.waitForSelector('#token-result[data-second]', { timeout: 8000 });
  assert.equal(await page.locator('#token-result').getAttribute('data-first'), '101');
  assert.equal(await page.locator('#token-result').getAttribute('data-second'), '401');
  assert.ok((demo.socketsVia.get('h2 extended CONNECT /secure') ?? 0) >= 2, JSON.stringify([...demo.socketsVia]));
  await page.waitForFunction(() => document.querySelector('#peer-state')?.textContent === 'connected', null, { timeout: 10_000 });
  assert.equal(demo.socketsVia.get('HTTP/1.1 Upgrade /peer'), 1, 'the helper process upgrades over TLS with HTTP/1.1');
  await page.click('#origin-test');
  await page.waitForSelector('#origin-result[data-status]', { timeout: 5000 });
  assert.equal(await page.locator('#origin-result').getAttribute('data-status'), '403');
  assert.deepEqual(pageErrors, []);
});
