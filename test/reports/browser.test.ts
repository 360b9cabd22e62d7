/**
 * Opens the rendered fixture report in headless Chromium from file:// and
 * checks that it works offline: no console errors, no request at all, every
 * chart drawn, every scenario present. Installs Chromium first if needed; when
 * that is impossible the test fails, it does not skip.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canvasInk, checkPage, launchChromium, readPngStats } from '../helpers/browser.ts';
import type { LaunchedChromium, PageCheck } from '../helpers/browser.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { ALL_SCENARIOS, fixture, REAL_SCENARIOS } from './helpers.ts';
import type { Results } from '../../metrics/results.ts';

/** A copy whose push rows ran three trials, their p99s spread as a short trial's are. */
function withPushTrials(r: Results): Results {
  const out = structuredClone(r);
  for (const row of out.scenarios.find((s) => s.name === 'push')?.results ?? []) {
    if (row.state !== 'completed' || !row.latencyMs) continue;
    const p99 = row.latencyMs.p99;
    row.extra = { ...row.extra, trials: 3, completedTrials: 3, spread: { 'latencyMs.p99': { min: p99 * 0.61, max: p99 * 12.7 } } };
  }
  return out;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'test-output', 'report-browser');

interface Seen {
  canvases: { id: string; width: number; height: number; inked: number }[];
  sections: string[];
  charts: number;
  /** What the page opens on: the first section and first table, and the matrix as drawn. */
  matrix: {
    firstSection: string | null;
    firstTable: string | null;
    top: number;
    rows: string[];
    columns: { figure: string; marked: string[]; naTitles: string[] }[];
  };
  /** At 1,400 px: how far the page and the matrix's own box run past their width (0 when they fit). */
  fit: { pageOverflow: number; matrixOverflow: number; matrixRight: number; viewport: number };
}

/** At a laptop's 1,400 px: how far the page and its matrix run past the window (they must fit without a horizontal scroll). */
async function fit(page: import('playwright-core').Page): Promise<Seen['fit']> {
  await page.setViewportSize({ width: 1400, height: 900 });
  const f = await page.evaluate(() => {
    const de = document.documentElement;
    const table = document.querySelector('table[data-table="matrix"]');
    const box = table?.parentElement;
    return {
      pageOverflow: de.scrollWidth - de.clientWidth,
      matrixOverflow: box ? box.scrollWidth - box.clientWidth : -1,
      matrixRight: table ? table.getBoundingClientRect().right : -1,
      viewport: de.clientWidth,
    };
  });
  await page.setViewportSize({ width: 1366, height: 900 });
  return f;
}

/** What the page shows: its fit, every canvas's ink, the sections, the charts and the matrix as drawn. */
const inspect = async (page: import('playwright-core').Page): Promise<Seen> => ({
  fit: await fit(page),
  canvases: await canvasInk(page),
  sections: await page.$$eval('section.scenario', (els) => els.map((e) => e.getAttribute('data-scenario') ?? '')),
  charts: await page.evaluate(() => Object.keys((window as unknown as { Chart: { instances: object } }).Chart.instances).length),
  matrix: await page.evaluate(() => {
    const table = document.querySelector('table[data-table="matrix"]');
    const heads = [...(table?.querySelectorAll('thead th') ?? [])].slice(1).map((th) => th.getAttribute('data-figure') ?? '');
    return {
      firstSection: document.querySelector('main section')?.id ?? null,
      firstTable: document.querySelector('main table')?.getAttribute('data-table') ?? null,
      top: table ? table.getBoundingClientRect().top + window.scrollY : -1,
      rows: [...(table?.querySelectorAll('tbody tr') ?? [])].map((tr) => tr.getAttribute('data-row') ?? ''),
      columns: heads.map((figure) => {
        const cells = [...(table?.querySelectorAll(`tbody td[data-figure="${figure}"]`) ?? [])];
        return {
          figure,
          marked: cells.filter((td) => td.classList.contains('best') || td.classList.contains('tie')).map((td) => td.className),
          naTitles: cells.filter((td) => td.classList.contains('na')).map((td) => td.getAttribute('title') ?? ''),
        };
      }),
    };
  }),
});

let browser: LaunchedChromium;
let full: PageCheck<Seen>;
let allErrored: PageCheck<Seen>;
let real: PageCheck<Seen>;

