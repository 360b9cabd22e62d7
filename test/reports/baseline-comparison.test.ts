import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResults, DEFAULT_TOLERANCE_PCT } from '../../reports/compare.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderTable } from '../../reports/table.ts';
import { fixture } from './helpers.ts';
import { loopbackProbe } from '../../runner/trial-checks.ts';

const current = fixture('results-full.json');
const baseline = fixture('results-baseline.json');
const cmp = compareResults(current, baseline);
const find = (scenario: string, transport: string, key: string) => cmp.rows.find((r) => r.scenario === scenario && r.transport === transport && r.key === key);

describe('comparison against a baseline', () => {
  it('computes the delta against the baseline value', () => {
    const p99 = find('push', 'websocket', 'latencyMs.p99')!;
    assert.equal(p99.value, 2.4);
    assert.equal(p99.baseline, 1.7);
    assert.ok(Math.abs(p99.deltaPct - ((2.4 - 1.7) / 1.7) * 100) < 1e-9);
    assert.equal(p99.tolerancePct, DEFAULT_TOLERANCE_PCT);
    assert.equal(p99.verdict, 'regression');
  });

  it('marks more throughput as an improvement, not a regression', () => {
    const t = find('throughput', 'websocket', 'throughput.messagesPerSec')!;
    assert.ok(t.deltaPct > 10);
    assert.equal(t.verdict, 'improvement');
  });

  it('uses the repeat spread as tolerance when the runs carry one', () => {
    const sse = find('push', 'sse', 'latencyMs.p99')!;
    assert.ok(sse.deltaPct > 10, 'beyond the default tolerance');
    assert.equal(sse.toleranceFrom, 'spread');
    assert.ok(Math.abs(sse.tolerancePct - ((3.4 - 2.3) / 2.6) * 100) < 1e-9);
    assert.equal(sse.verdict, 'within');
  });

  it('counts a transport that now errors as a regression', () => {
    assert.deepEqual(
      cmp.stateChanges.map((c) => `${c.scenario}/${c.transport} ${c.from}→${c.to}`),
      ['fan-out/long-polling completed→errored'],
    );
    assert.equal(cmp.regressions, 2);
    assert.equal(cmp.improvements, 1);
  });

  it('leaves unchanged figures within tolerance and skips figures missing on one side', () => {
    assert.equal(find('push', 'polling', 'latencyMs.p50')!.verdict, 'within');
    assert.equal(find('overhead', 'polling', 'latencyMs.p50'), undefined);
  });
});

describe('comparison against a baseline: how it is shown, and the machine it ran on', () => {
  it('marks the regression in the HTML, the terminal table and the Markdown', () => {
    const html = renderHtml(current, { baseline });
    assert.match(html, /<section class="baseline" id="baseline">/);
    const runWide = html.split('<section class="baseline" id="baseline">')[1]!.split('</section>')[0]!;
    assert.match(
      runWide,
      /<tr data-row="verdict-regression"><th scope="row">push<\/th><td class="text">websocket<\/td><td class="text">latency p99<\/td><td>2.40<\/td><td>1.70<\/td><td>\+41.2%<\/td><td>±10.0%<\/td><td class="text bad">REGRESSION<\/td><\/tr>/,
    );
    assert.match(runWide, /<strong>REGRESSION:<\/strong> fan-out\/long-polling completed → errored/);
    const push = html.split('data-scenario="push">')[1]!.split('</section>')[0]!;
    assert.match(
      push,
      /<details class="compare" id="scenario-push-baseline" open><summary>Compared with baseline: 1 regression\(s\), 0 improvement\(s\), \d+ figures<\/summary>/,
    );
    assert.match(
      push,
      /<tr data-row="verdict-regression"><th scope="row">websocket<\/th><td class="text">latency p99<\/td><td>2.40<\/td><td>1.70<\/td><td>\+41.2%<\/td>/,
    );
    const text = renderTable(current, { baseline });
    assert.match(text, /push\s+websocket\s+latency p99\s+2\.40\s+1\.70\s+\+41\.2%\s+±10\.0%\s+REGRESSION/);
    assert.match(text, /REGRESSION: fan-out\/long-polling completed → errored/);
    const md = renderMarkdown(current, { baseline });
    assert.match(md, /\| push \| websocket \| latency p99 \| 2\.40 \| 1\.70 \| \+41\.2% \| ±10\.0% \| \*\*REGRESSION\*\* \|/);
    assert.match(md, /2 regression\(s\) and 1 improvement\(s\) beyond tolerance/);
    assert.match(text, /2 regression\(s\) and 1 improvement\(s\) beyond tolerance/);
  });

  it('reports nothing moved when a run is compared with itself', () => {
    const self = compareResults(current, fixture('results-full.json'));
    assert.equal(self.regressions, 0);
    assert.equal(self.improvements, 0);
    assert.ok(self.rows.every((r) => r.deltaPct === 0));
  });

  it('names a difference in machine speed between the two runs, and keeps quiet when there is none', () => {
    const a = fixture('results-full.json');
    const b = fixture('results-baseline.json');
    assert.equal(compareResults(a, b).calibration, undefined, 'no calibration recorded: nothing to say');
    a.meta.calibration = { medianMs: 18, minMs: 17, maxMs: 20, count: 12 };
    b.meta.calibration = { medianMs: 15, minMs: 15, maxMs: 16, count: 12 };
    const md = renderMarkdown(a, { baseline: b });
    assert.match(md, /The machine ran 20 % slower in this run than in the baseline \(calibration loop 18 ms against 15 ms\)/);
    assert.match(md, /machine speed \| calibration loop 18 ms median \(17–20 over 12 timings\)/);
    a.meta.calibration = { medianMs: 15.2, minMs: 15, maxMs: 16, count: 12 };
    assert.match(renderMarkdown(a, { baseline: b }), /The machine ran at the same speed in both runs/);
    assert.doesNotMatch(renderMarkdown(a, { baseline: b }), /loopback/, 'no loopback timing recorded: nothing said of it');
    // The same CPU speed, a slower network stack: said apart.
    a.meta.calibration = { ...a.meta.calibration, loopbackUs: { median: 39, min: 36, max: 44 } };
    b.meta.calibration = { ...b.meta.calibration, loopbackUs: { median: 30, min: 29, max: 33 } };
    const slowerNet = renderMarkdown(a, { baseline: b });
    assert.match(slowerNet, /same speed in both runs .* A loopback TCP round trip was 30 % slower \(39 µs against 30 µs\)/);
    assert.match(slowerNet, /loopback TCP round trip 39 µs median \(36–44\)/);
    a.meta.calibration = { ...a.meta.calibration, loopbackUs: { median: 30.5, min: 29, max: 33 } };
    assert.match(renderMarkdown(a, { baseline: b }), /A loopback TCP round trip took as long in both \(30.5 µs against 30 µs\)/);
  });

  it('the loopback probe times real round trips', async () => {
    const us = await loopbackProbe();
    // A round trip through the kernel takes microseconds, never nothing and never a second.
    assert.ok(us > 0 && us < 1_000_000, `${us} µs`);
  });
});
