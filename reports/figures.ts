/**
 * The one place where report figures are derived and formatted. The terminal
 * table, the HTML report and the Markdown summary all read their numbers from
 * here, so the same field prints the same string in all three.
 */

import { TRANSPORTS } from '../metrics/results.ts';
import type { Results, ScenarioResult, TransportName, TransportResult } from '../metrics/results.ts';
import {
  num,
  readConnectionsSteps,
  readCrossovers,
  readEchoMode,
  readFanOutSteps,
  readDeadPeer,
  readFanOutCapacity,
  readHttpSaturation,
  readSpread,
  readThroughputExtra,
} from './extras.ts';

// ---------------------------------------------------------------------------
// Transports: fixed order and colour (Okabe–Ito palette, safe for colour-blind readers).

/** Fixed colour per transport, the same in every chart. */
export const TRANSPORT_COLORS: Record<TransportName, string> = {
  polling: '#E69F00',
  'long-polling': '#CC79A7',
  sse: '#56B4E9',
  websocket: '#009E73',
  ws: '#0072B2',
};

/** Fixed dash pattern per transport, so lines differ by more than colour. */
export const TRANSPORT_DASH: Record<TransportName, number[]> = {
  polling: [8, 4],
  'long-polling': [2, 3],
  sse: [10, 3, 2, 3],
  websocket: [],
  ws: [5, 5],
};

/** Colour of a transport name, grey for names the lab does not know. */
export function transportColor(name: string): string {
  return (TRANSPORT_COLORS as Record<string, string>)[name] ?? '#777777';
}

/** Rows in the lab's fixed transport order (unknown names last, in file order). */
export function orderedRows(rows: readonly TransportResult[]): TransportResult[] {
  const rank = (t: string): number => {
    const i = (TRANSPORTS as readonly string[]).indexOf(t);
    return i < 0 ? TRANSPORTS.length : i;
  };
  return rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r.transport) - rank(b.r.transport) || a.i - b.i).map((x) => x.r);
}

/** True when the row carries measured figures. */
export function isCompleted(row: TransportResult): boolean {
  return row.state === 'completed';
}

// ---------------------------------------------------------------------------
// Formatting.

function group(intString: string): string {
  return intString.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A number with a fixed count of decimals and thousands separators. */
export function fmtFixed(v: number, decimals: number): string {
  const s = Math.abs(v).toFixed(decimals);
  const [i = '0', f] = s.split('.');
  const sign = v < 0 && Number(s) !== 0 ? '-' : '';
  return sign + group(i) + (f === undefined ? '' : '.' + f);
}

/** About three significant digits, never scientific: 0.412, 4.12, 41.2, 412, 4,120. */
export function fmtSig(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 0.01) return fmtFixed(v, 4);
  if (a < 1) return fmtFixed(v, 3);
  if (a < 10) return fmtFixed(v, 2);
  if (a < 100) return fmtFixed(v, 1);
  return fmtFixed(v, 0);
}

/** An integer count with thousands separators. */
export function fmtInt(v: number): string {
  return fmtFixed(Math.round(v), 0);
}

/** Bytes as MiB with one decimal. */
export function fmtMiB(bytes: number): string {
  return fmtFixed(bytes / 1048576, 1);
}

/** Bytes in a short human unit: 812 B, 3.4 KiB, 12.0 MiB. */
export function fmtBytes(bytes: number): string {
  const a = Math.abs(bytes);
  if (a < 1024) return `${fmtSig(bytes)} B`;
  if (a < 1048576) return `${fmtSig(bytes / 1024)} KiB`;
  if (a < 1073741824) return `${fmtSig(bytes / 1048576)} MiB`;
  return `${fmtSig(bytes / 1073741824)} GiB`;
}

