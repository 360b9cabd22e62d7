/**
 * results.json → one self-contained index.html. chart.js's UMD build, the
 * styles, the chart data and the glue script are all inline, so the page opens
 * from disk with no network at all. Every chart has its numbers in a
 * collapsed table underneath, so nothing is only a picture.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RESULTS_VERSION } from '../metrics/results.ts';
import type { Results, ScenarioResult, TransportResult } from '../metrics/results.ts';
import {
  readConnectionsSteps,
  readCrossovers,
  readDeadPeer,
  readEchoMode,
  readFanOutCapacity,
  readFanOutSteps,
  readHttpSaturation,
  readOverheadSweep,
  readSaturationVariants,
  readThroughputExtra,
} from './extras.ts';
import { scenarioDetails } from './details.ts';
import type { DetailBlock } from './details.ts';
import type { OverheadSweepPoint } from './extras.ts';
import {
  bytesPerMessage,
  compareResults,
  computeFindings,
  deadPeerOutcome,
  fmtBytes,
  fmtDuration,
  isFailed,
  isNotApplicable,
  isRoundTrip,
  notApplicableReason,
  rampFanOut,
  variantName,
  fmtDeltaPct,
  fmtFixed,
  fmtInt,
  fmtMiB,
  fmtNum,
  fmtSig,
  loadInWords,
  orderedRows,
  payloadPerMessage,
  simpleParams,
  summaryCell,
  summaryColumns,
  transportColor,
  verdictMark,
} from './figures.ts';
import type { Comparison, ComparisonRow } from './figures.ts';
import { transportDash } from '../report-model/charts.ts';
import { transports } from '../transports/index.ts';

/** Options of renderHtml. */
export interface HtmlOptions {
  /** An earlier run to compare against. */
  baseline?: Results;
}

// ---------------------------------------------------------------------------
// Escaping and inlining.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * Makes JavaScript safe inside a `<script>` element: `</script` would end the
 * element and `<!--` can switch the HTML tokenizer into its escaped states. In
 * both, a backslash before the slash or bang means the same thing to JS.
 */
export function escapeScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a `<script type="application/json">`: no `<`, and no line separators. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

let chartJsCache: string | undefined;

/** chart.js's UMD build, read from node_modules (the package does not export the path, so go via its main file). */
export function chartJsSource(): string {
  if (chartJsCache === undefined) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('chart.js'); // …/chart.js/dist/chart.cjs
    chartJsCache = readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
  }
  return chartJsCache;
}

// ---------------------------------------------------------------------------
// Chart specs: plain JSON handed to the page script, which adds the few callbacks.

interface XY {
  x: number;
  y: number;
  /** Percentile, on nines charts, for the tooltip. */
  p?: number;
}

interface Dataset {
  label: string;
  data: (number | null)[] | XY[];
  [k: string]: unknown;
}

interface ChartSpec {
  id: string;
  /** x is -log10(1 - p/100); the page labels ticks as percentiles. */
  ninesX?: boolean;
  config: { type: 'bar' | 'scatter'; data: { labels?: string[]; datasets: Dataset[] }; options: Record<string, unknown> };
}

interface Table {
  head: string[];
  rows: string[][];
}

interface Ctx {
  specs: ChartSpec[];
}

const GREY = '#8a8f98';
const LOST = '#D55E00';

function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function useLog(values: readonly number[]): boolean {
  const pos = values.filter((v) => v > 0);
  if (pos.length !== values.length || pos.length < 2) return false;
  return Math.max(...pos) / Math.min(...pos) >= 30;
}

function axis(title: string, log: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: log ? 'logarithmic' : 'linear', title: { display: true, text: title }, ...(log ? {} : { beginAtZero: true }), ...extra };
}

function baseOptions(scales: Record<string, unknown>, legend = true): Record<string, unknown> {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { display: legend, position: 'bottom', labels: { boxWidth: 14 } } },
    scales,
  };
}

function lineDataset(label: string, color: string, data: XY[], dash: number[] = [], extra: Record<string, unknown> = {}): Dataset {
  return {
    label,
    data,
    showLine: true,
    borderColor: color,
    backgroundColor: color,
    borderDash: dash,
    borderWidth: 2,
    pointRadius: 2.5,
    tension: 0,
    ...extra,
  };
}

function transportLine(row: TransportResult, data: XY[], label: string = row.transport, extra: Record<string, unknown> = {}): Dataset {
  const dash = transportDash(row.transport);
  return lineDataset(label, transportColor(row.transport), data, dash, extra);
}

/** A bar chart with one bar per transport. */
function transportBars(rows: TransportResult[], values: number[], yTitle: string): ChartSpec['config'] {
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.transport),
      datasets: [{ label: yTitle, data: values, backgroundColor: rows.map((r) => transportColor(r.transport)), borderWidth: 0 }],
    },
    options: baseOptions({ x: { title: { display: false } }, y: axis(yTitle, useLog(values)) }, false),
  };
}

// ---------------------------------------------------------------------------
// HTML pieces.