before(
  async () => {
    // Fails loudly (non-zero exit, message on stderr) when chromium cannot be installed.
    execFileSync(join(root, 'scripts', 'ensure-chromium.sh'), { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
    await mkdir(outDir, { recursive: true });
    const fullPath = join(outDir, 'index.html');
    const erroredPath = join(outDir, 'all-errored.html');
    await writeFile(fullPath, renderHtml(fixture('results-full.json'), { baseline: fixture('results-baseline.json') }));
    await writeFile(erroredPath, renderHtml(fixture('results-all-errored.json')));
    const realPath = join(outDir, 'real-run.html');
    // The real run as the quick profile writes it: push's latency with its trials' range, the widest matrix cells.
    await writeFile(realPath, renderHtml(withPushTrials(fixture('results-real.json')), { baseline: fixture('results-real.json') }));
    browser = await launchChromium();
    full = await checkPage(pathToFileURL(fullPath).href, { browser, inspect, screenshotPath: join(outDir, 'screenshot.png') });
    allErrored = await checkPage(pathToFileURL(erroredPath).href, { browser, inspect });
    real = await checkPage(pathToFileURL(realPath).href, { browser, inspect, screenshotPath: join(outDir, 'real-run.png') });
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
});

describe('the HTML report in Chromium: offline and drawn', { timeout: 120_000 }, () => {
  it('logs no console error and throws nothing', () => {
    assert.deepEqual(full.consoleErrors, []);
    assert.deepEqual(full.pageErrors, []);
    assert.deepEqual(allErrored.consoleErrors, []);
    assert.deepEqual(allErrored.pageErrors, []);
    assert.deepEqual(real.consoleErrors, []);
    assert.deepEqual(real.pageErrors, []);
  });

  it('makes no network request', () => {
    assert.deepEqual(full.requests, []);
    assert.deepEqual(full.failedRequests, []);
    assert.deepEqual(allErrored.requests, []);
    assert.deepEqual(real.requests, []);
    assert.deepEqual(real.failedRequests, []);
  });

  it('draws every canvas', () => {
    for (const page of [full, real]) {
      const { canvases, charts } = page.value;
      assert.ok(canvases.length > 20, `only ${canvases.length} canvases`);
      assert.equal(charts, canvases.length, 'one Chart instance per canvas');
      for (const c of canvases) {
        assert.ok(c.width > 100 && c.height > 100, `${c.id} is ${c.width}×${c.height}`);
        // Axes, labels and data: a drawn chart inks well over 1% of its pixels.
        assert.ok(c.inked > (c.width * c.height) / 100, `${c.id} looks blank (${c.inked} inked pixels)`);
      }
    }
  });

  it('shows every scenario section', () => {
    assert.deepEqual(full.value.sections, [...ALL_SCENARIOS]);
    assert.deepEqual(allErrored.value.sections, ['push', 'echo']);
    assert.equal(allErrored.value.canvases.length, 0);
    assert.deepEqual(real.value.sections, [...REAL_SCENARIOS]);
  });
});

describe('the HTML report in Chromium: the matrix, the fit and the screenshot', { timeout: 120_000 }, () => {
  it('opens a real run on the decision matrix: one row per transport run, a best or tie in every column, n/a with its reason', () => {
    const m = real.value.matrix;
    assert.equal(m.firstSection, 'matrix', 'the first section is the matrix');
    assert.equal(m.firstTable, 'matrix', 'the first table is the matrix');
    assert.ok(m.top >= 0 && m.top < 900, `the matrix starts on the first screen (at ${m.top} px)`);
    const ran = [...new Set(fixture('results-real.json').scenarios.flatMap((s) => s.results.map((r) => r.transport)))];
    assert.deepEqual([...m.rows].sort(), [...ran].sort());
    assert.deepEqual(
      m.columns.map((c) => c.figure),
      ['matrix.latency', 'matrix.bytes-low', 'matrix.bytes-high', 'matrix.cpu', 'matrix.memory', 'matrix.dead-peer', 'matrix.fan-out'],
    );
    for (const c of m.columns) {
      assert.ok(
        c.marked.some((cls) => /\bbest\b/.test(cls)),
        `${c.figure}: a best value`,
      );
      for (const t of c.naTitles) assert.ok(t.length > 0, `${c.figure}: n/a without a reason`);
    }
    // The fixture with errored and missing rows shows n/a cells, each with its reason on hover.
    assert.ok(full.value.matrix.columns.some((c) => c.naTitles.length > 0));
    for (const c of full.value.matrix.columns) for (const t of c.naTitles) assert.ok(t.length > 0);
  });

  it('fits a 1,400 px window: no horizontal overflow, and the matrix wraps within its box, its last column in view', () => {
    for (const [name, page] of [
      ['full', full],
      ['real', real],
      ['all errored', allErrored],
    ] as const) {
      const f = page.value.fit;
      assert.equal(f.pageOverflow, 0, `${name}: the page runs ${f.pageOverflow} px past the window`);
      if (page === allErrored) continue;
      assert.ok(f.matrixOverflow === 0, `${name}: the matrix runs ${f.matrixOverflow} px past its box`);
      assert.ok(f.matrixRight > 0 && f.matrixRight <= f.viewport, `${name}: the matrix ends at ${f.matrixRight} px of ${f.viewport}`);
    }
  });

  it('saves a screenshot of the whole drawn page', async () => {
    for (const [page, name] of [
      [full, 'screenshot.png'],
      [real, 'real-run.png'],
    ] as const) {
      assert.equal(page.screenshotPath, join(outDir, name));
      const png = await readPngStats(page.screenshotPath!);
      // The viewport's width, and the full page is far taller than one screen.
      assert.equal(png.width, 1366, `${name} width`);
      assert.ok(png.height > 3 * 900, `${name} is only ${png.height} px tall`);
      // Text, charts in five colours and their anti-aliasing: many colours, and the background does not cover everything.
      assert.ok(png.colours > 200, `${name} has only ${png.colours} colours`);
      assert.ok(png.dominantShare < 0.9, `${name} is ${(png.dominantShare * 100).toFixed(1)}% one colour`);
    }
  });
});
