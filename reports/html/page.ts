/// <reference lib="dom" />
/**
 * The report page's script, run in the browser: builds every chart from the
 * JSON specs in `#chart-specs`, adding what JSON cannot carry (tick and
 * tooltip callbacks, hatch patterns, labels above bars). chart.js's UMD build
 * is inlined before it and defines the global `Chart`. Type-checked with the
 * project; turned into plain JavaScript when a report is written.
 */

import type { ChartConfiguration, ChartDataset, Chart as ChartJs, Plugin, Scale, TooltipItem } from 'chart.js';

/** A chart as the report hands it over: where to draw it and its configuration. */
interface ChartSpec {
  id: string;
  /** x is −log10(1 − p/100): ticks are labelled as percentiles. */
  ninesX?: boolean;
  config: ChartConfiguration;
}

declare const Chart: typeof ChartJs;

type AnyDataset = ChartDataset & { hatch?: boolean[]; barLabels?: string[] };

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
const NINES: [number, string][] = [
  [0, '0'],
  [Math.log10(2), '50'],
  [1, '90'],
  [2, '99'],
  [3, '99.9'],
  [4, '99.99'],
  [5, '99.999'],
];

function pct(x: number): string {
  const p = 100 * (1 - 10 ** -x);
  return `${+p.toFixed(4)}%`;
}

function num(v: number): string {
  if (v >= 1) return Math.round(v).toLocaleString('en-US');
  return String(+v.toPrecision(2));
}

/** Log axes: label only 1, 2 and 5 times a power of ten, without trailing decimals. */
function logTicks(v: number | string): string {
  const x = Number(v);
  if (!(x > 0)) return '';
  const m = x / 10 ** Math.floor(Math.log10(x) + 1e-9);
  const r = Math.round(m * 1000) / 1000;
  return r === 1 || r === 2 || r === 5 ? num(x) : '';
}

/** Diagonal hatching for bars that stand for "not within the cap" (dataset.hatch[i] true). */
function hatch(color: string): CanvasPattern | string {
  const c = document.createElement('canvas');
  c.width = 10;
  c.height = 10;
  const g = c.getContext('2d');
  if (!g) return color;
  g.fillStyle = 'rgba(255,255,255,0.85)';
  g.fillRect(0, 0, 10, 10);
  g.strokeStyle = color;
  g.lineWidth = 2.5;
  g.beginPath();
  g.moveTo(-2, 12);
  g.lineTo(12, -2);
  g.moveTo(-2, 2);
  g.lineTo(2, -2);
  g.moveTo(8, 12);
  g.lineTo(12, 8);
  g.stroke();
  return g.createPattern(c, 'repeat') ?? color;
}

/** Text above bars from dataset.barLabels[i], above any line marker drawn at the same index. */
const barLabels: Plugin = {
  id: 'barLabels',
  afterDatasetsDraw(chart) {
    const g = chart.ctx;
    chart.data.datasets.forEach((ds, di) => {
      const labels = (ds as AnyDataset).barLabels;
      if (!labels) return;
      const meta = chart.getDatasetMeta(di);
      if (meta.hidden) return;
      meta.data.forEach((el, i) => {
        const t = labels[i];
        if (!t) return;
        let top = el.y;
        chart.data.datasets.forEach((_, dj) => {
          const m = chart.getDatasetMeta(dj);
          const other = m.data[i];
          if (dj !== di && !m.hidden && other && m.type === 'line') top = Math.min(top, other.y - 8);
        });
        g.save();
        g.font = `600 12px ${FONT}`;
        g.fillStyle = '#1d1f23';
        g.textAlign = 'center';
        g.textBaseline = 'bottom';
        g.fillText(t, el.x, top - 4);
        g.restore();
      });
    });
  },
};

function draw(spec: ChartSpec): void {
  const canvas = document.getElementById(spec.id);
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const cfg = spec.config;
  for (const ds of cfg.data.datasets as AnyDataset[]) {
    const marks = ds.hatch;
    if (!marks) continue;
    const colors = Array.isArray(ds.backgroundColor) ? (ds.backgroundColor as string[]) : marks.map(() => ds.backgroundColor as string);
    ds.backgroundColor = colors.map((c, i) => (marks[i] ? hatch(c) : c)) as string[];
  }
  cfg.plugins = [barLabels];
  cfg.options ??= {};
  const options = cfg.options;
  options.scales ??= {};
  const scales = options.scales as Record<string, Record<string, unknown>>;
  for (const s of Object.values(scales)) {
    if (s['type'] === 'logarithmic') s['ticks'] = { autoSkip: false, callback: logTicks, ...((s['ticks'] as object | undefined) ?? {}) };
  }
  const x = scales['x'];
  if (spec.ninesX && x) {
    x['afterBuildTicks'] = (scale: Scale) => {
      scale.ticks = NINES.filter((t) => t[0] <= scale.max + 1e-9).map((t) => ({ value: t[0] }));
    };
    x['ticks'] = {
      autoSkip: false,
      callback: (v: number | string) => NINES.find((t) => Math.abs(t[0] - Number(v)) < 1e-6)?.[1] ?? '',
    };
    options.plugins ??= {};
    options.plugins.tooltip = {
      callbacks: {
        label: (c: TooltipItem<'scatter'>) => {
          const raw = c.raw as { p?: unknown } | null;
          const p = raw && typeof raw.p === 'number' ? `${raw.p}%` : pct(c.parsed.x ?? 0);
          return `${c.dataset.label}: ${c.parsed.y} ms at ${p}`;
        },
      },
    } as never;
  }
  new Chart(canvas, cfg);
}

const specsText = document.getElementById('chart-specs')?.textContent ?? '[]';
Chart.defaults.font.family = FONT;
Chart.defaults.color = '#3a3f47';
for (const spec of JSON.parse(specsText) as ChartSpec[]) draw(spec);
