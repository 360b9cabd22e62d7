/**
 * The compact terminal table printed after a run: one block per scenario, one
 * line per transport. Numbers come from figures.ts, like the HTML and Markdown.
 */

import type { Results } from '../metrics/results.ts';
import { scenarioDetails } from './details.ts';
import {
  compareResults,
  computeFindings,
  isFailed,
  isNotApplicable,
  notApplicableReason,
  fmtDeltaPct,
  fmtFixed,
  loadInWords,
  orderedRows,
  summaryCell,
  summaryColumns,
  verdictMark,
} from './figures.ts';

function pad(s: string, width: number, left: boolean): string {
  const gap = ' '.repeat(Math.max(0, width - [...s].length));
  return left ? s + gap : gap + s;
}

/** Lays out rows of cells as aligned text columns, with a dashed rule under the head. */
export function layoutColumns(head: string[], body: string[][], leftAligned: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max([...h].length, ...body.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, leftAligned[i] ?? false))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

/** The compact terminal table for a whole run; with a baseline, its comparison follows. */
export function renderTable(results: Results, opts: { baseline?: Results } = {}): string {
  const out: string[] = [];
  for (const s of results.scenarios) {
    const load = loadInWords(s);
    out.push(`== ${s.name}${load ? ` (${load})` : ''}`);
    const rows = orderedRows(s.results);
    if (rows.length === 0) {
      out.push('  no transport rows', '');
      continue;
    }
    const cols = summaryColumns(rows);
    const body = rows.map((r) => cols.map((c) => summaryCell(c, r)));
    out.push(...layoutColumns(cols.map((c) => c.head), body, cols.map((c) => c.text === true)).map((l) => '  ' + l));
    for (const r of rows) {
      if (isFailed(r)) out.push(`  ! ${r.transport} errored: ${r.error ?? 'no reason given'}`);
      else if (isNotApplicable(r)) out.push(`  - ${r.transport}: not applicable: ${notApplicableReason(r)}`);
    }
    for (const d of scenarioDetails(s)) {
      out.push('', `  ${d.title}`);
      out.push(...layoutColumns(d.head, d.rows, d.text).map((l) => '    ' + l));
      for (const n of d.notes) out.push(`    * ${n}`);
    }
    out.push('');
  }
  if (results.scenarios.length === 0) out.push('No scenarios in this results file.', '');

  for (const f of computeFindings(results)) {
    if (f.level !== 'info' && f.scenario === undefined) out.push(`! ${f.text}`);
  }

  if (opts.baseline) out.push(...renderComparisonText(results, opts.baseline));
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

/** The baseline comparison as text lines: every figure beyond tolerance, then a count of the rest. */
export function renderComparisonText(results: Results, baseline: Results): string[] {
  const cmp = compareResults(results, baseline);
  const out: string[] = [];
  out.push(`== compared with baseline (started ${baseline.meta.startedAt}${baseline.meta.git ? `, git ${baseline.meta.git.slice(0, 10)}` : ''})`);
  out.push(`  ${cmp.regressions} regression(s), ${cmp.improvements} improvement(s) beyond tolerance`);
  for (const c of cmp.stateChanges) {
    out.push(`  ${c.to === 'errored' ? 'REGRESSION' : 'fixed'}: ${c.scenario}/${c.transport} ${c.from} → ${c.to}${c.error ? ` (${c.error})` : ''}`);
  }
  if (cmp.rows.length === 0) {
    out.push('  no figure present in both runs');
    return out;
  }
  const moved = cmp.rows
    .filter((r) => r.verdict !== 'within')
    .sort((a, b) => Number(b.verdict === 'regression') - Number(a.verdict === 'regression'));
  if (moved.length > 0) {
    const head = ['scenario', 'transport', 'figure', 'value', 'baseline', 'delta', 'tolerance', 'verdict'];
    const body = moved.map((r) => [
      r.scenario,
      r.transport,
      r.title,
      r.valueText,
      r.baselineText,
      fmtDeltaPct(r.deltaPct),
      `±${fmtFixed(r.tolerancePct, 1)}%${r.toleranceFrom === 'spread' ? ' (repeats)' : ''}`,
      verdictMark(r.verdict),
    ]);
    out.push(...layoutColumns(head, body, [true, true, true, false, false, false, false, true]).map((l) => '  ' + l));
  }
  out.push(`  ${cmp.rows.length - moved.length} of ${cmp.rows.length} compared figures within tolerance`);
  return out;
}
