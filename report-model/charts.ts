/**
 * Building blocks for charts, typed with chart.js's own configuration types:
 * axes, transport lines and bars in each transport's look, and `chartBlock`,
 * which pairs a configuration with the numbers table every chart carries.
 */

import type { ChartConfiguration, ChartDataset, ChartOptions } from 'chart.js';
import type { TransportResult } from '../metrics/results.ts';
import { transportByName } from '../transports/index.ts';
import type { ChartBlock, Column, TableBlock } from './doc.ts';

declare module 'chart.js' {
  interface BarControllerDatasetOptions {
    /** Per bar: draw it hatched (a value that stands for "not within the cap"); the page script makes the pattern. */
    hatch?: boolean[];
    /** Per bar: a short text the page script writes above it. */
    barLabels?: string[];
  }
}

/** A point of a scatter or line chart; `p` is the percentile on a nines axis, for the tooltip. */
export interface XY {
  x: number;
  y: number;
  p?: number;
}

/** A scatter (line) dataset. */
export type LineDataset = ChartDataset<'scatter', XY[]>;

/** A bar dataset (null: no bar at that label). */
export type BarDataset = ChartDataset<'bar', (number | null)[]>;

/** One axis of a chart. */
export type Axis = NonNullable<NonNullable<ChartOptions<'scatter' | 'bar'>['scales']>[string]>;

/** Grey for what is not a transport (payload, owed messages). */
export const GREY = '#8a8f98';
/** Colour of lost messages and failed steps. */
export const LOST = '#D55E00';
/** Colour of transports the lab does not know. */
const UNKNOWN = '#777777';

/** A transport's chart colour, grey for a name the registry does not know. */
export function transportColor(name: string): string {
  return transportByName(name)?.look.color ?? UNKNOWN;
}

/** A transport's dash pattern, solid for a name the registry does not know. */
function transportDash(name: string): number[] {
  return transportByName(name)?.look.dash ?? [];
}

/** `#rrggbb` with an alpha, as rgba(). */
export function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** Whether values spread widely enough (30×, all positive) to read better on a log axis. */
export function useLog(values: readonly number[]): boolean {
  const pos = values.filter((v) => v > 0);
  if (pos.length !== values.length || pos.length < 2) return false;
  return Math.max(...pos) / Math.min(...pos) >= 30;
}

/** The nines axis position of a percentile: −log10(1 − p/100), so 90 → 1, 99 → 2. */
export function nines(p: number): number {
  return -Math.log10(1 - p / 100);
}

/** A titled linear (from zero) or logarithmic axis. */
export function axis(title: string, log: boolean, extra: Axis = {}): Axis {
  return { type: log ? 'logarithmic' : 'linear', title: { display: true, text: title }, ...(log ? {} : { beginAtZero: true }), ...extra } as Axis;
}

/** The options every chart shares: no animation, legend below (or none). */
export function baseOptions<T extends 'bar' | 'scatter' | 'line'>(scales: Record<string, Axis>, legend = true): ChartOptions<T> {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { display: legend, position: 'bottom', labels: { boxWidth: 14 } } },
    scales,
  } as ChartOptions<T>;
}

/** A drawn line through points. */
export function lineDataset(label: string, color: string, data: XY[], dash: number[] = [], extra: Partial<LineDataset> = {}): LineDataset {
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

/** A line in the row's transport colour and dash. */
export function transportLine(row: TransportResult, data: XY[], label: string = row.transport, extra: Partial<LineDataset> = {}): LineDataset {
  return lineDataset(label, transportColor(row.transport), data, transportDash(row.transport), extra);
}

/** A bar chart with one bar per transport, in each transport's colour. */
export function transportBars(rows: readonly TransportResult[], values: number[], yTitle: string): ChartConfiguration<'bar', (number | null)[]> {
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.transport),
      datasets: [{ label: yTitle, data: values, backgroundColor: rows.map((r) => transportColor(r.transport)), borderWidth: 0 }],
    },
    options: baseOptions<'bar'>({ x: { title: { display: false } }, y: axis(yTitle, useLog(values)) }, false),
  };
}

/** A plain table of strings: the first column names the row, the rest are numbers unless listed in `textColumns`. */
export function numbersTable(
  key: string,
  head: readonly string[],
  rows: readonly (readonly string[])[],
  opts: { title?: string; textColumns?: readonly number[] } = {},
): TableBlock {
  const columns: Column[] = head.map((label, i) => ({ label, ...(i === 0 || opts.textColumns?.includes(i) ? { text: true } : {}) }));
  return {
    kind: 'table',
    key,
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    columns,
    rows: rows.map((r) => r.map((text) => ({ text }))),
  };
}

/** The configurations the lab draws: bars, lines on x/y axes, and bars with a line dataset over them. */
type LabChartConfig =
  | ChartConfiguration<'bar', (number | null)[]>
  | ChartConfiguration<'scatter', XY[]>
  | ChartConfiguration<'bar' | 'line', (number | null)[]>;

/** What a chart shows besides its configuration. */
interface ChartParts {
  /** Stable kind, e.g. `latency-curve`. */
  key: string;
  title: string;
  caption: string;
  config: LabChartConfig;
  /** The numbers behind the chart: a header row and rows of strings. */
  head: readonly string[];
  rows: readonly (readonly string[])[];
  /** x is a nines axis (see `nines`). */
  ninesX?: boolean;
  /** Spans the page's full width. */
  wide?: boolean;
  /** More numbers behind the chart (failed steps, crossovers), each under its own title. */
  more?: TableBlock[];
}

/** A chart block with its numbers table. */
export function chartBlock(parts: ChartParts): ChartBlock {
  return {
    kind: 'chart',
    key: parts.key,
    title: parts.title,
    caption: parts.caption,
    config: parts.config as unknown as ChartConfiguration,
    table: numbersTable(parts.key, parts.head, parts.rows),
    ...(parts.ninesX ? { ninesX: true } : {}),
    ...(parts.wide ? { wide: true } : {}),
    ...(parts.more && parts.more.length > 0 ? { more: parts.more } : {}),
  };
}