/** A signed percentage with one decimal: +12.5%, -3.0%. */
export function fmtDeltaPct(pct: number): string {
  if (!Number.isFinite(pct)) return pct > 0 ? '+∞%' : '-∞%';
  return (pct > 0 ? '+' : pct < 0 ? '' : '±') + fmtFixed(pct, 1) + '%';
}

/** A ratio as "3.4×". */
export function fmtRatio(r: number): string {
  return `${r >= 10 ? fmtFixed(r, 0) : fmtFixed(r, 1)}×`;
}

/** Integers as integers, other numbers to about three significant digits. */
export function fmtNum(v: number): string {
  if (Number.isInteger(v)) return fmtInt(v);
  const [i = '0', f] = String(Math.abs(+v.toPrecision(3))).split('.');
  return (v < 0 ? '-' : '') + group(i) + (f ? '.' + f : '');
}

/** Milliseconds in words: 850 ms, 1 s, 2.5 s. */
export function fmtDuration(ms: number): string {
  return ms < 1000 ? `${fmtNum(ms)} ms` : `${fmtNum(Math.round(ms) / 1000)} s`;
}

// ---------------------------------------------------------------------------
// Derived figures.

/** All wire bytes per delivered message: `wire.bytesPerMessage`, or (up + down) / delivered. */
export function bytesPerMessage(row: TransportResult): number | undefined {
  if (!row.wire) return undefined;
  if (num(row.wire.bytesPerMessage) !== undefined) return row.wire.bytesPerMessage;
  const d = row.messages?.delivered;
  return d ? (row.wire.bytesUp + row.wire.bytesDown) / d : undefined;
}

/** Payload bytes per delivered message: wire.payloadBytes / messages.delivered. */
export function payloadPerMessage(row: TransportResult): number | undefined {
  const d = row.messages?.delivered;
  return row.wire && d ? row.wire.payloadBytes / d : undefined;
}

/** Messages delivered per second of server CPU time. */
export function messagesPerServerCpuSec(row: TransportResult): number | undefined {
  const d = row.messages?.delivered;
  const cpu = row.server?.cpuMs;
  return d && cpu ? d / (cpu / 1000) : undefined;
}

/** Whether a figure is better low, high, or neither. */
export type Better = 'lower' | 'higher' | null;

/** A figure the reports print and compare. */
export interface FigureDef {
  /** Stable key, also the key of `extra.spread`. */
  key: string;
  /** Short column label for tables. */
  label: string;
  /** Longer label for prose and comparison tables. */
  title: string;
  /** Unit suffix for prose, may be empty. */
  unit: string;
  better: Better;
  get(row: TransportResult): number | undefined;
  format(v: number): string;
}

