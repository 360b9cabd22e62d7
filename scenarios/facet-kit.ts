/** Small pieces the scenario facets share: parameters in words, rows with their parsed figures, detail tables. */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { TableBlock } from '../report-model/doc.ts';
import type { MatrixCell } from '../report-model/facet.ts';
import { fmtInt, isCompleted, isNotApplicable, notApplicableReason, num, orderedRows } from '../report-model/format.ts';
import type { TrialRange } from '../report-model/trials.ts';

/** A figure measured once: its own range. */
export function oneTrial(v: number): TrialRange {
  return { median: v, min: v, max: v, trials: 1 };
}

/**
 * Matrix cells of a scenario, one per row: `value` for a completed row, the
 * reason for a row that did not apply or errored, `missing` when a completed
 * row has no such figure.
 */
export function matrixCells(
  s: ScenarioResult,
  value: (r: TransportResult) => { range: TrialRange; text: string } | undefined,
  missing = 'this run has no such figure',
): Record<string, MatrixCell> {
  const out: Record<string, MatrixCell> = {};
  for (const r of orderedRows(s.results)) {
    if (isNotApplicable(r)) out[r.transport] = { na: `not applicable: ${notApplicableReason(r)}` };
    else if (!isCompleted(r)) out[r.transport] = { na: `errored: ${r.error ?? 'no reason given'}` };
    else out[r.transport] = value(r) ?? { na: missing };
  }
  return out;
}

/** Detail tables longer than this fold away under their notes, which already say what matters. */
const FOLD_ROWS = 12;

/** A numeric parameter of a scenario, or undefined. */
export function param(s: ScenarioResult, key: string): number | undefined {
  return num(s.params[key]);
}

/** The parts that are there, joined with commas. */
export function joinParts(...parts: (string | false | undefined)[]): string {
  return parts.filter((x): x is string => typeof x === 'string' && x !== '').join(', ');
}

/** "64 B messages" from the `size` parameter, or ''. */
export function sizeText(s: ScenarioResult): string {
  const size = param(s, 'size');
  return size !== undefined ? `${fmtInt(size)} B messages` : '';
}

/** Completed rows, in report order, with what `read` finds in each (rows where it finds nothing are left out). */
export function rowsWith<T>(s: ScenarioResult, read: (extra: unknown) => T | undefined): { r: TransportResult; x: T }[] {
  const out: { r: TransportResult; x: T }[] = [];
  for (const r of orderedRows(s.results)) {
    if (!isCompleted(r)) continue;
    const x = read(r.extra);
    if (x !== undefined) out.push({ r, x });
  }
  return out;
}

/** A detail table: a header, rows of plain text, which columns are text, and notes under it. */
export function detailTable(
  key: string,
  title: string,
  head: readonly string[],
  text: readonly boolean[],
  rows: readonly (readonly string[])[],
  notes: string[],
): TableBlock {
  return {
    kind: 'table',
    key,
    title,
    columns: head.map((label, i) => ({ label, ...(text[i] ? { text: true } : {}) })),
    rows: rows.map((row) => row.map((t) => ({ text: t }))),
    rowKeys: rows.map((row) => row[0] ?? ''),
    notes,
    ...(rows.length > FOLD_ROWS ? { fold: true } : {}),
  };
}
