/**
 * Number formatting, row states and the figures derived from a row: the
 * pieces every part of the report (run-wide figures, scenario facets, the
 * back ends) shares, so the same field prints the same string everywhere.
 */

import type { TransportResult } from '../metrics/results.ts';
import { transports } from '../transports/index.ts';

// ---------------------------------------------------------------------------
// Untrusted values.

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The finite numbers of a list, or undefined when it is not a list or holds none. */
export function numList(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return out.length > 0 ? out : undefined;
}

// ---------------------------------------------------------------------------
// Rows: order and state.

/** Rows in the registry's transport order (unknown names last, in file order). */
export function orderedRows(rows: readonly TransportResult[]): TransportResult[] {
  const order = transports().map((t) => t.name);
  const rank = (t: string): number => {
    const i = order.indexOf(t);
    return i < 0 ? order.length : i;
  };
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r.transport) - rank(b.r.transport) || a.i - b.i)
    .map((x) => x.r);
}

/** True when the row carries measured figures. */
export function isCompleted(row: TransportResult): boolean {
  return row.state === 'completed';
}

/**
 * True when the scenario does not apply to the row's transport: state `n/a`, or
 * (as version 1 files wrote it) errored and marked `extra.skipped`. Shown as n/a, not as a failure.
 */
export function isNotApplicable(row: TransportResult): boolean {
  if ((row.state as string) === 'n/a') return true;
  const extra: unknown = row.extra;
  return row.state === 'errored' && typeof extra === 'object' && extra !== null && (extra as Record<string, unknown>)['skipped'] === true;
}

/** True when the row really failed: errored and not merely not applicable. */
export function isFailed(row: TransportResult): boolean {
  return row.state === 'errored' && !isNotApplicable(row);
}

/** The state as shown: completed, errored, or n/a for a scenario that does not apply. */
export function stateLabel(row: TransportResult): string {
  return isNotApplicable(row) ? 'n/a' : row.state;
}

/** Why a row is not applicable, without the runner's "not applicable: " prefix. */
export function notApplicableReason(row: TransportResult): string {
  return (row.error ?? 'does not apply to this transport').replace(/^not applicable:\s*/i, '');
}

/** Completed rows that have a value for `get`, each with its value. */
export function completedWith(rows: readonly TransportResult[], get: (r: TransportResult) => number | undefined): { row: TransportResult; v: number }[] {
  const out: { row: TransportResult; v: number }[] = [];
  for (const row of rows) {
    if (!isCompleted(row)) continue;
    const v = get(row);
    if (v !== undefined) out.push({ row, v });
  }
  return out;
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

/** A parameter value as a short string. */
export function fmtParam(v: unknown): string {
  if (typeof v === 'number') return fmtNum(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v) && v.every((e) => typeof e !== 'object' || e === null)) return v.map(fmtParam).join(', ');
  return JSON.stringify(v);
}

/** Items in words: "a", "a and b", "a, b and c". */
export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
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
