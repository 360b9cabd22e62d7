/**
 * The figure registry: every per-row figure the reports print and compare,
 * with its label, direction and formatter, and the compact summary table's
 * columns built from it.
 */

import type { TransportResult } from '../metrics/results.ts';
import { bytesPerMessage, fmtFixed, fmtInt, fmtMiB, fmtSig, isNotApplicable, messagesPerServerCpuSec, num, payloadPerMessage, stateLabel } from './format.ts';

/** Whether a figure is better low, high, or neither. */
type Better = 'lower' | 'higher' | null;

/** A figure the reports print and compare. */
interface FigureDef {
  /** Stable key, also the key of `extra.spread`. */
  key: string;
  /** Short column label for tables. */
  label: string;
  /** Longer label for prose and comparison tables. */
  title: string;
  /** Unit suffix for prose, may be empty. */
  unit: string;
  /** Which way is better; null for a figure that is not compared. */
  better: Better;
  /** The value of a row, or undefined when it has none. */
  get(row: TransportResult): number | undefined;
  /** The value as the tables print it. */
  format(v: number): string;
}

const lat = (k: 'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean') => (r: TransportResult) => num(r.latencyMs?.[k]);
const extra = (k: string) => (r: TransportResult) => num(r.extra?.[k]);

/** Every per-row figure, in table order. */
export const FIGURES: readonly FigureDef[] = [
  { key: 'latencyMs.p50', label: 'p50 ms', title: 'latency p50', unit: 'ms', better: 'lower', get: lat('p50'), format: fmtSig },
  { key: 'latencyMs.p90', label: 'p90 ms', title: 'latency p90', unit: 'ms', better: 'lower', get: lat('p90'), format: fmtSig },
  { key: 'latencyMs.p99', label: 'p99 ms', title: 'latency p99', unit: 'ms', better: 'lower', get: lat('p99'), format: fmtSig },
  { key: 'latencyMs.p999', label: 'p99.9 ms', title: 'latency p99.9', unit: 'ms', better: 'lower', get: lat('p999'), format: fmtSig },
  { key: 'latencyMs.max', label: 'max ms', title: 'latency max', unit: 'ms', better: null, get: lat('max'), format: fmtSig },
  {
    key: 'throughput.messagesPerSec',
    label: 'msgs/s',
    title: 'delivered messages per second',
    unit: 'msg/s',
    better: 'higher',
    get: (r) => num(r.throughput?.messagesPerSec),
    format: fmtSig,
  },
  {
    key: 'throughput.payloadBytesPerSec',
    label: 'payload MiB/s',
    title: 'payload per second',
    unit: 'MiB/s',
    better: 'higher',
    get: (r) => num(r.throughput?.payloadBytesPerSec),
    format: (v) => fmtSig(v / 1048576),
  },
  { key: 'messages.sent', label: 'sent', title: 'messages owed', unit: '', better: null, get: (r) => num(r.messages?.sent), format: fmtInt },
  {
    key: 'messages.delivered',
    label: 'delivered',
    title: 'messages delivered',
    unit: '',
    better: null,
    get: (r) => num(r.messages?.delivered),
    format: fmtInt,
  },
  { key: 'messages.lost', label: 'lost', title: 'messages lost', unit: '', better: 'lower', get: (r) => num(r.messages?.lost), format: fmtInt },
  { key: 'wire.bytesPerMessage', label: 'B/msg', title: 'wire bytes per delivered message', unit: 'B', better: 'lower', get: bytesPerMessage, format: fmtSig },
  {
    key: 'wire.payloadPerMessage',
    label: 'payload B/msg',
    title: 'payload bytes per delivered message',
    unit: 'B',
    better: null,
    get: payloadPerMessage,
    format: fmtSig,
  },
  {
    key: 'wire.overheadBytesPerMessage',
    label: 'ovh B/msg',
    title: 'overhead bytes per delivered message',
    unit: 'B',
    better: 'lower',
    get: (r) => (r.messages?.delivered || num(r.wire?.bytesPerMessage) !== undefined ? num(r.wire?.overheadBytesPerMessage) : undefined),
    format: fmtSig,
  },
  {
    key: 'wire.requests',
    label: 'requests',
    title: 'HTTP requests or handshakes',
    unit: '',
    better: 'lower',
    get: (r) => num(r.wire?.requests),
    format: fmtInt,
  },
  { key: 'server.cpuMs', label: 'srv CPU ms', title: 'server CPU time', unit: 'ms', better: 'lower', get: (r) => num(r.server?.cpuMs), format: fmtInt },
  {
    key: 'server.cpuUsPerMessage',
    label: 'srv µs/msg',
    title: 'server CPU µs per delivered message',
    unit: 'µs',
    better: 'lower',
    get: (r) => num(r.server?.cpuUsPerMessage) ?? (r.messages?.delivered && r.server ? (r.server.cpuMs * 1000) / r.messages.delivered : undefined),
    format: fmtSig,
  },
  {
    key: 'client.cpuUsPerMessage',
    label: 'load µs/msg',
    title: 'load CPU µs per delivered message',
    unit: 'µs',
    better: 'lower',
    get: (r) => num(r.client?.cpuUsPerMessage),
    format: fmtSig,
  },
  {
    key: 'server.rssMaxBytes',
    label: 'RSS MiB',
    title: 'server peak RSS',
    unit: 'MiB',
    better: 'lower',
    get: (r) => num(r.server?.rssMaxBytes),
    format: fmtMiB,
  },
  {
    key: 'derived.messagesPerServerCpuSec',
    label: 'msgs/CPU-s',
    title: 'messages per server CPU second',
    unit: 'msg',
    better: 'higher',
    get: messagesPerServerCpuSec,
    format: fmtSig,
  },
  {
    key: 'client.cpuPct',
    label: 'client CPU %',
    title: 'load client CPU',
    unit: '%',
    better: null,
    get: (r) => num(r.client?.cpuPct),
    format: (v) => fmtFixed(v, 0),
  },
  // Scenario figures kept in `extra` under these names; a row without them simply has no value.
  {
    key: 'extra.detectMs',
    label: 'detect ms',
    title: 'dead-peer detection time',
    unit: 'ms',
    better: 'lower',
    get: (r) => (r.extra?.['detected'] === false ? undefined : num(r.extra?.['detectMs'])),
    format: fmtInt,
  },
  {
    key: 'extra.requestsPerSec',
    label: 'req/s',
    title: 'HTTP requests per second (autocannon)',
    unit: 'req/s',
    better: 'higher',
    get: extra('requestsPerSec'),
    format: fmtSig,
  },
  {
    key: 'extra.maxClientsAtPollInterval',
    label: 'clients at poll interval',
    title: 'short-polling clients the server could answer',
    unit: '',
    better: 'higher',
    get: extra('maxClientsAtPollInterval'),
    format: fmtInt,
  },
  { key: 'extra.payloadMBps', label: 'MB/s', title: 'payload MB per second', unit: 'MB/s', better: 'higher', get: extra('payloadMBps'), format: fmtSig },
  {
    key: 'extra.fixedCpuUsPerMessage',
    label: 'µs/msg at fixed load',
    title: 'server CPU µs per message at a fixed rate',
    unit: 'µs',
    better: 'lower',
    get: extra('fixedCpuUsPerMessage'),
    format: fmtSig,
  },
  {
    key: 'extra.fixedLoadCpuUsPerMessage',
    label: 'load µs/msg at fixed load',
    title: 'load CPU µs per message at a fixed rate',
    unit: 'µs',
    better: 'lower',
    get: extra('fixedLoadCpuUsPerMessage'),
    format: fmtSig,
  },
  {
    key: 'extra.fixedP50Ms',
    label: 'p50 ms at fixed load',
    title: 'p50 latency at a fixed rate well below saturation',
    unit: 'ms',
    better: 'lower',
    get: extra('fixedP50Ms'),
    format: fmtSig,
  },
  {
    key: 'extra.fixedP99Ms',
    label: 'p99 ms at fixed load',
    title: 'p99 latency at a fixed rate well below saturation',
    unit: 'ms',
    better: 'lower',
    get: extra('fixedP99Ms'),
    format: fmtSig,
  },
  {
    key: 'extra.sustainedRate',
    label: 'sustained msg/s',
    title: 'highest sustained rate',
    unit: 'msg/s',
    better: 'higher',
    get: extra('sustainedRate'),
    format: fmtInt,
  },
];

