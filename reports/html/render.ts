/**
 * The report document → one self-contained index.html. Markup is written with
 * the `html` tag, which escapes every interpolated value unless the tag made
 * it, so text from a results file cannot become markup. chart.js's UMD build,
 * the styles (page.css), the chart data and the page script (page.ts, turned
 * into JavaScript here) are inlined, so the page opens from disk with no
 * network at all. Every chart has its numbers in a folded table underneath.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { escape as escapeText } from 'html-escaper';
import type { Results } from '../../metrics/results.ts';
import type { Block, ChartBlock, FindingGroup, ListBlock, ReportDoc, Section, TableBlock, TextBlock } from '../../report-model/doc.ts';
import { buildReport } from '../build.ts';
import type { BuildOptions } from '../build.ts';

// ---------------------------------------------------------------------------
// Escape by default.

/** Markup the `html` tag produced: interpolated as it is; anything else is escaped. */
class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function interpolate(v: unknown): string {
  if (v instanceof Markup) return v.text;
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(interpolate).join('');
  return escapeText(String(v));
}

/** A template of markup whose every `${value}` is escaped, unless it is itself markup from this tag (or a list of such). */
function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += interpolate(v) + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}

/**
 * Makes JavaScript safe inside a `<script>` element: `</script` would end the
 * element and `<!--` can switch the HTML tokenizer into its escaped states. In
 * both, a backslash before the slash or bang means the same thing to JS.
 */
export function escapeScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for a `<script type="application/json">`: no `<`, and no line separators. */
function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// ---------------------------------------------------------------------------
// Inlined assets.

const HERE = dirname(fileURLToPath(import.meta.url));
let chartJsCache: string | undefined;
let pageScriptCache: string | undefined;
let cssCache: string | undefined;

/** chart.js's UMD build, read from node_modules (the package does not export the path, so go via its main file). */
export function chartJsSource(): string {
  if (chartJsCache === undefined) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('chart.js'); // …/chart.js/dist/chart.cjs
    chartJsCache = readFileSync(join(dirname(main), 'chart.umd.js'), 'utf8');
  }
  return chartJsCache;
}

/** page.ts as JavaScript for the browser. */
function pageScript(): string {
  pageScriptCache ??= transformSync(readFileSync(join(HERE, 'page.ts'), 'utf8'), { loader: 'ts', format: 'iife', target: 'es2020' }).code;
  return pageScriptCache;
}

function pageCss(): string {
  cssCache ??= readFileSync(join(HERE, 'page.css'), 'utf8');
  return cssCache;
}

// ---------------------------------------------------------------------------
// Blocks.

/** Chart specs collected while rendering, in page order. */
interface Ctx {
  specs: { id: string; config: ChartBlock['config']; ninesX?: true }[];
}

const MARK_CLASS = { best: 'best', tie: 'tie', na: 'na', bad: 'bad', flag: 'flag' } as const;

function tableHtml(t: TableBlock, cls = 'num'): Markup {
  const head = t.columns.map(
    (c) => html`<th scope="col"${c.key ? html` data-figure="${c.key}"` : ''}>${c.anchor ? html`<a href="#${c.anchor}">${c.label}</a>` : c.label}</th>`,
  );
  const body = t.rows.map((row, ri) => {
    const cells = row.map((cell, i) => {
      const col = t.columns[i];
      const swatch = cell.swatch ? html`<span class="swatch" style="background:${cell.swatch}"></span>` : '';
      if (i === 0) return html`<th scope="row"${cell.title ? html` title="${cell.title}"` : ''}>${swatch}${cell.text}</th>`;
      const classes = [i > 0 && col?.text ? 'text' : '', cell.mark ? MARK_CLASS[cell.mark] : ''].filter(Boolean).join(' ');
      return html`<td${col?.key ? html` data-figure="${col.key}"` : ''}${classes ? html` class="${classes}"` : ''}${cell.title ? html` title="${cell.title}"` : ''}>${swatch}${cell.text}</td>`;
    });
    const key = t.rowKeys?.[ri];
    return html`<tr${key !== undefined ? html` data-row="${key}"` : ''}>${cells}</tr>\n`;
  });
  return html`<div class="scroll"><table class="${cls}" data-table="${t.key}"><thead><tr>${head}</tr></thead><tbody>\n${body}</tbody></table></div>`;
}

function notesHtml(notes: readonly string[] | undefined): Markup | '' {
  return notes && notes.length > 0 ? html`<ul class="notes">${notes.map((n) => html`<li>${n}</li>`)}</ul>` : '';
}

/** A detail table as a card: title, table, notes; a folded table puts its notes first, since they already say what matters. */
function detailHtml(t: TableBlock): Markup {
  const table = tableHtml(t);
  const body = t.fold
    ? html`${notesHtml(t.notes)}<details><summary>All ${t.rows.length} rows</summary>${table}</details>`
    : html`${table}${notesHtml(t.notes)}`;
  return html`<div class="note detail" data-detail="${t.key}">${t.title ? html`<h3>${t.title}</h3>` : ''}${body}</div>`;
}

