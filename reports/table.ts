/**
 * The report document as terminal text, printed after a run: per scenario its
 * summary table, the errored and not-applicable rows, its detail tables; then
 * the run-wide flags, then the comparison with a baseline where the eye lands
 * last. Charts and their numbers stay in the HTML and the Markdown.
 */

import type { Results } from '../metrics/results.ts';
import type { Block, ReportDoc, Section, TableBlock } from '../report-model/doc.ts';
import { buildReport } from './build.ts';
import type { BuildOptions } from './build.ts';

function pad(s: string, width: number, left: boolean): string {
  const gap = ' '.repeat(Math.max(0, width - [...s].length));
  return left ? s + gap : gap + s;
}

/** Lays out rows of cells as aligned text columns, with a dashed rule under the head. */
function layoutColumns(head: string[], body: string[][], leftAligned: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max([...h].length, ...body.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i] ?? 0, leftAligned[i] ?? false))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

function tableLines(t: TableBlock, indent: string): string[] {
  return layoutColumns(
    t.columns.map((c) => c.label),
    t.rows.map((r) => r.map((c) => c.text)),
    t.columns.map((c) => c.text === true),
  ).map((l) => indent + l);
}

/** The lines of a block in a scenario or the comparison; charts and plain notes are left to the page. */
function blockLines(b: Block): string[] {
  switch (b.kind) {
    case 'table':
      if (b.key === 'summary') return tableLines(b, '  ');
      return ['', ...(b.title ? [`  ${b.title}`] : []), ...tableLines(b, '    '), ...(b.notes ?? []).map((n) => `    * ${n}`)];
    case 'list':
      return b.items.map((it) => `  ${it.level === 'error' ? '!' : '-'} ${it.label ? `${it.label} ` : ''}${it.text}`);
    case 'text':
      return b.role === 'empty' ? [`  ${b.text}`] : [];
    case 'chart':
      return [];
  }
}

function sectionLines(s: Section): string[] {
  const load = s.blocks.find((b) => b.kind === 'text' && b.role === 'load');
  return [`== ${s.title}${load?.kind === 'text' ? ` (${load.text})` : ''}`, ...s.blocks.flatMap(blockLines), ''];
}

function comparisonLines(s: Section): string[] {
  const out = [`== ${s.title.toLowerCase()}`];
  for (const b of s.blocks) {
    if (b.kind === 'text') out.push(`  ${b.text}`);
    else if (b.kind === 'table') out.push(...tableLines(b, '  '));
    else out.push(...blockLines(b));
  }
  return out;
}

/** The document as terminal text. */
function renderDocText(doc: ReportDoc): string {
  const out: string[] = doc.sections.flatMap(sectionLines);
  for (const f of doc.findings) {
    if (f.level !== 'info' && f.scenario === undefined) out.push(`! ${f.text}`);
  }
  if (doc.comparison) out.push(...comparisonLines(doc.comparison));
  out.push('', 'How to read these figures:', ...doc.howToRead.map((t) => `  - ${t}`));
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

/** The terminal text of a run; with a baseline, its comparison follows. */
export function renderTable(results: Results, opts: BuildOptions = {}): string {
  return renderDocText(buildReport(results, opts));
}
