import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHtml } from '../../reports/html/render.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderTable } from '../../reports/table.ts';
import { formatFigure } from '../../report-model/figures.ts';
import { fixture } from './helpers.ts';

/** The cells of a transport's line in the terminal table, under the scenario's block. */
function tableRow(text: string, scenario: string, transport: string): Record<string, string> {
  const block = text.split('\n== ').find((b) => b.replace(/^== /, '').startsWith(`${scenario} `) || b.replace(/^== /, '').startsWith(`${scenario}\n`));
  assert.ok(block, `no block for ${scenario}`);
  const lines = block.split('\n');
  const headLine = lines.find((l) => l.trim().startsWith('transport'))!;
  const heads = headLine.trim().split(/\s{2,}/);
  const row = lines.find((l) => l.trim().split(/\s{2,}/)[0] === transport);
  assert.ok(row, `no row for ${transport}`);
  const cells = row.trim().split(/\s{2,}/);
  return Object.fromEntries(heads.map((h, i) => [h, cells[i] ?? '']));
}

/** The cells of a transport's row in a scenario's Markdown table. */
function markdownRow(md: string, scenario: string, transport: string): Record<string, string> {
  const sec = md.split(`### ${scenario}\n`)[1]!.split('\n### ')[0]!;
  const lines = sec.split('\n').filter((l) => l.startsWith('| '));
  const split = (l: string) => l.slice(2, -2).split(' | ');
  const heads = split(lines[0]!);
  const row = lines.find((l) => split(l)[0] === transport)!;
  return Object.fromEntries(heads.map((h, i) => [h, split(row)[i] ?? '']));
}

/** A figure cell of a transport's row in a scenario's HTML summary table. */
function htmlCell(html: string, scenario: string, transport: string, key: string): string {
  const sec = html.split(`data-scenario="${scenario}">`)[1]!.split('</section>')[0]!;
  const row = sec.split(`<tr data-row="${transport}">`)[1]!.split('</tr>')[0]!;
  const m = row.match(new RegExp(`<td data-figure="${key.replace(/\./g, '\\.')}"[^>]*>([^<]*)</td>`));
  assert.ok(m, `no ${key} cell`);
  return m[1]!;
}

describe('table, HTML and Markdown agree', () => {
  const results = fixture('results-full.json');
  const text = renderTable(results);
  const html = renderHtml(results);
  const md = renderMarkdown(results);

  const cases = [
    { scenario: 'push', transport: 'websocket', key: 'latencyMs.p99', head: 'p99 ms' },
    { scenario: 'push', transport: 'polling', key: 'wire.bytesPerMessage', head: 'B/msg' },
    { scenario: 'push', transport: 'long-polling', key: 'wire.requests', head: 'requests' },
    { scenario: 'echo', transport: 'ws', key: 'latencyMs.p50', head: 'p50 ms' },
    { scenario: 'throughput', transport: 'sse', key: 'throughput.messagesPerSec', head: 'msgs/s' },
    { scenario: 'fan-out', transport: 'ws', key: 'messages.lost', head: 'lost' },
    { scenario: 'connections', transport: 'websocket', key: 'server.rssMaxBytes', head: 'RSS MiB' },
  ] as const;

  for (const c of cases) {
    it(`${c.scenario}/${c.transport} ${c.key}`, () => {
      const row = results.scenarios.find((s) => s.name === c.scenario)!.results.find((r) => r.transport === c.transport)!;
      const expected = formatFigure(row, c.key);
      assert.notEqual(expected, '–');
      assert.equal(tableRow(text, c.scenario, c.transport)[c.head], expected, 'terminal');
      assert.equal(markdownRow(md, c.scenario, c.transport)[c.head], expected, 'markdown');
      assert.equal(htmlCell(html, c.scenario, c.transport, c.key), expected, 'html');
    });
  }

  it('the numbers are the file’s numbers', () => {
    assert.equal(tableRow(text, 'push', 'websocket')['p99 ms'], '2.40');
    assert.equal(Number(tableRow(text, 'push', 'polling')['B/msg']), 95.5);
    assert.equal(Number(markdownRow(md, 'throughput', 'sse')['msgs/s']!.replace(/,/g, '')), 182000);
    assert.equal(htmlCell(html, 'fan-out', 'ws', 'messages.deliveredOfSent'), '999,963/1,000,000');
  });

  it('the terminal table flags client-bound runs and errors', () => {
    assert.match(text, /client-bound \(99%\)/);
    assert.match(text, /! long-polling errored: ECONNRESET/);
  });
});

describe('percentiles read with the server saturated say so in their heads', () => {
  const results = fixture('results-real.json');
  const text = renderTable(results);
  const md = renderMarkdown(results);

  it("a ramp row's own p99 is headed as saturated, a push row's is not", () => {
    const ramp = results.scenarios.find((s) => s.name === 'throughput-down')!.results.find((r) => r.transport === 'websocket')!;
    const expected = formatFigure(ramp, 'latencyMs.p99');
    assert.notEqual(expected, '–');
    assert.equal(tableRow(text, 'throughput-down', 'websocket')['p99 ms saturated'], expected, 'terminal');
    assert.equal(markdownRow(md, 'throughput-down', 'websocket')['p99 ms saturated'], expected, 'markdown');
    assert.equal(tableRow(text, 'throughput-down', 'websocket')['p99 ms'], undefined);
    assert.notEqual(tableRow(text, 'push', 'websocket')['p99 ms'], undefined);
    assert.equal(tableRow(text, 'push', 'websocket')['p99 ms saturated'], undefined);
  });
});