/** A figure by key; throws on a key that does not exist (a programming error). */
export function figure(key: string): FigureDef {
  const f = FIGURES.find((x) => x.key === key);
  if (!f) throw new Error(`unknown figure ${key}`);
  return f;
}

/** The formatted value of a figure for a row, or '–' when absent. */
export function formatFigure(row: TransportResult, key: string): string {
  const f = figure(key);
  const v = f.get(row);
  return v === undefined ? '–' : f.format(v);
}

// ---------------------------------------------------------------------------
// The compact per-scenario summary table.

/** A row's scenario figure in a few words ('' when it has none); each scenario's facet says it. */
type RowFigure = (row: TransportResult) => string;

/** One column of the compact per-scenario table. */
interface SummaryColumn {
  head: string;
  /** Figure key, or a pseudo key for composite cells. */
  key: string;
  /** The cell's text for a completed row. */
  cell(row: TransportResult): string;
  /** Text column (left-aligned); numeric columns are right-aligned. */
  text?: boolean;
  /** Shown even when every row is empty. */
  always?: boolean;
}

/** "delivered/sent" as one cell. */
function deliveredOfSent(row: TransportResult): string {
  if (!row.messages) return '–';
  return `${fmtInt(row.messages.delivered)}/${fmtInt(row.messages.sent)}`;
}

