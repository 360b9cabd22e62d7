/**
 * Headless Chromium for the page tests (report and demo): Debian's chromium
 * driven by playwright-core, with everything that phones home switched off,
 * a checker that loads a page and records console errors and every request
 * the page makes beyond itself, and a reader that looks inside a screenshot.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

/** Where scripts/ensure-chromium.sh installs the browser. */
const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep the browser quiet and offline unless the page itself asks. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
] as const;

/** A running browser context and how to close it (also removes its profile directory). */
export interface LaunchedChromium {
  context: BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

/** Options of launchChromium. */
interface LaunchOptions {
  /** Viewport size; a laptop screen by default. */
  viewport?: { width: number; height: number };
  /** Browser executable; CHROMIUM_PATH by default. */
  executablePath?: string;
  /** Extra command-line flags. */
  args?: string[];
}

/**
 * Launches headless Chromium with a fresh temporary profile. Playwright
 * rejects `--user-data-dir` among the args, so the profile goes through
 * launchPersistentContext, which passes that same flag.
 */
export async function launchChromium(opts: LaunchOptions = {}): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'transport-lab-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: opts.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      viewport: opts.viewport ?? { width: 1366, height: 900 },
      deviceScaleFactor: 1,
    });
    return {
      context,
      userDataDir,
      async close() {
        await context.close().catch(() => {});
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}

/** What checkPage saw. */
export interface PageCheck<T> {
  /** The URL loaded. */
  url: string;
  /** `console.error` messages (and console warnings when `warningsAsErrors`). */
  consoleErrors: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Every request other than the page itself and data: URLs, as "METHOD url". */
  requests: string[];
  /** Requests that failed, as "url: reason". */
  failedRequests: string[];
  /** Where the screenshot went, when one was asked for. */
  screenshotPath?: string;
  /** What `inspect` returned. */
  value: T;
}

/** Options of checkPage. */
interface CheckPageOptions<T> {
  /** Reuse a running browser; otherwise one is launched and closed. */
  browser?: LaunchedChromium;
  /** Save a screenshot here after inspection. */
  screenshotPath?: string;
  /** Whole page (default) or only the viewport. */
  fullPage?: boolean;
  /** Runs with the loaded page before the screenshot; its result is `value`. */
  inspect?: (page: Page) => Promise<T>;
  /** Wait after load for late requests and errors, ms (default 300). */
  settleMs?: number;
  /** Navigation timeout, ms (default 20 000). */
  timeoutMs?: number;
  /** Count console warnings as errors too. */
  warningsAsErrors?: boolean;
  /** Leave the page open (the caller closes it via the browser). */
  keepOpen?: boolean;
}

function sameDocument(a: string, b: string): boolean {
  const strip = (u: string) => u.replace(/#.*$/, '');
  return strip(a) === strip(b);
}

/**
 * Loads `url` (file:// or http://) and records console errors, page errors
 * and every request beyond the page itself; optionally inspects the page and
 * saves a screenshot.
 */
export async function checkPage<T = undefined>(url: string, opts: CheckPageOptions<T> = {}): Promise<PageCheck<T>> {
  const own = opts.browser ? undefined : await launchChromium();
  const browser = opts.browser ?? own!;
  const page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  const failedRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || (opts.warningsAsErrors && m.type() === 'warning')) consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || sameDocument(u, url)) return;
    requests.push(`${r.method()} ${u}`);
  });
  page.on('requestfailed', (r) => {
    if (!r.url().startsWith('data:')) failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`);
  });
  try {
    await page.goto(url, { waitUntil: 'load', timeout: opts.timeoutMs ?? 20_000 });
    await page.waitForTimeout(opts.settleMs ?? 300);
    const value = (opts.inspect ? await opts.inspect(page) : undefined) as T;
    if (opts.screenshotPath) await page.screenshot({ path: opts.screenshotPath, fullPage: opts.fullPage ?? true });
    return { url, consoleErrors, pageErrors, requests, failedRequests, value, ...(opts.screenshotPath ? { screenshotPath: opts.screenshotPath } : {}) };
  } finally {
    if (!opts.keepOpen) await page.close().catch(() => {});
    if (own) await own.close();
  }
}

/** Counts non-transparent pixels of every `<canvas>` on the page, by id (index when it has none). */
export async function canvasInk(page: Page): Promise<{ id: string; width: number; height: number; inked: number }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('canvas')).map((c, i) => {
      const g = c.getContext('2d');
      let inked = 0;
      if (g && c.width > 0 && c.height > 0) {
        const data = g.getImageData(0, 0, c.width, c.height).data;
        for (let k = 3; k < data.length; k += 4) if (data[k]! > 0) inked++;
      }
      return { id: c.id || String(i), width: c.width, height: c.height, inked };
    }),
  );
}

/** What a screenshot holds: its size and how varied its pixels are. */
interface PngStats {
  width: number;
  height: number;
  /** Distinct RGB colours. */
  colours: number;
  /** Share (0–1) of pixels in the most common colour. */
  dominantShare: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The Paeth predictor of PNG filter type 4. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a PNG file as Chromium writes screenshots (8-bit RGB or RGBA, not
 * interlaced) and counts its colours; throws on anything else, so a file that
 * is not a real screenshot fails the test that reads it.
 */
export async function readPngStats(path: string): Promise<PngStats> {
  const buf = await readFile(path);
  if (buf.length < 33 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error(`${path}: not a PNG file`);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colourType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
      if (depth !== 8 || channels === 0 || interlace !== 0)
        throw new Error(`${path}: PNG kind not read here (depth ${depth}, colour type ${colourType}, interlace ${interlace})`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + len;
  }
  if (width === 0 || height === 0 || idat.length === 0) throw new Error(`${path}: no image data`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error(`${path}: image data too short`);
  let prev = Buffer.alloc(stride);
  const counts = new Map<number, number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const add = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : NaN;
      if (Number.isNaN(add)) throw new Error(`${path}: unknown filter ${filter} on row ${y}`);
      line[i] = (line[i]! + add) & 255;
    }
    for (let x = 0; x < stride; x += channels) {
      const rgb = (line[x]! << 16) | (line[x + 1]! << 8) | line[x + 2]!;
      counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
    }
    prev = line;
  }
  const dominant = Math.max(...counts.values());
  return { width, height, colours: counts.size, dominantShare: dominant / (width * height) };
}
