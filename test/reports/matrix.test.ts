/**
 * The decision matrix: one model (report-model/matrix.ts, columns from the
 * scenario facets), three renderings that carry the same table; best and ties
 * by the trial comparison; n/a with its reason; findings grouped by question.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../reports/build.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderTable } from '../../reports/table.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { matrixTable } from '../../report-model/matrix.ts';
import type { Results } from '../../metrics/results.ts';
import { fixture } from './helpers.ts';
import { fmtSig } from '../../report-model/format.ts';

const real = fixture('results-real.json');

const range = (median: number, min = median, max = median, trials = 1) => ({ median, min, max, trials });

const realDoc = buildReport(real);
const realMatrix = realDoc.matrix!;

describe('the decision matrix', () => {
  it('has one row per transport run and the columns of the scenarios that ran, in order', () => {
    assert.ok(realMatrix, 'a matrix');
    assert.deepEqual(realMatrix.rowKeys, ['polling', 'long-polling', 'sse', 'websocket', 'ws']);
    assert.deepEqual(
      realMatrix.columns.slice(1).map((c) => c.key),
      ['matrix.latency', 'matrix.bytes-low', 'matrix.bytes-high', 'matrix.cpu', 'matrix.memory', 'matrix.dead-peer', 'matrix.fan-out'],
    );
    for (const c of realMatrix.columns.slice(1)) assert.match(c.anchor ?? '', /^scenario-/, `${c.key} links to its section`);
    // Every column has a best, and one verdict in words.
    for (let i = 1; i < realMatrix.columns.length; i++)
      assert.ok(
        realMatrix.rows.some((r) => r[i]!.mark === 'best'),
        realMatrix.columns[i]!.label,
      );
    assert.equal(realMatrix.notes?.length, realMatrix.columns.length, 'a verdict per column and the one-trial note');
    assert.match(realMatrix.notes![1]!, /^fewest bytes on the wire per message \(1 msg\/s per client, 64 B payloads, minimal request headers/);
  });

  it('Markdown and terminal carry the same matrix, first, with the marks spelled out', () => {
    const md = renderMarkdown(real);
    const text = renderTable(real);
    const html = renderHtml(real);
    assert.ok(md.indexOf('Which transport for my case?') < md.indexOf('### Findings'));
    assert.ok(text.startsWith('== Which transport for my case?'));
    assert.ok(html.indexOf('data-table="matrix"') < html.indexOf('id="findings"'));
    assert.ok(html.indexOf('data-table="matrix"') < html.indexOf('data-table="summary"'));
    for (const row of realMatrix.rows)
      for (const c of row) {
        assert.ok(md.includes(c.text), `md: ${c.text}`);
        assert.ok(text.includes(c.text), `text: ${c.text}`);
        assert.ok(html.includes(c.text.replace(/&/g, '&amp;')), `html: ${c.text}`);
      }
    const bests = realMatrix.rows.flat().filter((c) => c.mark === 'best').length;
    const ties = realMatrix.rows.flat().filter((c) => c.mark === 'tie').length;
    assert.equal((text.slice(0, text.indexOf('\n==')).match(/\(best\)/g) ?? []).length, bests);
    assert.equal((text.slice(0, text.indexOf('\n==')).match(/\(tie\)/g) ?? []).length, ties);
    assert.equal((md.match(/\*\*[^*]+\*\* \(best\)/g) ?? []).length, bests);
    for (const v of realMatrix.notes!) {
      assert.ok(text.includes(v), `terminal verdict: ${v}`);
      assert.ok(md.includes(v), `md verdict: ${v}`);
    }
  });
});

describe('the decision matrix: n/a cells, missing scenarios, trial ranges', () => {
  it('n/a cells carry their reason: a hover in HTML, a numbered footnote in Markdown and the terminal', () => {
    const full = fixture('results-full.json');
    const fm = buildReport(full).matrix!;
    const na = fm.rows.flat().filter((c) => c.mark === 'na');
    assert.ok(na.length > 0);
    for (const c of na) assert.ok(c.title && c.title.length > 0);
    const md = renderMarkdown(full);
    const text = renderTable(full);
    assert.match(md, /n\/a \[1\]/);
    assert.match(text, /n\/a \[1\]/);
    for (const c of na) {
      assert.ok(md.includes(`] ${c.title!}`.replace(/\|/g, '\\|')), `md footnote: ${c.title}`);
      assert.ok(text.includes(`] ${c.title!}`), `text footnote: ${c.title}`);
    }
    assert.match(renderHtml(full), /<td data-figure="matrix\.[^"]+" class="na" title="[^"]+">n\/a<\/td>/);
  });

  it('leaves out the columns of scenarios that did not run', () => {
    const pushOnly: Results = { ...real, scenarios: real.scenarios.filter((s) => s.name === 'push') };
    const cols = buildReport(pushOnly)
      .matrix!.columns.slice(1)
      .map((c) => c.key);
    assert.deepEqual(cols, ['matrix.latency', 'matrix.cpu']);
    const none: Results = { ...real, scenarios: real.scenarios.filter((s) => s.name === 'echo') };
    assert.equal(buildReport(none).matrix, undefined);
  });

  it("the latency column gives each p99 of several trials with its trials' range; one trial shows none", () => {
    const push = structuredClone(real.scenarios.find((s) => s.name === 'push')!);
    const p99s: Record<string, number[]> = {};
    for (const [i, r] of push.results.entries()) {
      if (r.state !== 'completed') continue;
      if (i === 0) continue; // the first row keeps its single trial
      const p99 = r.latencyMs!.p99;
      p99s[r.transport] = [p99 * 0.5, p99, p99 * 40];
      r.extra = { ...r.extra, trials: 3, completedTrials: 3, spread: { 'latencyMs.p99': { min: p99 * 0.5, max: p99 * 40 } } };
    }
    const m = buildReport({ ...real, scenarios: [push] }).matrix!;
    const at = m.columns.findIndex((c) => c.key === 'matrix.latency');
    for (const [k, t] of m.rowKeys!.entries()) {
      const text = m.rows[k]![at]!.text;
      const vs = p99s[t];
      if (vs === undefined) assert.doesNotMatch(text, /p99/, `${t}: one trial, no range`);
      else assert.ok(text.endsWith(`, p99 ${fmtSig(vs[0]!)}–${fmtSig(vs[2]!)}`), `${t}: ${text}`);
    }
    assert.ok(Object.keys(p99s).length > 0);
  });
});

describe('best and ties', () => {
  const col = (cells: Record<string, ReturnType<typeof range>>, better: 'lower' | 'higher' = 'lower') => ({
    key: 'k',
    order: 1,
    label: 'k',
    question: 'lowest k',
    better,
    anchor: 'scenario-x',
    cells: Object.fromEntries(Object.entries(cells).map(([t, r]) => [t, { range: r, text: `${r.median} ms` }])),
  });
  const marks = (t: ReturnType<typeof matrixTable>) => Object.fromEntries(t!.rows.map((r) => [r[0]!.text, r[1]!.mark ?? '']));

  it('overlapping trials tie with the best: no measurable difference', () => {
    const t = matrixTable([col({ a: range(4, 3.8, 4.4, 3), b: range(4.2, 4, 4.6, 3), c: range(9, 8, 10, 3) })], ['a', 'b', 'c']);
    assert.deepEqual(marks(t), { a: 'best', b: 'tie', c: '' });
    assert.equal(t!.notes![0], "lowest k: a and b, no measurable difference (their trials overlap; best 4 ms), beyond the others' spread");
  });

  it('a lead beyond the spread is the best alone; higher-is-better columns pick the largest', () => {
    const t = matrixTable([col({ a: range(4, 3.9, 4.1, 3), b: range(5, 4.8, 5.2, 3) })], ['a', 'b']);
    assert.deepEqual(marks(t), { a: 'best', b: '' });
    assert.match(t!.notes![0]!, /^lowest k: a \(4 ms\), beyond the others' spread$/);
    const h = matrixTable([col({ a: range(100), b: range(1000) }, 'higher')], ['a', 'b']);
    assert.deepEqual(marks(h), { a: '', b: 'best' });
  });

  it('one trial a side: equal values tie, a lead is called with a warning', () => {
    const t = matrixTable([col({ a: range(70), b: range(70), c: range(90) })], ['a', 'b', 'c']);
    assert.deepEqual(marks(t), { a: 'best', b: 'tie', c: '' });
    assert.equal(t!.notes![0]!, 'lowest k: a and b (70 ms each), one trial each');
    assert.match(t!.notes![1]!, /^A lead measured in one trial each may be noise/);
  });

  it('n/a and missing rows are never marked; a transport with no cell at all is not a row', () => {
    const c = col({ a: range(1) });
    c.cells['b'] = { na: 'errored: boom' } as never;
    const t = matrixTable([c], ['a', 'b', 'z']);
    assert.deepEqual(t!.rowKeys, ['a', 'b']);
    assert.deepEqual(t!.rows[1]![1], { text: 'n/a', mark: 'na', title: 'errored: boom' });
  });
});

describe('findings grouped by question', () => {
  const doc = buildReport(real);

  it('groups in the order latency, cost, bytes, liveness, limits, then notes; each finding once, linked to its section', () => {
    const order = ['latency', 'cost', 'bytes', 'liveness', 'limits', 'other'];
    const topics = doc.findingGroups.map((g) => g.topic);
    assert.deepEqual(
      topics,
      [...topics].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    );
    for (const t of ['latency', 'cost', 'bytes', 'liveness', 'limits']) assert.ok(topics.includes(t as never), t);
    assert.equal(doc.findingGroups.flatMap((g) => g.items).length, doc.findings.length);
    const ids = new Set(doc.sections.map((s) => s.id));
    for (const f of doc.findingGroups.flatMap((g) => g.items)) if (f.scenario) assert.ok(f.anchor && ids.has(f.anchor), `${f.text} → ${f.anchor}`);
    const bytes = doc.findingGroups.find((g) => g.topic === 'bytes')!.items.map((f) => f.text);
    assert.ok(bytes.some((t) => /^overhead: at 1 msg\/s .*the clients sent minimal request headers/.test(t)));
    assert.ok(doc.findingGroups.find((g) => g.topic === 'liveness')!.items.some((f) => f.scenario === 'dead-peer'));
  });

  it('the page links each finding to its section', () => {
    assert.match(
      renderHtml(real),
      /<div class="topic" data-topic="latency"><h3>Latency<\/h3><ul>\n<li class="finding-info">push: lowest p99: [^<]+ <a class="see" href="#scenario-push">push ↓<\/a><\/li>/,
    );
  });
});