const lat = (k: 'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'mean') => (r: TransportResult) => num(r.latencyMs?.[k]);

/** Every per-row figure, in table order. */
export const FIGURES: readonly FigureDef[] = [
  { key: 'latencyMs.p50', label: 'p50 ms', title: 'latency p50', unit: 'ms', better: 'lower', get: lat('p50'), format: fmtSig },
  { key: 'latencyMs.p90', label: 'p90 ms', title: 'latency p90', unit: 'ms', better: 'lower', get: lat('p90'), format: fmtSig },
  { key: 'latencyMs.p99', label: 'p99 ms', title: 'latency p99', unit: 'ms', better: 'lower', get: lat('p99'), format: fmtSig },
  { key: 'latencyMs.p999', label: 'p99.9 ms', title: 'latency p99.9', unit: 'ms', better: 'lower', get: lat('p999'), format: fmtSig },
  { key: 'latencyMs.max', label: 'max ms', title: 'latency max', unit: 'ms', better: null, get: lat('max'), format: fmtSig },
  { key: 'throughput.messagesPerSec', label: 'msgs/s', title: 'delivered messages per second', unit: 'msg/s', better: 'higher', get: (r) => num(r.throughput?.messagesPerSec), format: fmtSig },
  { key: 'throughput.payloadBytesPerSec', label: 'payload MiB/s', title: 'payload per second', unit: 'MiB/s', better: 'higher', get: (r) => num(r.throughput?.payloadBytesPerSec), format: (v) => fmtSig(v / 1048576) },
  { key: 'messages.sent', label: 'sent', title: 'messages owed', unit: '', better: null, get: (r) => num(r.messages?.sent), format: fmtInt },
  { key: 'messages.delivered', label: 'delivered', title: 'messages delivered', unit: '', better: null, get: (r) => num(r.messages?.delivered), format: fmtInt },
  { key: 'messages.lost', label: 'lost', title: 'messages lost', unit: '', better: 'lower', get: (r) => num(r.messages?.lost), format: fmtInt },
  { key: 'wire.bytesPerMessage', label: 'B/msg', title: 'wire bytes per delivered message', unit: 'B', better: 'lower', get: bytesPerMessage, format: fmtSig },
  { key: 'wire.payloadPerMessage', label: 'payload B/msg', title: 'payload bytes per delivered message', unit: 'B', better: null, get: payloadPerMessage, format: fmtSig },
  { key: 'wire.overheadBytesPerMessage', label: 'ovh B/msg', title: 'overhead bytes per delivered message', unit: 'B', better: 'lower', get: (r) => num(r.wire?.overheadBytesPerMessage), format: fmtSig },
  { key: 'wire.requests', label: 'requests', title: 'HTTP requests or handshakes', unit: '', better: 'lower', get: (r) => num(r.wire?.requests), format: fmtInt },
  { key: 'server.cpuMs', label: 'srv CPU ms', title: 'server CPU time', unit: 'ms', better: 'lower', get: (r) => num(r.server?.cpuMs), format: fmtInt },
  { key: 'server.rssMaxBytes', label: 'RSS MiB', title: 'server peak RSS', unit: 'MiB', better: 'lower', get: (r) => num(r.server?.rssMaxBytes), format: fmtMiB },
  { key: 'derived.messagesPerServerCpuSec', label: 'msgs/CPU-s', title: 'messages per server CPU second', unit: 'msg', better: 'higher', get: messagesPerServerCpuSec, format: fmtSig },
  { key: 'client.cpuPct', label: 'client CPU %', title: 'load client CPU', unit: '%', better: null, get: (r) => num(r.client?.cpuPct), format: (v) => fmtFixed(v, 0) },
  { key: 'extra.detectMs', label: 'detect ms', title: 'dead-peer detection time', unit: 'ms', better: 'lower', get: (r) => readDeadPeer(r.extra)?.detectMs, format: fmtInt },
  { key: 'extra.requestsPerSec', label: 'req/s', title: 'HTTP requests per second (autocannon)', unit: 'req/s', better: 'higher', get: (r) => readHttpSaturation(r.extra)?.requestsPerSec, format: fmtSig },
  { key: 'extra.payloadMBps', label: 'MB/s', title: 'payload MB per second', unit: 'MB/s', better: 'higher', get: (r) => readThroughputExtra(r.extra)?.payloadMBps, format: fmtSig },
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

/** The scenario-specific figure of a row in a few words, or '' when it has none. */
export function extraSummary(row: TransportResult): string {
  const parts: string[] = [];
  const dp = readDeadPeer(row.extra);
  if (dp) parts.push(`detect ${fmtInt(dp.detectMs)} ms`);
  const hs = readHttpSaturation(row.extra);
  if (hs?.requestsPerSec !== undefined) parts.push(`${fmtSig(hs.requestsPerSec)} req/s`);
  const th = readThroughputExtra(row.extra);
  if (th?.payloadMBps !== undefined) parts.push(`${fmtSig(th.payloadMBps)} MB/s`);
  const conn = readConnectionsSteps(row.extra);
  const last = conn?.[conn.length - 1];
  if (last) parts.push(`${fmtBytes(last.rssPerConnBytes)}/conn at ${fmtInt(last.connections)}`);
  const fan = readFanOutSteps(row.extra);
  const top = fan?.[fan.length - 1];
  if (top) parts.push(`p99 ${fmtSig(top.p99)} ms at N=${fmtInt(top.n)}`);
  const mode = readEchoMode(row.extra);
  if (mode) parts.push(mode);
  return parts.join(', ');
}

/** One column of the compact per-scenario table shared by the terminal, HTML and Markdown. */
export interface SummaryColumn {
  head: string;
  /** Figure key, or a pseudo key for composite cells. */
  key: string;
  cell(row: TransportResult): string;
  /** Text column (left-aligned); numeric columns are right-aligned. */
  text?: boolean;
  /** Shown even when every row is empty. */
  always?: boolean;
}

const figCol = (head: string, key: string): SummaryColumn => ({ head, key, cell: (r) => formatFigure(r, key) });

/** Every column of the compact table, in order. */
export const SUMMARY_COLUMNS: readonly SummaryColumn[] = [
  { head: 'transport', key: 'transport', cell: (r) => r.transport, text: true, always: true },
  { head: 'state', key: 'state', cell: (r) => r.state, text: true, always: true },
  figCol('p50 ms', 'latencyMs.p50'),
  figCol('p99 ms', 'latencyMs.p99'),
  figCol('p99.9 ms', 'latencyMs.p999'),
  figCol('msgs/s', 'throughput.messagesPerSec'),
  { head: 'delivered/sent', key: 'messages.deliveredOfSent', cell: (r) => deliveredOfSent(r) },
  figCol('lost', 'messages.lost'),
  figCol('B/msg', 'wire.bytesPerMessage'),
  figCol('ovh B/msg', 'wire.overheadBytesPerMessage'),
  figCol('requests', 'wire.requests'),
  figCol('srv CPU ms', 'server.cpuMs'),
  figCol('RSS MiB', 'server.rssMaxBytes'),
  { head: 'scenario figure', key: 'extra', cell: (r) => extraSummary(r) || '–', text: true },
  { head: 'flags', key: 'flags', cell: (r) => clientBoundCell(r), text: true },
];

/** A cell of the compact table; errored rows show only their name and state. */
export function summaryCell(col: SummaryColumn, row: TransportResult): string {
  if (row.state === 'errored' && col.key !== 'transport' && col.key !== 'state' && col.key !== 'flags') return '–';
  return col.cell(row);
}

/** The columns worth printing for these rows: those with at least one value. */
export function summaryColumns(rows: readonly TransportResult[]): SummaryColumn[] {
  return SUMMARY_COLUMNS.filter((c) => c.always || rows.some((r) => {
    const v = summaryCell(c, r);
    return v !== '–' && v !== '';
  }));
}

/** "delivered/sent" as one cell. */
export function deliveredOfSent(row: TransportResult): string {
  if (!row.messages) return '–';
  return `${fmtInt(row.messages.delivered)}/${fmtInt(row.messages.sent)}`;
}

/** The client-bound flag as a short cell. */
export function clientBoundCell(row: TransportResult): string {
  if (!row.client) return '';
  return row.client.clientBound ? `client-bound (${fmtFixed(row.client.cpuPct, 0)}%)` : '';
}

// ---------------------------------------------------------------------------
// Scenario parameters in words.

/** A parameter value as a short string. */
export function fmtParam(v: unknown): string {
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v) && v.every((e) => typeof e !== 'object' || e === null)) return v.map(fmtParam).join(', ');
  return JSON.stringify(v);
}

