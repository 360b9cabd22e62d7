/**
 * The report document as Markdown, for a pull-request comment: the comparison
 * with a baseline first (regressions are what a reviewer looks for), then the
 * findings, then every scenario with all its tables; a chart becomes its
 * numbers table, and long tables fold away in <details>.
 */

import type { Results } from '../metrics/results.ts';
import type { Block, Cell, ReportDoc, Section, TableBlock } from '../report-model/doc.ts';
import { buildReport } from './build.ts';
import { textCells } from './table.ts';
import type { BuildOptions } from './build.ts';

/** Escapes a table cell: pipes and line breaks would break the row. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A cell's text; a figure marked bad (a regression, an error) is bold. */
function cellText(c: Cell): string {
  const t = cell(c.text);
  return c.mark === 'bad' && t !== '' ? `**${t}**` : t;
}

function mdTable(t: TableBlock): string {
  const head = t.columns.map((c) => cell(c.label));
  const sep = t.columns.map((c) => (c.text ? '---' : '---:'));
  return [head, sep, ...t.rows.map((r) => r.map(cellText))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function folded(summary: string, body: string[]): string[] {
  return [`<details><summary>${summary.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</summary>`, '', ...body, '', '</details>', ''];
}

/** A phrase as a sentence: capital first letter, full stop. */
function sentence(s: string): string {
  const t = s[0]!.toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function blockLines(b: Block): string[] {
  switch (b.kind) {
    case 'text':
      return [b.role === 'load' ? sentence(b.text) : b.text, ''];
    case 'list':
      return [...b.items.map((it) => `- ${it.label ? (it.level === 'error' ? `**${cell(it.label)}** ` : `${cell(it.label)} `) : ''}${cell(it.text)}`), ''];
    case 'table': {
      const body = [mdTable(b), '', ...(b.notes ?? []).map((n) => `- ${cell(n)}`), ...(b.notes?.length ? [''] : [])];
      if (b.fold) return folded(b.title ?? 'Table', body.slice(0, -1));
      return [...(b.title && b.key !== 'summary' ? [`#### ${b.title}`, ''] : []), ...body];
    }
    case 'chart':
      return folded(`Chart: ${b.title}`, [
        b.caption,
        '',
        mdTable(b.table),
        ...(b.more ?? []).flatMap((t) => ['', `${t.title ?? 'More numbers'}:`, '', mdTable(t)]),
      ]);
  }
}

function sectionLines(s: Section, level: string): string[] {
  const out = [`${level} ${s.title}`, ''];
  const lead = s.blocks.filter((b) => b.kind === 'text' && b.role === 'load');
  for (const b of lead) out.push(...blockLines(b));
  if (s.params.length > 0) out.push(...folded('Parameters', [s.params.map(([k, v]) => `${k} = ${cell(v)}`).join('; ')]));
  for (const b of s.blocks) if (!lead.includes(b)) out.push(...blockLines(b));
  if (s.comparison) out.push(`#### ${s.comparison.title}`, '', ...s.comparison.blocks.flatMap(blockLines));
  return out;
}

/** The anchor GitHub gives a heading of this text (the scenario sections are headed by their name). */
function headingAnchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** The document as Markdown. */
function renderDocMarkdown(doc: ReportDoc): string {
  const out: string[] = [`## ${doc.title}`, '', doc.subtitle, ''];
  if (doc.matrix) {
    const m = doc.matrix;
    const { rows, footnotes } = textCells(m, (text, mark) => (mark === 'best' ? `**${text}** (best)` : `${text} (tie)`));
    const head = m.columns.map((c) => cell(c.label));
    const sep = m.columns.map((c) => (c.text ? '---' : '---:'));
    out.push(`### ${m.title ?? 'Decision matrix'}`, '');
    out.push([head, sep, ...rows.map((r) => r.map((x) => cell(x)))].map((r) => `| ${r.join(' | ')} |`).join('\n'), '');
    out.push(...(m.notes ?? []).map((n) => `- ${cell(n)}`), '');
    if (footnotes.length > 0) out.push(...footnotes.map((f) => `${cell(f)}  `), '');
  }
  const env: TableBlock = {
    kind: 'table',
    key: 'environment',
    columns: [
      { label: '', text: true },
      { label: '', text: true },
    ],
    rows: doc.environment.map(([k, v]) => [{ text: k }, { text: v }]),
  };
  if (doc.comparison) out.push(...sectionLines(doc.comparison, '###'));
  if (doc.findingGroups.length > 0) {
    out.push('### Findings', '');
    for (const g of doc.findingGroups) {
      out.push(`#### ${g.title}`, '');
      for (const f of g.items)
        out.push(
          `- ${f.level === 'error' ? '**Error:** ' : f.level === 'warn' ? '**Note:** ' : ''}${f.text}${f.anchor && f.scenario ? ` ([${f.scenario}](#${headingAnchor(f.scenario)}))` : ''}`,
        );
      out.push('');
    }
  }
  out.push(...folded('Run environment', [mdTable(env)]));
  out.push('> **How to read these figures**', '>', ...doc.howToRead.map((t) => `> - ${t}`), '');
  for (const s of doc.sections) out.push(...sectionLines(s, '###'));
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

/** The Markdown report of a run; with a baseline, the comparison leads so regressions are seen first. */
export function renderMarkdown(results: Results, opts: BuildOptions = {}): string {
  return renderDocMarkdown(buildReport(results, opts));
}