function chartHtml(ctx: Ctx, c: ChartBlock): Markup {
  const id = `chart-${ctx.specs.length + 1}`;
  ctx.specs.push({ id, config: c.config, ...(c.ninesX ? { ninesX: true as const } : {}) });
  const more = (c.more ?? []).map((t) => html`<details><summary>${t.title ?? 'More numbers'}</summary>${tableHtml(t)}</details>`);
  return html`<figure class="chart${c.wide ? ' wide' : ''}" data-chart="${c.key}">
<h3>${c.title}</h3>
<div class="canvas-box"><canvas id="${id}" role="img" aria-label="${c.title}"></canvas></div>
<figcaption>${c.caption}</figcaption>
<details><summary>Numbers</summary>${tableHtml(c.table)}</details>${more}
</figure>`;
}

function listHtml(l: ListBlock): Markup {
  const cls = l.key === 'errored' ? 'errors' : l.key;
  return html`<ul class="${cls}">${l.items.map((it) => html`<li class="list-${it.level}">${it.label ? html`<strong>${it.label}</strong> ` : ''}${it.text}</li>`)}</ul>\n`;
}

function textHtml(t: TextBlock, lead: boolean): Markup {
  if (t.role === 'load') return html`<p class="load">${sentence(t.text)}</p>\n`;
  if (t.role === 'note' && lead) return html`<p class="load">${t.text}</p>\n`;
  if (t.role === 'empty') return html`<p class="empty">${t.text}</p>\n`;
  return html`<p class="note-text">${t.text}</p>\n`;
}