/** The row's flags as a short cell: floor or client-bound, trials, a noisy machine. */
function flagsCell(row: TransportResult): string {
  const out: string[] = [];
  if (row.extra?.['floor'] === true) out.push(`floor (client-bound${row.client ? ` ${fmtFixed(row.client.cpuPct, 0)}%` : ''})`);
  else if (row.client?.clientBound) out.push(`client-bound (${fmtFixed(row.client.cpuPct, 0)}%)`);
  const trials = num(row.extra?.['trials']);
  if (trials !== undefined && trials > 1) out.push(`${fmtInt(trials)} trials`);
  if (row.extra?.['noisy'] === true) out.push('noisy machine');
  return out.join(', ');
}

const figCol = (head: string, key: string): SummaryColumn => ({ head, key, cell: (r) => formatFigure(r, key) });

/**
 * Every column of the compact table, in order; `scenarioFigure` fills the scenario's own column.
 * `saturated`: the rows' own percentiles were read with the server saturated (a closed loop kept
 * full, a ramp's top step), mostly time in queues; their heads say so, apart from the fixed rate's.
 */
function allSummaryColumns(scenarioFigure: RowFigure | undefined, saturated: boolean): SummaryColumn[] {
  const own = (p: string) => (saturated ? `${p} ms saturated` : `${p} ms`);
  return [
    { head: 'transport', key: 'transport', cell: (r) => r.transport, text: true, always: true },
    { head: 'state', key: 'state', cell: (r) => stateLabel(r), text: true, always: true },
    figCol(own('p50'), 'latencyMs.p50'),
    figCol(own('p99'), 'latencyMs.p99'),
    figCol(own('p99.9'), 'latencyMs.p999'),
    figCol('msgs/s', 'throughput.messagesPerSec'),
    { head: 'delivered/sent', key: 'messages.deliveredOfSent', cell: (r) => deliveredOfSent(r) },
    figCol('lost', 'messages.lost'),
    figCol('B/msg', 'wire.bytesPerMessage'),
    figCol('ovh B/msg', 'wire.overheadBytesPerMessage'),
    figCol('requests', 'wire.requests'),
    figCol('srv CPU ms', 'server.cpuMs'),
    figCol('srv µs/msg', 'server.cpuUsPerMessage'),
    figCol('load µs/msg', 'client.cpuUsPerMessage'),
    figCol('srv µs/msg at fixed rate', 'extra.fixedCpuUsPerMessage'),
    figCol('load µs/msg at fixed rate', 'extra.fixedLoadCpuUsPerMessage'),
    figCol('p50 ms at fixed rate', 'extra.fixedP50Ms'),
    figCol('p99 ms at fixed rate', 'extra.fixedP99Ms'),
    figCol('RSS MiB', 'server.rssMaxBytes'),
    { head: 'scenario figure', key: 'extra', cell: (r) => (scenarioFigure?.(r) ?? '') || '–', text: true },
    { head: 'flags', key: 'flags', cell: (r) => flagsCell(r), text: true },
  ];
}

/** A cell of the compact table; rows without figures (errored, n/a) show only their name and state. */
export function summaryCell(col: SummaryColumn, row: TransportResult): string {
  if (isNotApplicable(row) && col.key === 'extra') return 'not applicable';
  if (row.state !== 'completed' && col.key !== 'transport' && col.key !== 'state' && col.key !== 'flags') return '–';
  return col.cell(row);
}

/** The columns worth printing for these rows: those with at least one value. */
export function summaryColumns(rows: readonly TransportResult[], scenarioFigure?: RowFigure, saturated = false): SummaryColumn[] {
  return allSummaryColumns(scenarioFigure, saturated).filter(
    (c) =>
      c.always ||
      rows.some((r) => {
        if (isNotApplicable(r)) return false;
        const v = summaryCell(c, r);
        return v !== '–' && v !== '';
      }),
  );
}
