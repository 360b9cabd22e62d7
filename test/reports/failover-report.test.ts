/**
 * The failover section of a report, from a recorded small run (test/fixtures/results-failover.json:
 * sse, websocket and websocket+resume through a crash and a graceful restart, 20 clients): one
 * timeline chart per row and failover, drawn in headless Chromium offline, with the restart
 * marked; the recovery table and the findings in the Markdown. Installs Chromium first if needed;
 * when that is impossible the test fails, it does not skip.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Results } from '../../metrics/results.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { readFailover } from '../../scenarios/failover/schema.ts';
import { canvasInk, checkPage, type LaunchedChromium, launchChromium, type PageCheck } from '../helpers/browser.ts';
import { FIXTURES } from './helpers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'test-output', 'report-failover');
const results = (): Results => JSON.parse(readFileSync(join(FIXTURES, 'results-failover.json'), 'utf8')) as Results;

/** Runs in the fixture: one timeline each. */
const RUNS = results().scenarios[0]!.results.reduce((a, r) => a + (readFailover(r.extra)?.runs.length ?? 0), 0);

interface Seen {
  canvases: { id: string; width: number; height: number; inked: number }[];
  legends: string[][];
}

describe('the failover section in Chromium', { timeout: 120_000 }, () => {
  let browser: LaunchedChromium;
  let page: PageCheck<Seen>;

  before(async () => {
    execFileSync(join(root, 'scripts', 'ensure-chromium.sh'), { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
    await mkdir(outDir, { recursive: true });
    const file = join(outDir, 'index.html');
    await writeFile(file, renderHtml(results()));
    browser = await launchChromium();
    page = await checkPage(pathToFileURL(file).href, {
      browser,
      screenshotPath: join(outDir, 'screenshot.png'),
      inspect: async (p) => ({
        canvases: await canvasInk(p),
        legends: await p.evaluate(() =>
          Object.values(
            (window as unknown as { Chart: { instances: Record<string, { config: { data: { datasets: { label: string }[] } } }> } }).Chart.instances,
          ).map((c) => c.config.data.datasets.map((d) => d.label)),
        ),
      }),
    });
  });

  after(async () => {
    await browser?.close();
  });

  it('loads offline with no error', () => {
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.pageErrors, []);
    assert.deepEqual(page.requests, []);
  });

  it('draws one timeline per row and failover, the restart marked, every canvas inked', () => {
    assert.equal(RUNS, 6, 'three rows, two failovers each');
    const timelines = page.value.legends.filter((l) => l.includes('clients connected'));
    assert.equal(timelines.length, RUNS);
    for (const l of timelines) assert.deepEqual(l, ['clients connected', 'deliveries per second', 'server goes', 'server back']);
    for (const c of page.value.canvases) {
      assert.ok(c.width > 100 && c.height > 100, `${c.id} is ${c.width}×${c.height}`);
      assert.ok(c.inked > (c.width * c.height) / 100, `${c.id} looks blank (${c.inked} inked pixels)`);
    }
  });
});

it('the Markdown report carries the recovery table, the timelines as tables and the loss finding', () => {
  const md = renderMarkdown(results());
  assert.match(md, /Recovery and loss per row and failover/);
  assert.match(md, /Timeline: websocket\+resume, crash/);
  assert.match(md, /messages lost on websocket \(/);
  assert.match(md, /recovers fastest with nothing lost — every client back in/);
});