function tableHtml(t: Table, cls = 'num'): string {
  const head = t.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function chartFigure(ctx: Ctx, kind: string, title: string, caption: string, config: ChartSpec['config'], table: Table, opts: { ninesX?: boolean; wide?: boolean } = {}): string {
  const id = `chart-${ctx.specs.length + 1}`;
  ctx.specs.push({ id, config, ...(opts.ninesX ? { ninesX: true } : {}) });
  return `<figure class="chart${opts.wide ? ' wide' : ''}" data-chart="${escapeHtml(kind)}">
<h3>${escapeHtml(title)}</h3>
<div class="canvas-box"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div>
<figcaption>${escapeHtml(caption)}</figcaption>
<details><summary>Numbers</summary>${tableHtml(table)}</details>
</figure>`;
}

function completed(rows: TransportResult[]): TransportResult[] {
  return rows.filter((r) => r.state === 'completed');
}

/** Rows that have a value for `get`, with the value. */
function withValue(rows: TransportResult[], get: (r: TransportResult) => number | undefined): { rows: TransportResult[]; values: number[] } {
  const out: { rows: TransportResult[]; values: number[] } = { rows: [], values: [] };
  for (const r of completed(rows)) {
    const v = get(r);
    if (v !== undefined && Number.isFinite(v)) {
      out.rows.push(r);
      out.values.push(v);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Charts that fit any scenario.

const nines = (p: number): number => -Math.log10(1 - p / 100);

function latencyCharts(ctx: Ctx, rows: TransportResult[], roundTrip: boolean): string {
  const what = roundTrip ? 'Round-trip latency' : 'Delivery latency';
  const curveRows = completed(rows).filter((r) => (r.percentiles?.length ?? 0) > 1);
  if (curveRows.length > 0) {
    const datasets: Dataset[] = [];
    let maxX = 2;
    const allY: number[] = [];
    for (const r of curveRows) {
      const pts: XY[] = (r.percentiles ?? [])
        .filter((p) => p.percentile >= 0 && p.percentile < 100 && Number.isFinite(p.valueMs))
        .map((p) => ({ x: nines(p.percentile), y: p.valueMs, p: p.percentile }));
      for (const p of pts) {
        maxX = Math.max(maxX, p.x);
        allY.push(p.y);
      }
      datasets.push(transportLine(r, pts, r.transport, { pointRadius: 1.5 }));
    }
    const xMax = Math.min(5, Math.max(4, Math.ceil(maxX - 1e-9)));
    const logY = allY.length > 1 && allY.every((y) => y > 0) && Math.max(...allY) / Math.min(...allY) >= 20;
    const table: Table = {
      head: ['transport', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms', 'count'],
      rows: completed(rows)
        .filter((r) => r.latencyMs)
        .map((r) => {
          const l = r.latencyMs!;
          return [r.transport, fmtSig(l.p50), fmtSig(l.p90), fmtSig(l.p99), fmtSig(l.p999), fmtSig(l.max), fmtSig(l.mean), fmtInt(l.count)];
        }),
    };
    const config: ChartSpec['config'] = {
      type: 'scatter',
      data: { datasets },
      options: baseOptions({
        x: { type: 'linear', min: 0, max: xMax, title: { display: true, text: 'percentile' } },
        y: axis(`${roundTrip ? 'round trip' : 'latency'}, ms${logY ? ' (log)' : ''}`, logY),
      }),
    };
    const fig = chartFigure(
      ctx,
      'latency-curve',
      `${what} by percentile`,
      'HdrHistogram-style: each step right is one more nine (50, 90, 99, 99.9, 99.99). Corrected for coordinated omission: measured from the intended send time.',
      config,
      table,
      { ninesX: true },
    );
    return fig;
  }
  const lat = withValue(rows, (r) => r.latencyMs?.p50);
  if (lat.rows.length === 0) return '';
  const p50 = lat.rows.map((r) => r.latencyMs!.p50);
  const p99 = lat.rows.map((r) => r.latencyMs!.p99);
  const config: ChartSpec['config'] = {
    type: 'bar',
    data: {
      labels: lat.rows.map((r) => r.transport),
      datasets: [
        { label: 'p50', data: p50, backgroundColor: lat.rows.map((r) => alpha(transportColor(r.transport), 0.45)), borderColor: lat.rows.map((r) => transportColor(r.transport)), borderWidth: 1 },
        { label: 'p99', data: p99, backgroundColor: lat.rows.map((r) => transportColor(r.transport)), borderWidth: 0 },
      ],
    },
    options: baseOptions({ y: axis('ms', useLog([...p50, ...p99])) }),
  };
  return chartFigure(ctx, 'latency-bars', `${what}: p50 (light) and p99 (solid)`, 'No percentile curve in this run, so the two summary points.', config, {
    head: ['transport', 'p50 ms', 'p99 ms'],
    rows: lat.rows.map((r, i) => [r.transport, fmtSig(p50[i]!), fmtSig(p99[i]!)]),
  });
}

function throughputChart(ctx: Ctx, rows: TransportResult[]): string {
  const t = withValue(rows, (r) => r.throughput?.messagesPerSec);
  if (t.rows.length === 0) return '';
  return chartFigure(ctx, 'throughput', 'Delivered messages per second', 'Messages received by the load clients per second of the measured phase.', transportBars(t.rows, t.values, 'msgs/s'), {
    head: ['transport', 'msgs/s', 'payload MiB/s'],
    rows: t.rows.map((r, i) => [r.transport, fmtSig(t.values[i]!), r.throughput ? fmtSig(r.throughput.payloadBytesPerSec / 1048576) : '–']),
  });
}

function bytesChart(ctx: Ctx, rows: TransportResult[]): string {
  const b = withValue(rows, (r) => (payloadPerMessage(r) !== undefined && r.wire ? r.wire.overheadBytesPerMessage : undefined));
  if (b.rows.length === 0) return '';
  const payload = b.rows.map((r) => payloadPerMessage(r)!);
  const config: ChartSpec['config'] = {
    type: 'bar',
    data: {
      labels: b.rows.map((r) => r.transport),
      datasets: [
        { label: 'payload', data: payload, backgroundColor: alpha(GREY, 0.55), borderWidth: 0 },
        { label: 'overhead (headers, framing, empty polls)', data: b.values, backgroundColor: b.rows.map((r) => transportColor(r.transport)), borderWidth: 0 },
      ],
    },
    options: baseOptions({ x: { stacked: true }, y: { ...axis('bytes per delivered message', false), stacked: true } }),
  };
  return chartFigure(ctx, 'bytes-per-message', 'Bytes on the wire per delivered message', 'Counted at the server socket, both directions. Grey: payload; coloured: everything else.', config, {
    head: ['transport', 'payload B/msg', 'overhead B/msg', 'total B/msg', 'requests'],
    rows: b.rows.map((r, i) => [r.transport, fmtSig(payload[i]!), fmtSig(b.values[i]!), fmtSig(bytesPerMessage(r) ?? payload[i]! + b.values[i]!), r.wire ? fmtInt(r.wire.requests) : '–']),
  });
}

function messagesChart(ctx: Ctx, rows: TransportResult[]): string {
  const m = withValue(rows, (r) => r.messages?.sent);
  if (m.rows.length === 0) return '';
  const sent = m.rows.map((r) => r.messages!.sent);
  const delivered = m.rows.map((r) => r.messages!.delivered);
  const lost = m.rows.map((r) => r.messages!.lost);
  const config: ChartSpec['config'] = {
    type: 'bar',
    data: {
      labels: m.rows.map((r) => r.transport),
      datasets: [
        { label: 'sent (owed)', data: sent, backgroundColor: alpha(GREY, 0.55), borderWidth: 0, yAxisID: 'y' },
        { label: 'delivered', data: delivered, backgroundColor: m.rows.map((r) => transportColor(r.transport)), borderWidth: 0, yAxisID: 'y' },
        { label: 'lost (right axis)', data: lost, backgroundColor: LOST, borderWidth: 0, yAxisID: 'y2' },
      ],
    },
    options: baseOptions({
      y: axis('messages', false),
      y2: { ...axis('lost', false), position: 'right', grid: { drawOnChartArea: false }, suggestedMax: 1 },
    }),
  };
  return chartFigure(ctx, 'messages', 'Messages sent, delivered and lost', 'Lost is on its own axis (right) so a handful of losses stays visible.', config, {
    head: ['transport', 'sent', 'delivered', 'lost', 'duplicates'],
    rows: m.rows.map((r, i) => [r.transport, fmtInt(sent[i]!), fmtInt(delivered[i]!), fmtInt(lost[i]!), fmtInt(r.messages!.duplicates ?? 0)]),
  });
}

function serverCharts(ctx: Ctx, rows: TransportResult[]): string {
  let out = '';
  const cpu = withValue(rows, (r) => r.server?.cpuMs);
  if (cpu.rows.length > 0) {
    out += chartFigure(ctx, 'server-cpu', 'Server CPU time', 'User + system CPU of the server process over the measured phase.', transportBars(cpu.rows, cpu.values, 'CPU ms'), {
      head: ['transport', 'CPU ms', 'CPU % of a core'],
      rows: cpu.rows.map((r, i) => [r.transport, fmtInt(cpu.values[i]!), r.server?.cpuPct !== undefined ? fmtFixed(r.server.cpuPct, 1) : '–']),
    });
  }
  const rss = withValue(rows, (r) => r.server?.rssMaxBytes);
  if (rss.rows.length > 0) {
    const mib = rss.values.map((v) => v / 1048576);
    out += chartFigure(ctx, 'server-rss', 'Server peak RSS', 'Largest resident set size of the server process sampled during the run.', transportBars(rss.rows, mib, 'MiB'), {
      head: ['transport', 'peak RSS MiB'],
      rows: rss.rows.map((r, i) => [r.transport, fmtMiB(rss.values[i]!)]),
    });
  }
  return out;
}

function seriesCharts(ctx: Ctx, rows: TransportResult[]): string {
  const withSeries = completed(rows).filter((r) => (r.series?.length ?? 0) > 0);
  if (withSeries.length === 0) return '';
  const fields = [
    { key: 'deliveredPerSec', kind: 'series-delivered', title: 'Delivered per second over time', y: 'msgs/s', fmt: fmtSig, scale: 1 },
    { key: 'serverCpuPct', kind: 'series-cpu', title: 'Server CPU over time', y: '% of one core', fmt: (v: number) => fmtFixed(v, 1), scale: 1 },
    { key: 'serverRssBytes', kind: 'series-rss', title: 'Server RSS over time', y: 'MiB', fmt: (v: number) => fmtFixed(v, 1), scale: 1 / 1048576 },
  ] as const;
  let out = '';
  for (const f of fields) {
    const datasets: Dataset[] = [];
    const ts = new Set<number>();
    const byRow = new Map<string, Map<number, number>>();
    for (const r of withSeries) {
      const pts: XY[] = [];
      const m = new Map<number, number>();
      for (const p of r.series ?? []) {
        const v = p[f.key];
        if (v === undefined || !Number.isFinite(v) || !Number.isFinite(p.t)) continue;
        pts.push({ x: p.t, y: v * f.scale });
        m.set(p.t, v * f.scale);
        ts.add(p.t);
      }
      if (pts.length > 0) {
        datasets.push(transportLine(r, pts, r.transport, { pointRadius: 0 }));
        byRow.set(r.transport, m);
      }
    }
    if (datasets.length === 0) continue;
    const names = [...byRow.keys()];
    const times = [...ts].sort((a, b) => a - b);
    const config: ChartSpec['config'] = {
      type: 'scatter',
      data: { datasets },
      options: baseOptions({ x: { type: 'linear', title: { display: true, text: 'seconds into the measured phase' } }, y: axis(f.y, false) }),
    };
    out += chartFigure(ctx, f.kind, f.title, 'Sampled once per interval during the run.', config, {
      head: ['t (s)', ...names],
      rows: times.map((t) => [fmtNum(t), ...names.map((n) => {
        const v = byRow.get(n)?.get(t);
        return v === undefined ? '–' : f.fmt(v);
      })]),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Scenario-specific charts, from `extra` and scenario params.

function fanOutCharts(ctx: Ctx, s: ScenarioResult, rows: TransportResult[]): string {
  const withSteps = completed(rows)
    .map((r) => ({ r, steps: readFanOutSteps(r.extra) }))
    .filter((x): x is { r: TransportResult; steps: NonNullable<ReturnType<typeof readFanOutSteps>> } => x.steps !== undefined);
  const cap = readFanOutCapacity(s.params);
  let out = '';
  if (withSteps.length > 0) {
    const datasets: Dataset[] = [];
    const ns: number[] = [];
    const ys: number[] = [];
    for (const { r, steps } of withSteps) {
      datasets.push(transportLine(r, steps.map((st) => ({ x: st.n, y: st.p99 })), `${r.transport} p99`, { borderDash: [] }));
      datasets.push(transportLine(r, steps.map((st) => ({ x: st.n, y: st.p50 })), `${r.transport} p50`, { borderDash: [3, 3], borderWidth: 1.5, pointStyle: 'triangle' }));
      for (const st of steps) {
        ns.push(st.n);
        ys.push(st.p50, st.p99);
      }
    }
    if (cap && ns.length > 0) {
      datasets.push(lineDataset(`p99 limit ${fmtSig(cap.limitMs)} ms`, '#444444', [{ x: Math.min(...ns), y: cap.limitMs }, { x: Math.max(...ns), y: cap.limitMs }], [6, 4], { pointRadius: 0, borderWidth: 1 }));
      ys.push(cap.limitMs);
    }
    const config: ChartSpec['config'] = {
      type: 'scatter',
      data: { datasets },
      options: baseOptions({ x: axis('subscribers N', useLog(ns)), y: axis('latency, ms', useLog(ys)) }),
    };
    out += chartFigure(ctx, 'fan-out-steps', 'Latency as subscribers grow', 'Solid: p99; dashed: p50. Each message goes to every subscriber.', config, {
      head: ['transport', 'N', 'p50 ms', 'p99 ms', 'delivered', 'lost'],
      rows: withSteps.flatMap(({ r, steps }) => steps.map((st) => [r.transport, fmtInt(st.n), fmtSig(st.p50), fmtSig(st.p99), fmtInt(st.delivered), fmtInt(st.lost)])),
    }, { wide: true });
  }
  return out;
}

/** y of a sweep line at rate x, interpolated on log–log axes; undefined outside the line. */
function sweepAt(points: OverheadSweepPoint[], x: number): number | undefined {
  const pts = [...points].sort((a, b) => a.ratePerClient - b.ratePerClient);
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    if (x < a.ratePerClient || x > b.ratePerClient) continue;
    if (a.ratePerClient <= 0 || b.ratePerClient <= 0 || a.bytesPerMessage <= 0 || b.bytesPerMessage <= 0 || a.ratePerClient === b.ratePerClient) return a.bytesPerMessage;
    const f = Math.log(x / a.ratePerClient) / Math.log(b.ratePerClient / a.ratePerClient);
    return Math.exp(Math.log(a.bytesPerMessage) + f * Math.log(b.bytesPerMessage / a.bytesPerMessage));
  }
  return pts.length === 1 && pts[0]!.ratePerClient === x ? pts[0]!.bytesPerMessage : undefined;
}

function overheadCharts(ctx: Ctx, s: ScenarioResult, rows: TransportResult[]): string {
  const sweeps = completed(rows)
    .map((r) => ({ r, sweep: readOverheadSweep(r.extra) }))
    .filter((x): x is { r: TransportResult; sweep: OverheadSweepPoint[] } => x.sweep !== undefined);
  const crossovers = readCrossovers(s.params) ?? [];
  let out = '';
  const sizes = [...new Set(sweeps.flatMap((x) => x.sweep.map((p) => p.sizeBytes)))].sort((a, b) => a - b);
  for (const size of sizes) {
    const datasets: Dataset[] = [];
    const xs: number[] = [];
    const ys: number[] = [];
    const lines = new Map<string, OverheadSweepPoint[]>();
    for (const { r, sweep } of sweeps) {
      const pts = sweep.filter((p) => p.sizeBytes === size).sort((a, b) => a.ratePerClient - b.ratePerClient);
      if (pts.length === 0) continue;
      lines.set(r.transport, pts);
      // Overhead, not all bytes: at one payload size the payload is the same for every transport,
      // so the lines cross where the totals do, and a large payload no longer flattens them.
      datasets.push(transportLine(r, pts.map((p) => ({ x: p.ratePerClient, y: p.overheadBytesPerMessage }))));
      for (const p of pts) {
        xs.push(p.ratePerClient);
        ys.push(p.overheadBytesPerMessage);
      }
    }
    const marks: XY[] = [];
    const markRows: string[][] = [];
    for (const c of crossovers.filter((c) => c.sizeBytes === size)) {
      const overheadLine = (t: string) => (lines.get(t) ?? []).map((p) => ({ ...p, bytesPerMessage: p.overheadBytesPerMessage }));
      const y = sweepAt(overheadLine(c.a), c.ratePerClient) ?? sweepAt(overheadLine(c.b), c.ratePerClient);
      if (y !== undefined) marks.push({ x: c.ratePerClient, y });
      markRows.push([c.cheaperBelow ? `${c.cheaperBelow} = ${c.cheaperBelow === c.a ? c.b : c.a}` : `${c.a} = ${c.b}`, fmtSig(c.ratePerClient), y !== undefined ? fmtSig(y) : '–']);
    }
    if (marks.length > 0) {
      datasets.push({ label: 'crossover', data: marks, showLine: false, pointStyle: 'crossRot', pointRadius: 9, pointBorderWidth: 3, borderColor: '#222222', backgroundColor: '#222222' });
    }
    const config: ChartSpec['config'] = {
      type: 'scatter',
      data: { datasets },
      options: baseOptions({ x: axis('messages per second per client', useLog(xs)), y: axis(`overhead bytes per delivered message${useLog(ys) ? ' (log)' : ''}`, useLog(ys)) }),
    };
    const names = [...lines.keys()];
    const table: Table = {
      head: ['transport', 'msg/s per client', 'B/msg', 'overhead B/msg', 'steady B/msg', 'set-up B/client'],
      rows: names.flatMap((n) =>
        (lines.get(n) ?? []).map((p) => [
          n,
          fmtNum(p.ratePerClient),
          fmtSig(p.bytesPerMessage),
          fmtSig(p.overheadBytesPerMessage),
          p.steadyBytesPerMessage !== undefined ? fmtSig(p.steadyBytesPerMessage) : '–',
          p.setupBytesPerClient !== undefined ? fmtSig(p.setupBytesPerClient) : '–',
        ]),
      ),
    };
    let fig = chartFigure(
      ctx,
      'overhead-sweep',
      `Overhead per message vs rate, ${fmtInt(size)} B payload`,
      `Wire bytes per delivered message beyond the ${fmtInt(size)} B payload (headers, framing, empty polls), set-up amortised over the session; totals, steady state and set-up apart in the numbers. Lower is cheaper. ✕ marks where two transports cost the same.`,
      config,
      table,
    );
    if (markRows.length > 0) {
      fig = fig.replace('</details>', `</details><details><summary>Crossovers</summary>${tableHtml({ head: ['cheaper below = cheaper above', 'msg/s per client', 'overhead B/msg there'], rows: markRows })}</details>`);
    }
    out += fig;
  }
  return out;
}

function connectionsCharts(ctx: Ctx, rows: TransportResult[]): string {
  const withSteps = completed(rows)
    .map((r) => ({ r, steps: readConnectionsSteps(r.extra) }))
    .filter((x): x is { r: TransportResult; steps: NonNullable<ReturnType<typeof readConnectionsSteps>> } => x.steps !== undefined);
  if (withSteps.length === 0) return '';
  const table: Table = {
    head: ['transport', 'connections', 'RSS/conn KiB', 'heap/conn KiB', 'RSS MiB', 'heap MiB', 'CPU %'],
    rows: withSteps.flatMap(({ r, steps }) =>
      steps.map((s) => [r.transport, fmtInt(s.connections), fmtSig(s.rssPerConnBytes / 1024), s.heapPerConnBytes !== undefined ? fmtSig(s.heapPerConnBytes / 1024) : '–', fmtMiB(s.rssBytes), fmtMiB(s.heapBytes), fmtFixed(s.cpuPct, 1)]),
    ),
  };
  const counts = [...new Set(withSteps.flatMap((x) => x.steps.map((s) => s.connections)))];
  if (counts.length === 1) {
    // One step: bars per transport read better than one-point lines.
    const n = counts[0]!;
    const labels = withSteps.map((x) => x.r.transport);
    const at = withSteps.map((x) => x.steps[0]!);
    const colors = withSteps.map((x) => transportColor(x.r.transport));
    const memory: ChartSpec['config'] = {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'RSS per connection', data: at.map((s) => s.rssPerConnBytes / 1024), backgroundColor: colors, borderWidth: 0 },
          { label: 'V8 heap per connection', data: at.map((s) => (s.heapPerConnBytes ?? 0) / 1024), backgroundColor: colors.map((c) => alpha(c, 0.4)), borderColor: colors, borderWidth: 1 },
        ],
      },
      options: baseOptions({ y: axis('KiB per connection', false) }),
    };
    const cpu: ChartSpec['config'] = transportBars(withSteps.map((x) => x.r), at.map((s) => s.cpuPct), '% of one core');
    return (
      chartFigure(ctx, 'connections-per-conn', `Memory per idle connection at ${fmtInt(n)}`, 'Solid: server RSS above the empty server, per connection; light: V8 heap per connection (after a gc).', memory, table) +
      chartFigure(ctx, 'connections-cpu', `Server CPU holding ${fmtInt(n)} idle connections`, 'Heartbeats, held polls and short polls at their interval: what idle costs.', cpu, {
        head: ['transport', 'CPU %', 'polls/s'],
        rows: withSteps.map((x) => [x.r.transport, fmtFixed(x.steps[0]!.cpuPct, 1), x.steps[0]!.requestsPerSec !== undefined ? fmtSig(x.steps[0]!.requestsPerSec) : '–']),
      })
    );
  }
  const xs = withSteps.flatMap((x) => x.steps.map((s) => s.connections));
  const perConn: Dataset[] = withSteps.map(({ r, steps }) => transportLine(r, steps.map((s) => ({ x: s.connections, y: s.rssPerConnBytes / 1024 }))));
  const total: Dataset[] = withSteps.map(({ r, steps }) => transportLine(r, steps.map((s) => ({ x: s.connections, y: s.rssBytes / 1048576 }))));
  const cpuLines: Dataset[] = withSteps.map(({ r, steps }) => transportLine(r, steps.map((s) => ({ x: s.connections, y: s.cpuPct }))));
  const x = axis('open connections', useLog(xs));
  return (
    chartFigure(ctx, 'connections-per-conn', 'Memory per idle connection', 'Server RSS above the empty baseline, divided by the connections held.', {
      type: 'scatter',
      data: { datasets: perConn },
      options: baseOptions({ x, y: axis('KiB per connection', false) }),
    }, table) +
    chartFigure(ctx, 'connections-rss', 'Server RSS as connections grow', 'Total resident memory of the server process.', {
      type: 'scatter',
      data: { datasets: total },
      options: baseOptions({ x, y: axis('RSS, MiB', false) }),
    }, table) +
    chartFigure(ctx, 'connections-cpu', 'Server CPU while the connections sit idle', 'Heartbeats, held polls and short polls at their interval.', {
      type: 'scatter',
      data: { datasets: cpuLines },
      options: baseOptions({ x, y: axis('% of one core', false) }),
    }, table)
  );
}

function throughputExtraCharts(ctx: Ctx, s: ScenarioResult, rows: TransportResult[]): string {
  const fanned = rampFanOut(s);
  let out = '';
  const ramps = completed(rows)
    .map((r) => ({ r, th: readThroughputExtra(r.extra) }))
    .filter((x) => (x.th?.steps?.length ?? 0) > 0);
  if (ramps.length > 0) {
    const datasets: Dataset[] = [];
    const all: number[] = [];
    const failed: XY[] = [];
    const failedRows: string[][] = [];
    for (const { r, th } of ramps) {
      const steps = th!.steps!;
      datasets.push(transportLine(r, steps.map((st) => ({ x: st.rate * fanned, y: st.deliveredPerSec }))));
      for (const st of steps) {
        all.push(st.rate * fanned, st.deliveredPerSec);
        if (!st.sustained) {
          failed.push({ x: st.rate * fanned, y: st.deliveredPerSec });
          failedRows.push([r.transport, fmtInt(st.rate), fmtSig(st.deliveredPerSec), st.why ?? 'not sustained']);
        }
      }
    }
    const pos = all.filter((v) => v > 0);
    const lo = Math.min(...pos);
    const hi = Math.max(...pos);
    datasets.push(lineDataset('delivered = asked', '#444444', [{ x: lo, y: lo }, { x: hi, y: hi }], [6, 4], { pointRadius: 0, borderWidth: 1 }));
    if (failed.length > 0) {
      datasets.push({ label: 'step not sustained', data: failed, showLine: false, pointStyle: 'crossRot', pointRadius: 9, pointBorderWidth: 3, borderColor: LOST, backgroundColor: LOST });
    }
    const log = pos.length === all.length && hi / lo >= 8;
    const config: ChartSpec['config'] = {
      type: 'scatter',
      data: { datasets },
      options: baseOptions({ x: axis(`owed, deliveries/s${log ? ' (log)' : ''}`, log), y: axis(`delivered, deliveries/s${log ? ' (log)' : ''}`, log) }),
    };
    let fig = chartFigure(
      ctx,
      'throughput-ramp',
      'The ramp: delivered against asked',
      `The rate doubles each step until delivery falls behind. On the dashed line everything owed arrived; ✕ marks the step that failed (why in the numbers).${fanned > 1 ? ` Owed = asked rate × ${fmtInt(fanned)} subscribers.` : ''}`,
      config,
      {
        head: ['transport', 'asked msg/s', 'delivered msg/s', 'p99 ms', 'step'],
        rows: ramps.flatMap(({ r, th }) => th!.steps!.map((st) => [r.transport, fmtInt(st.rate), fmtSig(st.deliveredPerSec), st.p99Ms === null ? '–' : fmtSig(st.p99Ms), st.sustained ? 'held' : `failed: ${st.why ?? ''}`])),
      },
      { wide: true },
    );
    if (failedRows.length > 0) fig = fig.replace('</details>', `</details><details><summary>Failed steps</summary>${tableHtml({ head: ['transport', 'asked msg/s', 'delivered msg/s', 'why'], rows: failedRows })}</details>`);
    out += fig;
    const sus = ramps.filter((x) => x.th!.sustainedRate !== undefined);
    if (sus.length > 0) {
      const vals = sus.map((x) => x.th!.sustainedRate!);
      out += chartFigure(ctx, 'sustained-rate', 'Highest sustained rate', `The last step of the ramp that held (0: not even the first)${fanned > 1 ? `, in messages published per second (each to ${fmtInt(fanned)} subscribers)` : ''}.`, transportBars(sus.map((x) => x.r), vals, 'msg/s'), {
        head: ['transport', 'sustained msg/s', 'payload MB/s'],
        rows: sus.map((x, i) => [x.r.transport, fmtInt(vals[i]!), x.th!.payloadMBps !== undefined ? fmtSig(x.th!.payloadMBps) : '–']),
      });
    }
  }
  const mb = withValue(rows, (r) => readThroughputExtra(r.extra)?.payloadMBps);
  if (mb.rows.length > 0) {
    out += chartFigure(ctx, 'payload-mbps', 'Payload MB per second', 'Application payload delivered per second (10⁶ bytes), at the highest sustained rate.', transportBars(mb.rows, mb.values, 'MB/s'), {
      head: ['transport', 'MB/s', 'direction'],
      rows: mb.rows.map((r, i) => [r.transport, fmtSig(mb.values[i]!), readThroughputExtra(r.extra)?.direction ?? '–']),
    });
  }
  return out;
}

function deadPeerCharts(ctx: Ctx, rows: TransportResult[]): string {
  const d = completed(rows)
    .map((r) => ({ r, dp: readDeadPeer(r.extra) }))
    .filter((x): x is { r: TransportResult; dp: NonNullable<ReturnType<typeof readDeadPeer>> } => x.dp !== undefined);
  if (d.length === 0) return '';
  // A peer not freed within the cap gets a hatched bar at the cap, labelled so.
  const values = d.map((x) => (x.dp.detected ? x.dp.detectMs! : (x.dp.capMs ?? 0)) / 1000);
  const cap = d.map((x) => x.dp.capMs).find((c) => c !== undefined);
  const datasets: Dataset[] = [
    {
      label: 'freed after, s',
      data: values,
      backgroundColor: d.map((x) => transportColor(x.r.transport)),
      borderColor: d.map((x) => transportColor(x.r.transport)),
      borderWidth: d.map((x) => (x.dp.detected ? 0 : 2)),
      hatch: d.map((x) => !x.dp.detected),
      barLabels: d.map((x) => (x.dp.detected ? fmtDuration(x.dp.detectMs!) : `not within ${fmtDuration(x.dp.capMs ?? 0)}`)),
    },
  ];
  const expected = d.map((x) => (typeof x.dp.expectedMs === 'number' && (cap === undefined || x.dp.expectedMs <= cap * 1.5) ? x.dp.expectedMs / 1000 : null));
  if (expected.some((v) => v !== null)) {
    datasets.push({ type: 'line', label: 'expected by its settings', data: expected, showLine: false, pointStyle: 'line', pointRadius: 14, pointBorderWidth: 3, borderColor: '#222222', backgroundColor: '#222222' });
  }
  const top = Math.max(...values, ...expected.filter((v): v is number => v !== null));
  const config: ChartSpec['config'] = {
    type: 'bar',
    data: { labels: d.map((x) => x.r.transport), datasets },
    options: baseOptions({ x: { title: { display: false } }, y: { ...axis('seconds after the freeze', false), suggestedMax: top * 1.15 } }),
  };
  const caption = `Time from freezing the peer (SIGSTOP) to the server closing its sockets and dropping its subscription. Hatched: not freed within the ${cap !== undefined ? fmtDuration(cap) : ''} cap (the bar stops at the cap). Black tick: when the transport's own settings say it should notice.`;
  return chartFigure(ctx, 'dead-peer', 'Dead-peer detection', caption, config, {
    head: ['transport', 'outcome', 'expected', 'mechanism'],
    rows: d.map((x) => [x.r.transport, deadPeerOutcome(x.dp), x.dp.expectedMs === null ? 'never' : x.dp.expectedMs !== undefined ? fmtDuration(x.dp.expectedMs) : '–', x.dp.mechanism ?? '–']),
  }, { wide: true });
}

function httpSaturationCharts(ctx: Ctx, rows: TransportResult[]): string {
  let out = '';
  const withV = completed(rows)
    .map((r) => ({ r, vs: readSaturationVariants(r.extra) }))
    .filter((x): x is { r: TransportResult; vs: NonNullable<ReturnType<typeof readSaturationVariants>> } => x.vs !== undefined);
  if (withV.length > 0) {
    const names = [...new Set(withV.flatMap((x) => x.vs.map((v) => v.name)))].sort();
    const labels = withV.map((x) => x.r.transport);
    const shade = (i: number) => (i === 0 ? 1 : 0.45);
    const bars = (get: (v: NonNullable<ReturnType<typeof readSaturationVariants>>[number]) => number | undefined): Dataset[] =>
      names.map((n, i) => {
        const vs = withV.map((x) => x.vs.find((v) => v.name === n));
        const status = vs.find((v) => v?.expectedStatus !== undefined)?.expectedStatus;
        return {
          label: variantName(n, status),
          data: vs.map((v) => (v ? (get(v) ?? null) : null)),
          backgroundColor: withV.map((x) => alpha(transportColor(x.r.transport), shade(i))),
          borderColor: withV.map((x) => transportColor(x.r.transport)),
          borderWidth: 1,
          barLabels: vs.map((v) => (v?.bound && v.bound !== 'neither' ? `${v.bound}-bound` : '')),
        };
      });
    out += chartFigure(
      ctx,
      'http-rps',
      'Polls answered per second at saturation',
      'autocannon, closed loop. Solid: empty poll (204, nothing new); light: a poll that returns one message (200). Above a bar: the side that ran out of CPU.',
      { type: 'bar', data: { labels, datasets: bars((v) => v.requestsPerSec) }, options: baseOptions({ y: axis('requests/s', false) }) },
      {
        head: ['transport', 'poll', 'req/s', 'bound', 'clients at poll interval'],
        rows: withV.flatMap((x) => x.vs.map((v) => [x.r.transport, variantName(v.name, v.expectedStatus), fmtSig(v.requestsPerSec), v.bound ?? '–', v.maxClientsAtPollInterval !== undefined ? fmtInt(v.maxClientsAtPollInterval) : '–'])),
      },
    );
    const latSets: Dataset[] = [];
    for (const [i, n] of names.entries()) {
      for (const k of ['p50', 'p99'] as const) {
        const vs = withV.map((x) => x.vs.find((v) => v.name === n));
        latSets.push({
          label: `${variantName(n)} ${k}`,
          data: vs.map((v) => v?.latencyMs[k] ?? null),
          backgroundColor: withV.map((x) => alpha(transportColor(x.r.transport), k === 'p50' ? 0.35 * shade(i) + 0.1 : shade(i))),
          borderColor: withV.map((x) => transportColor(x.r.transport)),
          borderWidth: 1,
        });
      }
    }
    out += chartFigure(ctx, 'http-latency', 'Poll latency at saturation', 'Per kind of poll: p50 (lighter) and p99. Closed loop: not corrected for coordinated omission.', {
      type: 'bar',
      data: { labels, datasets: latSets },
      options: baseOptions({ y: axis('ms', false) }),
    }, {
      head: ['transport', 'poll', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
      rows: withV.flatMap((x) => x.vs.map((v) => [x.r.transport, variantName(v.name, v.expectedStatus), ...(['p50', 'p90', 'p99', 'max'] as const).map((k) => (v.latencyMs[k] !== undefined ? fmtSig(v.latencyMs[k]!) : '–'))])),
    });
    return out;
  }
  // Older files: one headline figure per row.
  const rps = withValue(rows, (r) => readHttpSaturation(r.extra)?.requestsPerSec);
  if (rps.rows.length > 0) {
    out += chartFigure(ctx, 'http-rps', 'HTTP requests per second at saturation', 'autocannon against each transport’s HTTP endpoint.', transportBars(rps.rows, rps.values, 'req/s'), {
      head: ['transport', 'req/s'],
      rows: rps.rows.map((r, i) => [r.transport, fmtSig(rps.values[i]!)]),
    });
  }
  const latRows = completed(rows).filter((r) => readHttpSaturation(r.extra)?.latencyMs);
  if (latRows.length > 0) {
    const keys = (['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const).filter((k) => latRows.some((r) => readHttpSaturation(r.extra)?.latencyMs?.[k] !== undefined));
    const shown = keys.filter((k) => k !== 'max' && k !== 'mean');
    const shades = [0.35, 0.65, 1, 1];
    const config: ChartSpec['config'] = {
      type: 'bar',
      data: {
        labels: latRows.map((r) => r.transport),
        datasets: shown.map((k, i) => ({
          label: k,
          data: latRows.map((r) => readHttpSaturation(r.extra)?.latencyMs?.[k] ?? null),
          backgroundColor: latRows.map((r) => alpha(transportColor(r.transport), shades[i] ?? 1)),
          borderColor: latRows.map((r) => transportColor(r.transport)),
          borderWidth: 1,
        })),
      },
      options: baseOptions({ y: axis('ms', false) }),
    };
    out += chartFigure(ctx, 'http-latency', 'HTTP latency at saturation', `Bars from light to solid: ${shown.join(', ')}.`, config, {
      head: ['transport', ...keys.map((k) => `${k} ms`)],
      rows: latRows.map((r) => [r.transport, ...keys.map((k) => {
        const v = readHttpSaturation(r.extra)?.latencyMs?.[k];
        return v === undefined ? '–' : fmtSig(v);
      })]),
    });
  }
  return out;
}

/** A detail block as a card: its table, then its notes. */
function detailHtml(d: DetailBlock): string {
  const head = d.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = d.rows
    .map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td${d.text[i] ? ' class="text"' : ''}>${escapeHtml(c)}</td>`)).join('')}</tr>`)
    .join('\n');
  const notes = d.notes.length > 0 ? `<ul class="notes">${d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  const table = `<div class="scroll"><table class="num"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
  // Long tables (a whole ramp) fold away under their notes, which already say what matters.
  const folded = d.rows.length > 12 ? `<details><summary>All ${d.rows.length} rows</summary>${table}</details>` : table;
  return `<div class="note detail" data-detail="${escapeHtml(d.key)}"><h3>${escapeHtml(d.title)}</h3>${d.rows.length > 12 ? notes + folded : folded + notes}</div>`;
}

// ---------------------------------------------------------------------------
// Sections.

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'scenario';
}

function summaryTable(rows: TransportResult[]): string {
  const cols = summaryColumns(rows);
  const head = cols.map((c) => `<th scope="col">${escapeHtml(c.head)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = cols
        .map((c) => {
          const v = escapeHtml(summaryCell(c, r));
          if (c.key === 'transport') return `<th scope="row"><span class="swatch" style="background:${transportColor(r.transport)}"></span>${v}</th>`;
          const classes = [c.text ? 'text' : '', c.key === 'state' ? (isNotApplicable(r) ? 'state-na' : `state-${r.state}`) : '', c.key === 'flags' && v ? 'flag' : ''].filter(Boolean);
          const cls = classes.length > 0 ? ` class="${escapeHtml(classes.join(' '))}"` : '';
          return `<td data-figure="${escapeHtml(c.key)}"${cls}>${v}</td>`;
        })
        .join('');
      return `<tr data-transport="${escapeHtml(r.transport)}">${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="summary num"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function comparisonTable(rows: ComparisonRow[]): string {
  const body = rows
    .map(
      (r) => `<tr class="verdict-${r.verdict}"><th scope="row">${escapeHtml(r.transport)}</th><td class="text">${escapeHtml(r.title)}</td><td>${escapeHtml(r.valueText)}</td><td>${escapeHtml(r.baselineText)}</td><td>${escapeHtml(fmtDeltaPct(r.deltaPct))}</td><td>±${escapeHtml(fmtFixed(r.tolerancePct, 1))}%${r.toleranceFrom === 'spread' ? ' (repeats)' : ''}</td><td class="text">${r.verdict === 'regression' ? '▲ regression' : r.verdict === 'improvement' ? '▼ better' : escapeHtml(verdictMark(r.verdict))}</td></tr>`,
    )
    .join('\n');
  return `<div class="scroll"><table class="comparison num"><thead><tr><th scope="col">transport</th><th scope="col">figure</th><th scope="col">value</th><th scope="col">baseline</th><th scope="col">delta</th><th scope="col">tolerance</th><th scope="col">verdict</th></tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function scenarioSection(ctx: Ctx, s: ScenarioResult, cmp: Comparison | undefined): string {
  const rows = orderedRows(s.results);
  const done = completed(rows);
  const echoMode = rows.map((r) => readEchoMode(r.extra)).find((m) => m !== undefined);
  const roundTrip = isRoundTrip(s);
  const params = simpleParams(s.params);
  const load = loadInWords(s);
  const modeWords = { 'ping-pong': 'ping-pong, one message in flight (closed loop)', pipelined: 'pipelined, several messages in flight per connection', 'open-loop': 'open loop, constant rate per client' } as const;
  const modeText = echoMode ? ` Echo mode: ${modeWords[echoMode]}; latency is the round trip.` : '';
  let html = `<section class="scenario" id="scenario-${slug(s.name)}" data-scenario="${escapeHtml(s.name)}">
<h2>${escapeHtml(s.name)}</h2>
${load ? `<p class="load">${escapeHtml(load[0]!.toUpperCase() + load.slice(1))}.${escapeHtml(modeText)}</p>` : echoMode ? `<p class="load">${escapeHtml(modeText.trim())}</p>` : ''}
<div class="meta-grid">
${params.length > 0 ? `<details class="params-box" open><summary>Parameters</summary><div class="scroll"><table class="params"><caption>Parameters</caption><thead><tr>${params.map(([k]) => `<th scope="col">${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody><tr>${params.map(([, v]) => `<td>${escapeHtml(v)}</td>`).join('')}</tr></tbody></table></div></details>` : ''}
</div>
`;
  if (rows.length > 0) html += `<h3>Summary</h3>\n${summaryTable(rows)}\n`;
  const errors = rows.filter(isFailed);
  if (errors.length > 0) {
    html += `<ul class="errors">${errors.map((r) => `<li><strong>${escapeHtml(r.transport)} errored:</strong> ${escapeHtml(r.error ?? 'no reason given')}</li>`).join('')}</ul>\n`;
  }
  const na = rows.filter(isNotApplicable);
  if (na.length > 0) {
    html += `<ul class="not-applicable">${na.map((r) => `<li><strong>${escapeHtml(r.transport)}: not applicable</strong>: ${escapeHtml(notApplicableReason(r))}</li>`).join('')}</ul>\n`;
  }
  const applicable = rows.filter((r) => !isNotApplicable(r));
  if (rows.length === 0) html += `<p class="empty">No transport ran in this scenario.</p>\n`;
  else if (done.length === 0 && applicable.length > 0) html += `<p class="empty">Every transport errored in this scenario; there is nothing to chart.</p>\n`;

  const details = scenarioDetails(s);
  if (details.length > 0) html += `<div class="details">\n${details.map(detailHtml).join('\n')}\n</div>\n`;

  // Extras are keyed by shape, not by name, so a renamed scenario still gets its charts.
  let charts = latencyCharts(ctx, rows, roundTrip);
  charts +=
    throughputExtraCharts(ctx, s, rows) +
    fanOutCharts(ctx, s, rows) +
    overheadCharts(ctx, s, rows) +
    connectionsCharts(ctx, rows) +
    deadPeerCharts(ctx, rows) +
    httpSaturationCharts(ctx, rows);
  charts += throughputChart(ctx, rows) + bytesChart(ctx, rows) + messagesChart(ctx, rows) + serverCharts(ctx, rows) + seriesCharts(ctx, rows);
  if (charts) html += `<div class="grid">\n${charts}\n</div>\n`;

  if (cmp) {
    const mine = cmp.rows.filter((r) => r.scenario === s.name);
    const states = cmp.stateChanges.filter((c) => c.scenario === s.name);
    const bad = mine.filter((r) => r.verdict === 'regression').length + states.filter((c) => c.to === 'errored').length;
    if (mine.length > 0 || states.length > 0) {
      html += `<details class="compare"${bad > 0 ? ' open' : ''}><summary>Compared with baseline: ${bad} regression(s), ${mine.filter((r) => r.verdict === 'improvement').length} improvement(s), ${mine.length} figures</summary>
${states.map((c) => `<p class="${c.to === 'errored' ? 'regression' : 'improvement'}">${escapeHtml(c.transport)}: ${escapeHtml(c.from)} → ${escapeHtml(c.to)}${c.error ? ` (${escapeHtml(c.error)})` : ''}</p>`).join('\n')}
${mine.some((r) => r.verdict !== 'within') ? comparisonTable(mine.filter((r) => r.verdict !== 'within')) : '<p>No figure moved beyond its tolerance.</p>'}
${mine.length > 0 ? `<details><summary>All ${mine.length} compared figures</summary>${comparisonTable(mine)}</details>` : ''}
</details>\n`;
    }
  }
  return html + '</section>';
}

function headerHtml(results: Results): string {
  const m = results.meta;
  const env: [string, string][] = [
    ['Node', m.node],
    ['CPU', `${m.cpu} (${m.cores} cores)`],
    ['OS', m.os],
    ...(m.memoryBytes !== undefined ? ([['memory', fmtBytes(m.memoryBytes)]] as [string, string][]) : []),
    ['git commit', m.git ?? 'not a git checkout'],
    ['command', m.command],
    ['started', m.startedAt],
    ['finished', m.finishedAt ?? '–'],
    ['results version', `${m.version} (this report reads ${RESULTS_VERSION})`],
  ];
  const legend = transports()
    .map(({ name: t, look: { color: c } }) => `<li><span class="swatch" style="background:${c}"></span>${escapeHtml(t)}</li>`)
    .join('');
  return `<header>
<h1>transport-lab results</h1>
<p class="sub">Run started ${escapeHtml(m.startedAt)}${m.git ? ` at commit <code>${escapeHtml(m.git.slice(0, 12))}</code>` : ''}.</p>
<details class="env" open><summary>Run environment</summary>${tableHtml({ head: ['', ''], rows: env }, 'params env')}</details>
<ul class="legend" aria-label="transport colours">${legend}</ul>
</header>`;
}

function findingsHtml(results: Results): string {
  const f = computeFindings(results);
  if (f.length === 0) return '';
  const items = f.map((x) => `<li class="finding-${x.level}">${x.level === 'info' ? '' : `<strong>${x.level === 'warn' ? 'Note' : 'Error'}:</strong> `}${escapeHtml(x.text)}</li>`).join('\n');
  return `<section class="findings" id="findings"><h2>Findings</h2><ul>\n${items}\n</ul></section>`;
}

function comparisonSummaryHtml(cmp: Comparison, baseline: Results): string {
  const regress = cmp.rows.filter((r) => r.verdict === 'regression');
  const better = cmp.rows.filter((r) => r.verdict === 'improvement');
  const list = [
    ...cmp.stateChanges.map((c) => `<li class="${c.to === 'errored' ? 'regression' : 'improvement'}">${escapeHtml(`${c.scenario}/${c.transport}: ${c.from} → ${c.to}${c.error ? ` (${c.error})` : ''}`)}</li>`),
    ...regress.map((r) => `<li class="regression">▲ ${escapeHtml(`${r.scenario}/${r.transport} ${r.title}: ${r.valueText} vs ${r.baselineText} (${fmtDeltaPct(r.deltaPct)}, tolerance ±${fmtFixed(r.tolerancePct, 1)}%)`)}</li>`),
    ...better.map((r) => `<li class="improvement">▼ ${escapeHtml(`${r.scenario}/${r.transport} ${r.title}: ${r.valueText} vs ${r.baselineText} (${fmtDeltaPct(r.deltaPct)})`)}</li>`),
  ];
  return `<section class="baseline" id="baseline"><h2>Compared with baseline</h2>
<p>Baseline started ${escapeHtml(baseline.meta.startedAt)}${baseline.meta.git ? ` at commit <code>${escapeHtml(baseline.meta.git.slice(0, 12))}</code>` : ''}. ${cmp.regressions} regression(s) and ${cmp.improvements} improvement(s) beyond tolerance among ${cmp.rows.length} figures present in both runs. Tolerance is the repeat spread (min–max) when the runs carry one, else ±10%.</p>
${list.length > 0 ? `<ul>${list.join('\n')}</ul>` : '<p>No figure moved beyond its tolerance.</p>'}
</section>`;
}

const CSS = `
:root { --fg: #1d1f23; --muted: #5b616b; --line: #d9dce1; --bg: #ffffff; --card: #f7f8fa; --bad: #a4161a; --bad-bg: #fde8e8; --good: #0b6b3a; --good-bg: #e3f5ea; --warn-bg: #fff6db; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1240px; margin: 0 auto; padding: 1.25rem 1.25rem 4rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 0.8rem 0 0.4rem; }
.sub, .load, figcaption { color: var(--muted); }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
nav ul, .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; margin: 0.6rem 0; }
nav a { color: #0b57a4; }
.swatch { display: inline-block; width: 0.85em; height: 0.85em; border-radius: 2px; margin-right: 0.35em; vertical-align: -0.05em; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.3rem 0; }
th, td { padding: 0.2rem 0.45rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; }
table.num td.text { text-align: left; }
table.summary thead th { white-space: normal; vertical-align: bottom; }
table.params td { text-align: left; }
table.params caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
table.params th { color: var(--muted); font-weight: 500; }
table.env td { white-space: normal; word-break: break-all; }
table.env thead { display: none; }
.scroll { overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 1rem; margin-top: 1rem; }
.chart, .note { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; min-width: 0; }
.wide { grid-column: 1 / -1; }
.canvas-box { position: relative; height: 290px; }
.wide .canvas-box { height: 340px; }
figcaption { font-size: 0.85rem; margin-top: 0.3rem; }
details > summary { cursor: pointer; color: #0b57a4; font-size: 0.88rem; margin-top: 0.3rem; }
details[open] > summary { margin-bottom: 0.3rem; }
details .scroll, details table { max-width: 100%; overflow-x: auto; display: block; }
.findings li { margin: 0.25rem 0; }
.finding-warn { background: var(--warn-bg); }
.finding-error, .errors li, .regression, tr.verdict-regression { background: var(--bad-bg); color: var(--bad); }
.improvement, tr.verdict-improvement { background: var(--good-bg); color: var(--good); }
.state-errored { color: var(--bad); font-weight: 600; }
.state-na { color: var(--muted); font-style: italic; }
.not-applicable { padding-left: 1.2rem; color: var(--muted); }
.details { display: grid; grid-template-columns: 1fr; gap: 0.8rem; margin-top: 0.8rem; }
.detail table td.text { white-space: normal; min-width: 10rem; }
.notes { margin: 0.4rem 0 0; padding-left: 1.2rem; font-size: 0.88rem; color: var(--muted); }
.notes li { margin: 0.15rem 0; }
.params-box > summary { margin: 0.2rem 0; }
.flag { color: #8a5a00; font-weight: 600; }
.errors { padding-left: 1.2rem; }
.empty { padding: 0.8rem; background: var(--bad-bg); color: var(--bad); border-radius: 6px; }
.compare { margin-top: 1rem; }
@media (max-width: 700px) { main { padding: 0.8rem; } .canvas-box { height: 240px; } }
`;

/** The page script: builds every chart from the JSON specs, adding the callbacks JSON cannot carry. */
const PAGE_SCRIPT = `
(function () {
  'use strict';
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  Chart.defaults.color = '#3a3f47';
  var NINES = [[0, '0'], [Math.log10(2), '50'], [1, '90'], [2, '99'], [3, '99.9'], [4, '99.99'], [5, '99.999']];
  function pct(x) { var p = 100 * (1 - Math.pow(10, -x)); return +p.toFixed(4) + '%'; }
  function num(v) {
    if (v >= 1) return Math.round(v).toLocaleString('en-US');
    return String(+v.toPrecision(2));
  }
  // Log axes: label only 1, 2 and 5 times a power of ten, without trailing decimals.
  function logTicks(v) {
    if (!(v > 0)) return '';
    var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    var r = Math.round(m * 1000) / 1000;
    return r === 1 || r === 2 || r === 5 ? num(v) : '';
  }
  // Diagonal hatching for bars that stand for "not within the cap" (dataset.hatch[i] true).
  function hatch(color) {
    var c = document.createElement('canvas');
    c.width = 10; c.height = 10;
    var g = c.getContext('2d');
    g.fillStyle = 'rgba(255,255,255,0.85)';
    g.fillRect(0, 0, 10, 10);
    g.strokeStyle = color; g.lineWidth = 2.5;
    g.beginPath(); g.moveTo(-2, 12); g.lineTo(12, -2); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(8, 12); g.lineTo(12, 8); g.stroke();
    return g.createPattern(c, 'repeat');
  }
  // Text above bars from dataset.barLabels[i].
  var barLabels = {
    id: 'barLabels',
    afterDatasetsDraw: function (chart) {
      var g = chart.ctx;
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.barLabels) return;
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        meta.data.forEach(function (el, i) {
          var t = ds.barLabels[i];
          if (!t) return;
          // Above whatever else is drawn at this index (a marker may sit over the bar).
          var top = el.y;
          chart.data.datasets.forEach(function (_, dj) {
            var m = chart.getDatasetMeta(dj);
            var other = m.data[i];
            if (dj !== di && !m.hidden && other && m.type === 'line') top = Math.min(top, other.y - 8);
          });
          g.save();
          g.font = '600 12px ' + Chart.defaults.font.family;
          g.fillStyle = '#1d1f23';
          g.textAlign = 'center';
          g.textBaseline = 'bottom';
          g.fillText(t, el.x, top - 4);
          g.restore();
        });
      });
    }
  };
  specs.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) return;
    var cfg = spec.config;
    cfg.data.datasets.forEach(function (ds) {
      if (!ds.hatch) return;
      var colors = Array.isArray(ds.backgroundColor) ? ds.backgroundColor : ds.hatch.map(function () { return ds.backgroundColor; });
      ds.backgroundColor = colors.map(function (c, i) { return ds.hatch[i] ? hatch(c) : c; });
    });
    cfg.plugins = [barLabels];
    Object.keys(cfg.options.scales || {}).forEach(function (k) {
      var s = cfg.options.scales[k];
      if (s.type === 'logarithmic') s.ticks = Object.assign({ autoSkip: false, callback: logTicks }, s.ticks || {});
    });
    if (spec.ninesX) {
      var x = cfg.options.scales.x;
      x.afterBuildTicks = function (scale) {
        scale.ticks = NINES.filter(function (t) { return t[0] <= scale.max + 1e-9; }).map(function (t) { return { value: t[0] }; });
      };
      x.ticks = { autoSkip: false, callback: function (v) {
        for (var i = 0; i < NINES.length; i++) if (Math.abs(NINES[i][0] - v) < 1e-6) return NINES[i][1];
        return '';
      } };
      cfg.options.plugins.tooltip = { callbacks: { label: function (c) {
        var p = c.raw && typeof c.raw.p === 'number' ? c.raw.p + '%' : pct(c.parsed.x);
        return c.dataset.label + ': ' + c.parsed.y + ' ms at ' + p;
      } } };
    }
    new Chart(canvas, cfg);
  });
})();
`;

/** The whole report as one self-contained HTML document. */
export function renderHtml(results: Results, opts: HtmlOptions = {}): string {
  const ctx: Ctx = { specs: [] };
  const cmp = opts.baseline ? compareResults(results, opts.baseline) : undefined;
  const sections = results.scenarios.map((s) => scenarioSection(ctx, s, cmp)).join('\n');
  const nav = results.scenarios.length > 0
    ? `<nav aria-label="scenarios"><ul>${results.scenarios.map((s) => `<li><a href="#scenario-${slug(s.name)}">${escapeHtml(s.name)}</a></li>`).join('')}</ul></nav>`
    : '<p class="empty">This results file holds no scenarios.</p>';
  const title = `transport-lab results — ${results.meta.startedAt}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<main>
${headerHtml(results)}
${nav}
<noscript><p>Charts need JavaScript; every figure is also in the tables under each chart.</p></noscript>
${findingsHtml(results)}
${cmp && opts.baseline ? comparisonSummaryHtml(cmp, opts.baseline) : ''}
${sections}
</main>
<script>${escapeScript(chartJsSource())}</script>
<script type="application/json" id="chart-specs">${jsonForScript(ctx.specs)}</script>
<script>${escapeScript(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}