/** Parameters shown in the params table: scalars and short lists; nested objects get their own tables. */
export function simpleParams(params: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(params)) {
    if (k === 'capacity' || k === 'crossovers' || k === 'extrapolated') continue;
    out.push([k, fmtParam(v)]);
  }
  return out;
}

function pickNum(params: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = num(params[k]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A short description of the load: "at 50 msg/s to 50 clients, polling every 1 s". */
export function loadInWords(s: ScenarioResult): string {
  const p = s.params;
  const rate = pickNum(p, ['ratePerSec', 'rate', 'messagesPerSec', 'ratePerClient', 'publishRate']);
  const clients = pickNum(p, ['clients', 'subscribers', 'connections']);
  const poll = pickNum(p, ['pollIntervalMs', 'pollMs', 'pollingIntervalMs']);
  const size = pickNum(p, ['sizeBytes', 'payloadBytes', 'messageBytes', 'size']);
  const who = [rate !== undefined ? `${fmtNum(rate)} msg/s` : '', clients !== undefined ? `${fmtInt(clients)} client${clients === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(' to ');
  const parts: string[] = [];
  if (who) parts.push((rate !== undefined ? 'at ' : 'with ') + who);
  if (size !== undefined) parts.push(`${fmtInt(size)} B messages`);
  if (poll !== undefined) parts.push(`polling every ${fmtDuration(poll)}`);
  const out = parts.join(', ');
  return out;
}

// ---------------------------------------------------------------------------
// Findings in plain words.

/** One plain-words finding. `warn` and `error` are flags a reader must not miss. */
export interface Finding {
  level: 'info' | 'warn' | 'error';
  scenario?: string;
  text: string;
}

function completedWith(rows: readonly TransportResult[], get: (r: TransportResult) => number | undefined) {
  const out: { row: TransportResult; v: number }[] = [];
  for (const row of rows) {
    if (!isCompleted(row)) continue;
    const v = get(row);
    if (v !== undefined) out.push({ row, v });
  }
  return out;
}

/** Findings computed from the figures, in reading order. */
export function computeFindings(results: Results): Finding[] {
  const out: Finding[] = [];
  const allRows = results.scenarios.flatMap((s) => s.results);
  if (results.scenarios.length === 0) {
    out.push({ level: 'error', text: 'The results file holds no scenarios; nothing was measured.' });
    return out;
  }
  if (allRows.length > 0 && allRows.every((r) => !isCompleted(r))) {
    out.push({ level: 'error', text: `Every transport in every scenario errored (${allRows.length} of ${allRows.length} rows); no figures were measured.` });
  }

  for (const s of results.scenarios) {
    const rows = orderedRows(s.results);
    const where = loadInWords(s);

    // Wire cost against the WebSocket engine (or ws when the engine did not run).
    const bpm = completedWith(rows, bytesPerMessage);
    const ref = bpm.find((x) => x.row.transport === 'websocket') ?? bpm.find((x) => x.row.transport === 'ws');
    if (ref && ref.v > 0) {
      const others = bpm.filter((x) => x.row.transport !== 'websocket' && x.row.transport !== 'ws' && x.v > 0);
      if (others.length > 0) {
        const refName = ref.row.transport === 'websocket' ? 'the WebSocket engine' : 'ws';
        const list = others.map((x, i) =>
          i === 0
            ? `${x.row.transport} spent ${fmtSig(x.v)} bytes on the wire per delivered message, ${fmtRatio(x.v / ref.v)} ${refName} (${fmtSig(ref.v)} bytes)`
            : `${x.row.transport} ${fmtSig(x.v)} (${fmtRatio(x.v / ref.v)})`,
        );
        out.push({ level: 'info', scenario: s.name, text: `${s.name}: ${where ? where + ', ' : ''}${list.join('; ')}.` });
      }
    }

    // Lowest and highest p99.
    const p99 = completedWith(rows, (r) => num(r.latencyMs?.p99));
    if (p99.length > 0) {
      const best = p99.reduce((a, b) => (b.v < a.v ? b : a));
      const worst = p99.reduce((a, b) => (b.v > a.v ? b : a));
      let text = `${s.name}: lowest p99: ${best.row.transport} (${fmtSig(best.v)} ms)`;
      if (worst.row !== best.row) text += `; highest: ${worst.row.transport} (${fmtSig(worst.v)} ms)`;
      out.push({ level: 'info', scenario: s.name, text: text + '.' });
    }

    // The engine against ws, per server CPU second (where framing cost shows).
    const eng = rows.find((r) => r.transport === 'websocket' && isCompleted(r));
    const wsRow = rows.find((r) => r.transport === 'ws' && isCompleted(r));
    if (eng && wsRow) {
      const a = messagesPerServerCpuSec(eng);
      const b = messagesPerServerCpuSec(wsRow);
      if (a !== undefined && b !== undefined && b > 0) {
        out.push({
          level: 'info',
          scenario: s.name,
          text: `${s.name}: the WebSocket engine delivered ${fmtSig(a)} messages per server CPU second, ${fmtRatio(a / b)} ws (${fmtSig(b)}).`,
        });
      }
    }

    // Fan-out capacity.
    const cap = readFanOutCapacity(s.params);
    if (cap) {
      const list = Object.entries(cap.largestN)
        .sort((x, y) => y[1] - x[1])
        .map(([t, n]) => `${t} ${fmtInt(n)}`)
        .join(', ');
      if (list) out.push({ level: 'info', scenario: s.name, text: `${s.name}: largest N with p99 under ${fmtSig(cap.limitMs)} ms: ${list}.` });
    }

    // Overhead crossovers.
    for (const c of readCrossovers(s.params) ?? []) {
      out.push({
        level: 'info',
        scenario: s.name,
        text: `${s.name}: ${c.a} and ${c.b} cost the same bytes per message at ${fmtNum(c.ratePerClient)} msg/s per client for ${fmtInt(c.sizeBytes)} B messages.`,
      });
    }

    // Dead-peer detection.
    const det = completedWith(rows, (r) => readDeadPeer(r.extra)?.detectMs);
    if (det.length > 0) {
      const best = det.reduce((a, b) => (b.v < a.v ? b : a));
      out.push({ level: 'info', scenario: s.name, text: `${s.name}: fastest dead-peer detection: ${best.row.transport} (${fmtDuration(best.v)}).` });
    }

    // Loss.
    for (const r of rows) {
      if (isCompleted(r) && r.messages && r.messages.lost > 0) {
        out.push({
          level: 'warn',
          scenario: s.name,
          text: `${s.name}/${r.transport} lost ${fmtInt(r.messages.lost)} of ${fmtInt(r.messages.sent)} messages.`,
        });
      }
    }

    // Client-bound runs.
    for (const r of rows) {
      if (r.client?.clientBound) {
        out.push({
          level: 'warn',
          scenario: s.name,
          text: `${s.name}/${r.transport}: the load client was the bottleneck (client CPU ${fmtFixed(r.client.cpuPct, 0)}%), so these figures understate what the server can do.`,
        });
      }
    }

    // Errors.
    for (const r of rows) {
      if (!isCompleted(r)) {
        out.push({ level: 'error', scenario: s.name, text: `${s.name}/${r.transport} errored: ${r.error ?? 'no reason given'}.` });
      }
    }
    if (rows.length > 0 && rows.every((r) => !isCompleted(r)) && !allRows.every((r) => !isCompleted(r))) {
      out.push({ level: 'error', scenario: s.name, text: `${s.name}: every transport errored; this scenario has no figures.` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Baseline comparison.

/** Default tolerance for a figure without repeat spread, percent. */
export const DEFAULT_TOLERANCE_PCT = 10;

/** How a compared figure moved. */
export type Verdict = 'regression' | 'improvement' | 'within' | 'changed';

/** One figure compared against the baseline. */
export interface ComparisonRow {
  scenario: string;
  transport: string;
  key: string;
  title: string;
  value: number;
  baseline: number;
  /** Formatted value and baseline (same formatter as the tables). */
  valueText: string;
  baselineText: string;
  /** (value − baseline) / baseline × 100; ±Infinity when the baseline is 0 and the value is not. */
  deltaPct: number;
  /** Tolerance used, percent, and where it came from. */
  tolerancePct: number;
  toleranceFrom: 'spread' | 'default';
  verdict: Verdict;
}

/** A transport that completed in the baseline and errored now (or the reverse). */
export interface StateChange {
  scenario: string;
  transport: string;
  from: TransportResult['state'];
  to: TransportResult['state'];
  error: string | null;
}

/** The whole comparison. */
export interface Comparison {
  rows: ComparisonRow[];
  stateChanges: StateChange[];
  regressions: number;
  improvements: number;
}

/** Relative width of a repeat spread, percent of the value. */
function spreadPct(row: TransportResult, key: string, value: number): number | undefined {
  const s = readSpread(row.extra)?.[key];
  if (!s || value === 0) return undefined;
  return (Math.abs(s.max - s.min) / Math.abs(value)) * 100;
}

/**
 * Compares every figure with a direction present in both runs. The tolerance
 * for a figure is the wider relative repeat spread (`extra.spread[key]`, max −
 * min over value) of the two runs, or DEFAULT_TOLERANCE_PCT without one; a move
 * the wrong way beyond it is a regression.
 */
export function compareResults(current: Results, baseline: Results, defaultTolerancePct = DEFAULT_TOLERANCE_PCT): Comparison {
  const rows: ComparisonRow[] = [];
  const stateChanges: StateChange[] = [];
  for (const s of current.scenarios) {
    const bs = baseline.scenarios.find((x) => x.name === s.name);
    if (!bs) continue;
    for (const r of orderedRows(s.results)) {
      const br = bs.results.find((x) => x.transport === r.transport);
      if (!br) continue;
      if (br.state !== r.state) {
        stateChanges.push({ scenario: s.name, transport: r.transport, from: br.state, to: r.state, error: r.error });
      }
      if (!isCompleted(r) || !isCompleted(br)) continue;
      for (const f of FIGURES) {
        if (f.better === null) continue;
        const v = f.get(r);
        const b = f.get(br);
        if (v === undefined || b === undefined) continue;
        const deltaPct = b === 0 ? (v === 0 ? 0 : v > 0 ? Infinity : -Infinity) : ((v - b) / Math.abs(b)) * 100;
        const spreads = [spreadPct(r, f.key, v), spreadPct(br, f.key, b)].filter((x): x is number => x !== undefined);
        const tolerancePct = spreads.length > 0 ? Math.max(...spreads) : defaultTolerancePct;
        const worse = f.better === 'lower' ? deltaPct > tolerancePct : deltaPct < -tolerancePct;
        const betterMove = f.better === 'lower' ? deltaPct < -tolerancePct : deltaPct > tolerancePct;
        rows.push({
          scenario: s.name,
          transport: r.transport,
          key: f.key,
          title: f.title,
          value: v,
          baseline: b,
          valueText: f.format(v),
          baselineText: f.format(b),
          deltaPct,
          tolerancePct,
          toleranceFrom: spreads.length > 0 ? 'spread' : 'default',
          verdict: worse ? 'regression' : betterMove ? 'improvement' : 'within',
        });
      }
    }
  }
  const regressions = rows.filter((r) => r.verdict === 'regression').length + stateChanges.filter((c) => c.to === 'errored').length;
  const improvements = rows.filter((r) => r.verdict === 'improvement').length;
  return { rows, stateChanges, regressions, improvements };
}

/** A verdict as a short mark for text outputs. */
export function verdictMark(v: Verdict): string {
  switch (v) {
    case 'regression':
      return 'REGRESSION';
    case 'improvement':
      return 'better';
    case 'within':
      return '';
    case 'changed':
      return 'changed';
  }
}
