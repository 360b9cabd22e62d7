/**
 * A Markdown summary of a run for a pull-request comment: findings, one table
 * per scenario and, with a baseline, the figures that moved beyond tolerance.
 * Numbers come from figures.ts, like the terminal table and the HTML.
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
} from './figures.ts';

/** Escapes a table cell: pipes and line breaks would break the row. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(head: string[], rows: string[][], rightAligned: boolean[]): string {
  const sep = head.map((_, i) => (rightAligned[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(cell)).join(' | ')} |`).join('\n');
}

/** The Markdown summary; with a baseline, a comparison section leads so regressions are seen first. */
export function renderMarkdown(results: Results, opts: { baseline?: Results } = {}): string {
  const m = results.meta;
  const out: string[] = [];
  out.push(`## transport-lab results`);
  out.push('');
  out.push(`Run started ${m.startedAt}${m.git ? ` at \`${m.git.slice(0, 12)}\`` : ''} — Node ${m.node}, ${m.cpu} (${m.cores} cores), ${m.os}.`);
  out.push('');
  out.push(`Command: \`${m.command.replace(/`/g, "'")}\``);
  out.push('');

  if (opts.baseline) {
    const b = opts.baseline;
    const cmp = compareResults(results, b);
    out.push(`### Compared with baseline`);
    out.push('');
    out.push(`Baseline started ${b.meta.startedAt}${b.meta.git ? ` at \`${b.meta.git.slice(0, 12)}\`` : ''}: **${cmp.regressions} regression(s)**, ${cmp.improvements} improvement(s) beyond tolerance among ${cmp.rows.length} figures present in both runs (tolerance: repeat spread when known, else ±10%).`);
    out.push('');
    for (const c of cmp.stateChanges) {
      out.push(`- ${c.to === 'errored' ? ':x: **regression**' : ':white_check_mark: fixed'}: ${c.scenario}/${c.transport} ${c.from} → ${c.to}${c.error ? ` (${cell(c.error)})` : ''}`);
    }
    if (cmp.stateChanges.length > 0) out.push('');
    const moved = cmp.rows.filter((r) => r.verdict !== 'within').sort((a, z) => Number(z.verdict === 'regression') - Number(a.verdict === 'regression'));
    if (moved.length > 0) {
      out.push(
        mdTable(
          ['scenario', 'transport', 'figure', 'value', 'baseline', 'delta', 'tolerance', 'verdict'],
          moved.map((r) => [
            r.scenario,
            r.transport,
            r.title,
            r.valueText,
            r.baselineText,
            fmtDeltaPct(r.deltaPct),
            `±${fmtFixed(r.tolerancePct, 1)}%`,
            r.verdict === 'regression' ? '**REGRESSION**' : 'better',
          ]),
          [false, false, false, true, true, true, true, false],
        ),
      );
      out.push('');
    }
  }

  const findings = computeFindings(results);
  if (findings.length > 0) {
    out.push('### Findings');
    out.push('');
    for (const f of findings) out.push(`- ${f.level === 'error' ? '**Error:** ' : f.level === 'warn' ? '**Note:** ' : ''}${f.text}`);
    out.push('');
  }

  for (const s of results.scenarios) {
    const load = loadInWords(s);
    out.push(`### ${s.name}`);
    out.push('');
    if (load) {
      out.push(load[0]!.toUpperCase() + load.slice(1) + '.');
      out.push('');
    }
    const rows = orderedRows(s.results);
    if (rows.length === 0) {
      out.push('No transport ran in this scenario.');
      out.push('');
      continue;
    }
    const cols = summaryColumns(rows);
    out.push(mdTable(cols.map((c) => c.head), rows.map((r) => cols.map((c) => summaryCell(c, r))), cols.map((c) => c.text !== true)));
    out.push('');
    for (const r of rows) {
      if (isFailed(r)) out.push(`- **${r.transport} errored:** ${cell(r.error ?? 'no reason given')}`);
      else if (isNotApplicable(r)) out.push(`- ${r.transport}: not applicable: ${cell(notApplicableReason(r))}`);
    }
    if (rows.some((r) => r.state === 'errored')) out.push('');
    for (const d of scenarioDetails(s)) {
      out.push(`#### ${d.title}`, '');
      out.push(mdTable(d.head, d.rows, d.text.map((t) => !t)));
      out.push('');
      for (const n of d.notes) out.push(`- ${cell(n)}`);
      if (d.notes.length > 0) out.push('');
    }
  }
  return out.join('\n').replace(/\n+$/, '') + '\n';
}
