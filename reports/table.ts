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

/**
 * A table's cells as text with their marks spelled out ("4.07 ms (best)"),
 * and, when the table asks for it, the hover texts of n/a cells as numbered
 * footnotes ("n/a [1]" … "[1] reason"), the same reason sharing one number.
 */
export function textCells(t: TableBlock, decorate: (text: string, mark: 'best' | 'tie') => string): { rows: string[][]; footnotes: string[] } {
  const footnotes: string[] = [];
  const rows = t.rows.map((r) =>
    r.map((c) => {
      if (c.mark === 'best' || c.mark === 'tie') return decorate(c.text, c.mark);
      if (t.footnotes && c.mark === 'na' && c.title) {
        let k = footnotes.indexOf(c.title);
        if (k < 0) k = footnotes.push(c.title) - 1;
        return `${c.text} [${k + 1}]`;
      }
      return c.text;
    }),
  );
  return { rows, footnotes: footnotes.map((f, i) => `[${i + 1}] ${f}`) };
}

function tableLines(t: TableBlock, indent: string): string[] {
  return layoutColumns(
    t.columns.map((c) => c.label),
    t.rows.map((r) => r.map((c) => c.text)),
    t.columns.map((c) => c.text === true),
  ).map((l) => indent + l);
}

/** The decision matrix: marks in words, the verdicts, then the footnotes. */
function matrixLines(t: TableBlock): string[] {
  const { rows, footnotes } = textCells(t, (text, mark) => `${text} (${mark})`);
  return [
    `== ${t.title ?? 'Decision matrix'}`,
    ...layoutColumns(
      t.columns.map((c) => c.label),
      rows,
      t.columns.map((c) => c.text === true),
    ).map((l) => `  ${l}`),
    ...(t.notes ?? []).map((n) => `  * ${n}`),
    ...footnotes.map((f) => `  ${f}`),
    '',
  ];
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
  const out: string[] = [...(doc.matrix ? matrixLines(doc.matrix) : []), ...doc.sections.flatMap(sectionLines)];
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