/** A phrase as a sentence: capital first letter, full stop. */
function sentence(s: string): string {
  const t = s[0]!.toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/**
 * Blocks in order; consecutive charts share a grid. In a scenario's body
 * (`cards`), consecutive titled tables other than the summary share a column
 * of cards; elsewhere (a comparison) tables stand as they are, with `tableClass`.
 */
function blocksHtml(ctx: Ctx, blocks: readonly Block[], cards: boolean, tableClass = 'num'): Markup {
  const out: Markup[] = [];
  const isCard = (b: Block): boolean => cards && b.kind === 'table' && b.key !== 'summary' && b.title !== undefined;
  let i = 0;
  while (i < blocks.length) {
    const b = blocks[i]!;
    if (b.kind === 'chart') {
      const run: Markup[] = [];
      while (i < blocks.length && blocks[i]!.kind === 'chart') run.push(chartHtml(ctx, blocks[i++] as ChartBlock));
      out.push(html`<div class="grid">\n${run.map((m) => html`${m}\n`)}</div>\n`);
      continue;
    }
    if (isCard(b)) {
      const run: Markup[] = [];
      for (let d = blocks[i]; d !== undefined && isCard(d); d = blocks[++i]) run.push(detailHtml(d as TableBlock));
      out.push(html`<div class="details">\n${run.map((m) => html`${m}\n`)}</div>\n`);
      continue;
    }
    i++;
    if (b.kind === 'table') {
      const table = html`${tableHtml(b, b.key === 'summary' ? 'summary num' : tableClass)}${notesHtml(b.notes)}`;
      if (b.fold) out.push(html`<details><summary>${b.title ?? 'Table'}</summary>${table}</details>\n`);
      else out.push(html`${b.title ? html`<h3>${b.title}</h3>\n` : ''}${table}\n`);
    } else if (b.kind === 'list') out.push(listHtml(b));
    else out.push(textHtml(b, false));
  }
  return html`${out}`;
}

function paramsHtml(params: readonly [string, string][]): Markup | '' {
  if (params.length === 0) return '';
  return html`<details class="params-box" open><summary>Parameters</summary><div class="scroll"><table class="params"><caption>Parameters</caption><thead><tr>${params.map(([k]) => html`<th scope="col">${k}</th>`)}</tr></thead><tbody><tr>${params.map(([, v]) => html`<td>${v}</td>`)}</tr></tbody></table></div></details>`;
}

function sectionHtml(ctx: Ctx, s: Section): Markup {
  // The load and the sentences right after it lead, above the parameters.
  const firstOther = s.blocks.findIndex((b) => b.kind !== 'text' || b.role === 'empty');
  const lead = firstOther < 0 ? s.blocks : s.blocks.slice(0, firstOther);
  const rest = s.blocks.slice(lead.length);
  const cmp = s.comparison;
  const hasRegression = (cmp?.blocks ?? []).some(
    (b) => (b.kind === 'table' && b.rowKeys?.includes('verdict-regression')) || (b.kind === 'list' && b.items.some((it) => it.level === 'error')),
  );
  const comparison = cmp
    ? html`<details class="compare" id="${cmp.id}"${hasRegression ? ' open' : ''}><summary>${cmp.title}</summary>\n${blocksHtml(ctx, cmp.blocks, false, 'comparison num')}</details>\n`
    : '';
  return html`<section class="scenario" id="${s.id}"${s.scenario !== undefined ? html` data-scenario="${s.scenario}"` : ''}>
<h2>${s.title}</h2>
${lead.map((b) => (b.kind === 'text' ? textHtml(b, true) : ''))}<div class="meta-grid">
${paramsHtml(s.params)}
</div>
${blocksHtml(ctx, rest, true)}${comparison}</section>`;
}

function findingsHtml(groups: readonly FindingGroup[]): Markup | '' {
  if (groups.length === 0) return '';
  const item = (f: FindingGroup['items'][number]) =>
    html`<li class="finding-${f.level}">${f.level === 'info' ? '' : html`<strong>${f.level === 'warn' ? 'Note' : 'Error'}:</strong> `}${f.text}${f.anchor ? html` <a class="see" href="#${f.anchor}">${f.scenario ?? 'see'} ↓</a>` : ''}</li>\n`;
  const body = groups.map((g) => html`<div class="topic" data-topic="${g.topic}"><h3>${g.title}</h3><ul>\n${g.items.map(item)}</ul></div>\n`);
  return html`<section class="findings" id="findings"><h2>Findings</h2>\n${body}</section>`;
}

/** The decision matrix the page opens on: the table, the verdict per column, hover texts on n/a cells. */
function matrixHtml(t: TableBlock | undefined): Markup | '' {
  if (!t) return '';
  return html`<section class="matrix" id="matrix"><h2>${t.title ?? 'Decision matrix'}</h2>
${tableHtml(t, 'matrix num')}
<ul class="verdicts">${(t.notes ?? []).map((n) => html`<li>${n}</li>`)}</ul>
<p class="hint">Best in each column in bold green, ties (no measurable difference from the best) in green; hover an n/a for its reason; a column's head links to the scenario that measured it.</p>
</section>`;
}

function headerHtml(doc: ReportDoc): Markup {
  const env: TableBlock = {
    kind: 'table',
    key: 'environment',
    columns: [{ label: '' }, { label: '', text: true }],
    rows: doc.environment.map(([k, v]) => [{ text: k }, { text: v }]),
  };
  return html`<header>
<h1>${doc.title}</h1>
<p class="sub">${doc.subtitle}</p>
</header>
${matrixHtml(doc.matrix)}
${findingsHtml(doc.findingGroups)}
<details class="env"><summary>Run environment</summary>${tableHtml(env, 'params env')}</details>
<aside class="how-to-read"><h2>How to read these figures</h2><ul>${doc.howToRead.map((t) => html`<li>${t}</li>`)}</ul></aside>
<ul class="legend" aria-label="transport colours">${doc.legend.map((t) => html`<li><span class="swatch" style="background:${t.color}"></span>${t.name}</li>`)}</ul>`;
}

/** The document as one self-contained HTML page. */
function renderDocHtml(doc: ReportDoc): string {
  const ctx: Ctx = { specs: [] };
  const comparison = doc.comparison
    ? html`<section class="baseline" id="${doc.comparison.id}"><h2>${doc.comparison.title}</h2>\n${blocksHtml(ctx, doc.comparison.blocks, false, 'comparison num')}</section>`
    : '';
  const sections = doc.sections.map((s) => html`${sectionHtml(ctx, s)}\n`);
  const nav =
    doc.sections.length > 0
      ? html`<nav aria-label="scenarios"><ul>${doc.sections.map((s) => html`<li><a href="#${s.id}">${s.title}</a></li>`)}</ul></nav>`
      : '';
  const started = doc.environment.find(([k]) => k === 'started')?.[1];
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.title}${started ? ` — ${started}` : ''}</title>
<link rel="icon" href="data:,">
<style>${new Markup(pageCss().replace(/<\/(style)/gi, '<\\/$1'))}</style>
</head>
<body>
<main>
${headerHtml(doc)}
${nav}
<noscript><p>Charts need JavaScript; every figure is also in the tables under each chart.</p></noscript>
${comparison}
${sections}</main>
<script>${new Markup(escapeScript(chartJsSource()))}</script>
<script type="application/json" id="chart-specs">${new Markup(jsonForScript(ctx.specs))}</script>
<script>${new Markup(escapeScript(pageScript()))}</script>
</body>
</html>
`;
  return page.text;
}

/** Options of renderHtml. */
export type HtmlOptions = BuildOptions;

/** The whole report of a run as one self-contained HTML document. */
export function renderHtml(results: Results, opts: HtmlOptions = {}): string {
  return renderDocHtml(buildReport(results, opts));
}
