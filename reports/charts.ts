/**
 * The charts every scenario gets from its rows' common figures: latency by
 * percentile, delivered messages per second, bytes per message, messages
 * sent/delivered/lost, server CPU and memory, and the time series.
 */

import type { TransportResult } from '../metrics/results.ts';
import type { ChartBlock } from '../report-model/doc.ts';
import { alpha, axis, baseOptions, chartBlock, GREY, LOST, nines, transportBars, transportColor, transportLine, useLog } from '../report-model/charts.ts';
import type { BarDataset, LineDataset, XY } from '../report-model/charts.ts';
import { bytesPerMessage, fmtFixed, fmtInt, fmtMiB, fmtNum, fmtSig, isCompleted, payloadPerMessage } from '../report-model/format.ts';

function completed(rows: readonly TransportResult[]): TransportResult[] {
  return rows.filter(isCompleted);
}

/** Completed rows that have a finite value for `get`, with the values. */
function withValue(rows: readonly TransportResult[], get: (r: TransportResult) => number | undefined): { rows: TransportResult[]; values: number[] } {
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

/** Latency on the nines axis from the percentile curves, or p50/p99 bars when no row has a curve. */
export function latencyChart(rows: readonly TransportResult[], roundTrip: boolean): ChartBlock | undefined {
  const what = roundTrip ? 'Round-trip latency' : 'Delivery latency';
  const curveRows = completed(rows).filter((r) => (r.percentiles?.length ?? 0) > 1);
  if (curveRows.length > 0) {
    const datasets: LineDataset[] = [];
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
    return chartBlock({
      key: 'latency-curve',
      title: `${what} by percentile`,
      caption:
        'HdrHistogram-style: each step right is one more nine (50, 90, 99, 99.9, 99.99). Corrected for coordinated omission: measured from the intended send time.',
      config: {
        type: 'scatter',
        data: { datasets },
        options: baseOptions<'scatter'>({
          x: { type: 'linear', min: 0, max: xMax, title: { display: true, text: 'percentile' } },
          y: axis(`${roundTrip ? 'round trip' : 'latency'}, ms${logY ? ' (log)' : ''}`, logY),
        }),
      },
      head: ['transport', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms', 'count'],
      rows: completed(rows)
        .filter((r) => r.latencyMs)
        .map((r) => {
          const l = r.latencyMs!;
          return [r.transport, fmtSig(l.p50), fmtSig(l.p90), fmtSig(l.p99), fmtSig(l.p999), fmtSig(l.max), fmtSig(l.mean), fmtInt(l.count)];
        }),
      ninesX: true,
    });
  }
  const lat = withValue(rows, (r) => r.latencyMs?.p50);
  if (lat.rows.length === 0) return undefined;
  const p50 = lat.rows.map((r) => r.latencyMs!.p50);
  const p99 = lat.rows.map((r) => r.latencyMs!.p99);
  const datasets: BarDataset[] = [
    {
      label: 'p50',
      data: p50,
      backgroundColor: lat.rows.map((r) => alpha(transportColor(r.transport), 0.45)),
      borderColor: lat.rows.map((r) => transportColor(r.transport)),
      borderWidth: 1,
    },
    { label: 'p99', data: p99, backgroundColor: lat.rows.map((r) => transportColor(r.transport)), borderWidth: 0 },
  ];
  return chartBlock({
    key: 'latency-bars',
    title: `${what}: p50 (light) and p99 (solid)`,
    caption: 'No percentile curve in this run, so the two summary points.',
    config: {
      type: 'bar',
      data: { labels: lat.rows.map((r) => r.transport), datasets },
      options: baseOptions<'bar'>({ y: axis('ms', useLog([...p50, ...p99])) }),
    },
    head: ['transport', 'p50 ms', 'p99 ms'],
    rows: lat.rows.map((r, i) => [r.transport, fmtSig(p50[i]!), fmtSig(p99[i]!)]),
  });
}

function throughputChart(rows: readonly TransportResult[]): ChartBlock | undefined {
  const t = withValue(rows, (r) => r.throughput?.messagesPerSec);
  if (t.rows.length === 0) return undefined;
  return chartBlock({
    key: 'throughput',
    title: 'Delivered messages per second',
    caption: 'Messages received by the load clients per second of the measured phase.',
    config: transportBars(t.rows, t.values, 'msgs/s'),
    head: ['transport', 'msgs/s', 'payload MiB/s'],
    rows: t.rows.map((r, i) => [r.transport, fmtSig(t.values[i]!), r.throughput ? fmtSig(r.throughput.payloadBytesPerSec / 1048576) : '–']),
  });
}

function bytesChart(rows: readonly TransportResult[]): ChartBlock | undefined {
  const b = withValue(rows, (r) => (payloadPerMessage(r) !== undefined && r.wire ? r.wire.overheadBytesPerMessage : undefined));
  if (b.rows.length === 0) return undefined;
  const payload = b.rows.map((r) => payloadPerMessage(r)!);
  const datasets: BarDataset[] = [
    { label: 'payload', data: payload, backgroundColor: alpha(GREY, 0.55), borderWidth: 0 },
    { label: 'overhead (headers, framing, empty polls)', data: b.values, backgroundColor: b.rows.map((r) => transportColor(r.transport)), borderWidth: 0 },
  ];
  return chartBlock({
    key: 'bytes-per-message',
    title: 'Bytes on the wire per delivered message',
    caption: 'Counted at the server socket, both directions. Grey: payload; coloured: everything else.',
    config: {
      type: 'bar',
      data: { labels: b.rows.map((r) => r.transport), datasets },
      options: baseOptions<'bar'>({ x: { stacked: true }, y: { ...axis('bytes per delivered message', false), stacked: true } }),
    },
    head: ['transport', 'payload B/msg', 'overhead B/msg', 'total B/msg', 'requests'],
    rows: b.rows.map((r, i) => [
      r.transport,
      fmtSig(payload[i]!),
      fmtSig(b.values[i]!),
      fmtSig(bytesPerMessage(r) ?? payload[i]! + b.values[i]!),
      r.wire ? fmtInt(r.wire.requests) : '–',
    ]),
  });
}

function messagesChart(rows: readonly TransportResult[]): ChartBlock | undefined {
  const m = withValue(rows, (r) => r.messages?.sent);
  if (m.rows.length === 0) return undefined;
  const sent = m.rows.map((r) => r.messages!.sent);
  const delivered = m.rows.map((r) => r.messages!.delivered);
  const lost = m.rows.map((r) => r.messages!.lost);
  const datasets: BarDataset[] = [
    { label: 'sent (owed)', data: sent, backgroundColor: alpha(GREY, 0.55), borderWidth: 0, yAxisID: 'y' },
    { label: 'delivered', data: delivered, backgroundColor: m.rows.map((r) => transportColor(r.transport)), borderWidth: 0, yAxisID: 'y' },
    { label: 'lost (right axis)', data: lost, backgroundColor: LOST, borderWidth: 0, yAxisID: 'y2' },
  ];
  return chartBlock({
    key: 'messages',
    title: 'Messages sent, delivered and lost',
    caption: 'Lost is on its own axis (right) so a handful of losses stays visible.',
    config: {
      type: 'bar',
      data: { labels: m.rows.map((r) => r.transport), datasets },
      options: baseOptions<'bar'>({
        y: axis('messages', false),
        y2: { ...axis('lost', false), position: 'right', grid: { drawOnChartArea: false }, suggestedMax: 1 },
      }),
    },
    head: ['transport', 'sent', 'delivered', 'lost', 'duplicates'],
    rows: m.rows.map((r, i) => [r.transport, fmtInt(sent[i]!), fmtInt(delivered[i]!), fmtInt(lost[i]!), fmtInt(r.messages!.duplicates ?? 0)]),
  });
}

function serverCharts(rows: readonly TransportResult[]): ChartBlock[] {
  const out: ChartBlock[] = [];
  const cpu = withValue(rows, (r) => r.server?.cpuMs);
  if (cpu.rows.length > 0) {
    out.push(
      chartBlock({
        key: 'server-cpu',
        title: 'Server CPU time',
        caption: 'User + system CPU of the server process over the measured phase.',
        config: transportBars(cpu.rows, cpu.values, 'CPU ms'),
        head: ['transport', 'CPU ms', 'CPU % of a core'],
        rows: cpu.rows.map((r, i) => [r.transport, fmtInt(cpu.values[i]!), r.server?.cpuPct !== undefined ? fmtFixed(r.server.cpuPct, 1) : '–']),
      }),
    );
  }
  const rss = withValue(rows, (r) => r.server?.rssMaxBytes);
  if (rss.rows.length > 0) {
    out.push(
      chartBlock({
        key: 'server-rss',
        title: 'Server peak RSS',
        caption: 'Largest resident set size of the server process sampled during the run.',
        config: transportBars(
          rss.rows,
          rss.values.map((v) => v / 1048576),
          'MiB',
        ),
        head: ['transport', 'peak RSS MiB'],
        rows: rss.rows.map((r, i) => [r.transport, fmtMiB(rss.values[i]!)]),
      }),
    );
  }
  return out;
}

const SERIES = [
  { key: 'deliveredPerSec', chart: 'series-delivered', title: 'Delivered per second over time', y: 'msgs/s', fmt: fmtSig, scale: 1 },
  { key: 'serverCpuPct', chart: 'series-cpu', title: 'Server CPU over time', y: '% of one core', fmt: (v: number) => fmtFixed(v, 1), scale: 1 },
  { key: 'serverRssBytes', chart: 'series-rss', title: 'Server RSS over time', y: 'MiB', fmt: (v: number) => fmtFixed(v, 1), scale: 1 / 1048576 },
] as const;

function seriesCharts(rows: readonly TransportResult[]): ChartBlock[] {
  const withSeries = completed(rows).filter((r) => (r.series?.length ?? 0) > 0);
  const out: ChartBlock[] = [];
  for (const f of SERIES) {
    const datasets: LineDataset[] = [];
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
    out.push(
      chartBlock({
        key: f.chart,
        title: f.title,
        caption: 'Sampled once per interval during the run.',
        config: {
          type: 'scatter',
          data: { datasets },
          options: baseOptions<'scatter'>({ x: { type: 'linear', title: { display: true, text: 'seconds into the measured phase' } }, y: axis(f.y, false) }),
        },
        head: ['t (s)', ...names],
        rows: times.map((t) => [
          fmtNum(t),
          ...names.map((n) => {
            const v = byRow.get(n)?.get(t);
            return v === undefined ? '–' : f.fmt(v);
          }),
        ]),
      }),
    );
  }
  return out;
}

/** The charts after a scenario's own: throughput, bytes, messages, server cost, time series. */
export function commonCharts(rows: readonly TransportResult[]): ChartBlock[] {
  return [throughputChart(rows), bytesChart(rows), messagesChart(rows), ...serverCharts(rows), ...seriesCharts(rows)].filter(
    (c): c is ChartBlock => c !== undefined,
  );
}
