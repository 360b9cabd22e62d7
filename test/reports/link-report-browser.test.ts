/**
 * A report whose rows ran over emulated links, opened in headless Chromium from file://: the
 * chart of latency against the link's RTT is drawn with a p50 and a p99 line per transport, the
 * relay's table is there, and the page logs no error. Installs Chromium first if needed; when that
 * is impossible the test fails, it does not skip.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Results, TransportResult } from '../../metrics/results.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { checkPage } from '../helpers/browser.ts';
import { fixture } from './helpers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'test-output', 'report-browser');

/** The recorded push scenario alone, each row also over 4g and 3g: latency moved by RTT/2, the relay's figures beside. */
function overLinks(): Results {
  const r = fixture('results-real.json');
  const push = r.scenarios.find((s) => s.name === 'push')!;
  const copies = (link: string, halfRtt: number, cpuPct: number): TransportResult[] =>
    push.results.map((row) => ({
      ...row,
      transport: `${row.transport}@${link}`,
      latencyMs: row.latencyMs && { ...row.latencyMs, p50: row.latencyMs.p50 + halfRtt, p99: row.latencyMs.p99 + halfRtt * 1.2 },
      percentiles: undefined,
      extra: {
        link: {
          cpuPct,
          cpuUsPerMessage: 30,
          queueUp: { chunks: 50, meanBytes: 0, peakBytes: 700 },
          queueDown: { chunks: 900, meanBytes: 12, peakBytes: 300 },
          lostSegments: 0,
        },
      },
    }));
  push.results = [...push.results, ...copies('4g', 85, 4), ...copies('3g', 150, 24)];
  return { ...r, scenarios: [push] };
}

test('the report draws latency against the link RTT, p50 and p99 per transport, and the relay table, when rows ran over links', {
  timeout: 120_000,
}, async () => {
  execFileSync(join(root, 'scripts', 'ensure-chromium.sh'), { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'links.html');
  const results = overLinks();
  await writeFile(file, renderHtml(results));
  const page = await checkPage(pathToFileURL(file).href, {
    inspect: (p) =>
      p.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('figure[data-chart="latency-rtt"] canvas');
        const g = canvas?.getContext('2d');
        let inked = 0;
        if (canvas && g) {
          const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let k = 3; k < data.length; k += 4) if (data[k]! > 0) inked++;
        }
        const charts = (
          window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: { label: string; data: unknown[] }[] } } | undefined } }
        ).Chart;
        const chart = canvas ? charts.getChart(canvas) : undefined;
        return {
          size: canvas ? [canvas.width, canvas.height] : [0, 0],
          inked,
          datasets: chart?.data.datasets.map((d) => `${d.label}:${d.data.length}`) ?? [],
          relayRows: [...document.querySelectorAll('[data-detail="link-relay"] tbody tr')].length,
          flagged: [...document.querySelectorAll('[data-detail="link-relay"] td.bad')].length,
        };
      }),
  });
  assert.deepEqual(page.consoleErrors, []);
  assert.deepEqual(page.pageErrors, []);
  const v = page.value;
  const [w, h] = v.size as [number, number];
  assert.ok(w > 100 && h > 100, `the RTT chart is ${w}×${h}`);
  assert.ok(v.inked > (w * h) / 100, `the RTT chart looks blank (${v.inked} inked pixels)`);
  const bases = results.scenarios[0]!.results.filter((r) => !r.transport.includes('@') && r.state === 'completed' && r.latencyMs).map((r) => r.transport);
  // Each transport: a p50 and a p99 line through its three links (loopback, 4g, 3g).
  assert.deepEqual(
    v.datasets,
    bases.flatMap((b) => [`${b} p50:3`, `${b} p99:3`]),
  );
  assert.equal(v.relayRows, bases.length * 2, 'one relay row per row on a link');
  assert.equal(v.flagged, bases.length, 'the 3g relay at 24 % of a core is marked above 20 %');
});
