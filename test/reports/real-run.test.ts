/**
 * The report on a recorded quick run of every scenario over all five
 * transports (test/fixtures/results-real.json, trimmed from a real
 * `bench` run): every section, every scenario's own figures, findings in
 * words, and the same numbers in the terminal table, the Markdown and the HTML.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import type { TableBlock } from '../../report-model/doc.ts';
import { computeFindings } from '../../report-model/findings.ts';
import { fmtInt, isNotApplicable, orderedRows } from '../../report-model/format.ts';
import { readDeadPeer } from '../../scenarios/dead-peer/schema.ts';
import { readSaturationVariants } from '../../scenarios/http-saturation/schema.ts';
import { facetOf } from '../../scenarios/facets.ts';
import { readThroughputExtra } from '../../scenarios/throughput/schema.ts';
import { renderHtml } from '../../reports/html/render.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { renderTable } from '../../reports/table.ts';
import { fixture, REAL_SCENARIOS } from './helpers.ts';

const results = fixture('results-real.json');
const scenario = (name: string) => results.scenarios.find((s) => s.name === name)!;
const html = renderHtml(results);
const md = renderMarkdown(results);
const text = renderTable(results);
const findings = computeFindings(results, facetOf);
const findingText = findings.map((f) => f.text).join('\n');

/** A row's scenario figure, as its facet words it. */
function rowFigure(s: ScenarioResult, r: TransportResult): string {
  return facetOf(s)?.rowFigure?.(r, s) ?? '';
}

/** A scenario's detail table by key. */
function detail(s: ScenarioResult, key: string): TableBlock {
  const block = (facetOf(s)?.details?.(s) ?? []).find((b): b is TableBlock => b.kind === 'table' && b.key === key);
  assert.ok(block, `no ${key} table`);
  return block;
}

/** The HTML of one scenario section. */
function section(name: string): string {
  const part = html.split(`data-scenario="${name}">`)[1];
  assert.ok(part, `no section for ${name}`);
  return part.split('</section>')[0]!;
}

/** The Markdown of one scenario. */
function mdSection(name: string): string {
  return md.split(`### ${name}\n`)[1]!.split('\n### ')[0]!;
}

/** The terminal block of one scenario. */
function textBlock(name: string): string {
  return text.split('\n== ').find((b) => b.replace(/^== /, '').startsWith(`${name} (`) || b.replace(/^== /, '').startsWith(`${name}\n`))!;
}

describe('report on a recorded run of every scenario: sections, dead peers, saturation', () => {
  it('has a section for every scenario, in run order, in all three outputs', () => {
    const sections = [...html.matchAll(/<section class="scenario" id="[^"]+" data-scenario="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(sections, [...REAL_SCENARIOS]);
    for (const name of REAL_SCENARIOS) {
      assert.ok(md.includes(`### ${name}\n`), `markdown ${name}`);
      assert.ok(textBlock(name), `text ${name}`);
    }
  });

  it('dead-peer: a peer not freed within the cap reads "not within N s" everywhere, with its mechanism', () => {
    const rows = orderedRows(scenario('dead-peer').results);
    const missed = rows.filter((r) => readDeadPeer(r.extra)?.detected === false);
    const seen = rows.filter((r) => readDeadPeer(r.extra)?.detected === true);
    assert.deepEqual(
      missed.map((r) => r.transport),
      ['polling', 'long-polling', 'sse'],
    );
    assert.deepEqual(
      seen.map((r) => r.transport),
      ['websocket', 'ws'],
    );
    for (const r of rows) {
      const words = rowFigure(scenario('dead-peer'), r);
      assert.match(words, /^(noticed after|not within) /);
      assert.ok(section('dead-peer').includes(words), `html ${r.transport}: ${words}`);
      assert.ok(mdSection('dead-peer').includes(words), `md ${r.transport}`);
      assert.ok(textBlock('dead-peer').includes(words), `text ${r.transport}`);
      const mech = (r.extra!['mechanism'] as string).slice(0, 40);
      assert.ok(section('dead-peer').includes(mech.replace(/'/g, '&#39;')), `html mechanism ${r.transport}`);
      assert.ok(mdSection('dead-peer').includes(mech), `md mechanism ${r.transport}`);
    }
    assert.equal(rowFigure(scenario('dead-peer'), missed[0]!), 'not within 6 s');
    assert.match(section('dead-peer'), /data-chart="dead-peer"/);
    assert.match(
      findingText,
      /dead-peer: only WebSocket noticed a frozen peer within 6 s \(websocket after [\d.]+ s, ws after [\d.]+ s\); polling, long-polling and sse did not\./,
    );
  });

  it('http-saturation: the variants and the clients at the poll interval; sse and WebSocket are n/a, not errors', () => {
    const sec = section('http-saturation');
    const polling = scenario('http-saturation').results.find((r) => r.transport === 'polling')!;
    const variants = readSaturationVariants(polling.extra)!;
    assert.deepEqual(variants.map((v) => v.name).sort(), ['empty', 'message']);
    assert.match(sec, /empty poll \(204\)/);
    assert.match(sec, /one-message poll \(200\)/);
    const max = fmtInt(polling.extra!['maxClientsAtPollInterval'] as number);
    assert.ok(sec.includes(`≈ ${max} clients at 1 s polls`));
    assert.ok(findingText.includes(`enough for ≈ ${max} clients polling every 1 s`));
    for (const t of ['sse', 'websocket', 'ws']) {
      const r = scenario('http-saturation').results.find((x) => x.transport === t)!;
      assert.ok(isNotApplicable(r));
      assert.ok(sec.includes(`<tr data-row="${t}">`));
      assert.ok(!sec.includes(`${t} errored`), `${t} shown as an error`);
      assert.match(textBlock('http-saturation'), new RegExp(`- ${t}: not applicable: `));
      assert.doesNotMatch(md, new RegExp(`\\*\\*${t} errored:\\*\\*`));
    }
    assert.match(sec, /<td data-figure="state" class="text na" title="[^"]+">n\/a<\/td>/);
    assert.ok(
      !findings.some((f) => f.level === 'error'),
      findings
        .filter((f) => f.level === 'error')
        .map((f) => f.text)
        .join('; '),
    );
    assert.match(findingText, /http-saturation: not applicable to sse, websocket and ws\./);
  });
});

describe('report on a recorded run of every scenario: throughput, connections, overhead, echo, fan-out', () => {
  it('throughput: the ramp with the failed step and why, and the sustained rate per transport', () => {
    for (const name of ['throughput-down', 'throughput-up']) {
      const s = scenario(name);
      assert.ok(s.summary?.['sustainedRate'], `${name} summary.sustainedRate`);
      const block = detail(s, 'throughput-ramp');
      const steps = s.results.flatMap((r) => readThroughputExtra(r.extra)?.steps ?? []);
      assert.equal(block.rows.length, steps.length);
      for (const st of steps.filter((x) => !x.sustained)) assert.ok(md.includes(`failed: ${st.why}`), `${name}: ${st.why}`);
      assert.match(section(name), /data-chart="throughput-ramp"/);
      assert.match(section(name), /data-chart="sustained-rate"/);
      assert.match(findingText, new RegExp(`${name}: highest sustained rate`));
    }
    // Downward, a step owes the rate times the subscribers.
    const down = detail(scenario('throughput-down'), 'throughput-ramp');
    const first = down.rows.find((r) => r[0]?.text === 'websocket')!.map((c) => c.text);
    assert.deepEqual(first.slice(1, 3), ['5,000', '20,000']);
    assert.equal(first[4], '100.0%');
  });

  it('connections: every step field, and the empty server it is measured from', () => {
    const block = detail(scenario('connections'), 'connections');
    assert.deepEqual(
      block.columns.slice(0, 6).map((c) => c.label),
      ['transport', 'connections', 'RSS MiB', 'RSS/conn', 'added RSS/conn', 'heap/conn'],
    );
    assert.equal(block.rows.length, 5);
    assert.ok(block.rows.every((r) => r.every((c) => c.text !== '')));
    assert.match(mdSection('connections'), /above the empty server after a gc \(RSS \/ heap\): polling [\d.]+ \/ [\d.]+ MiB/);
    assert.match(section('connections'), /data-chart="connections-per-conn"/);
    assert.match(findingText, /connections: server RSS per idle connection at 1,000: /);
  });

  it('overhead: findings from the sweep, crossovers that say which is cheaper, labelled extrapolation', () => {
    assert.match(
      findingText,
      /overhead: at 1 msg\/s per client and 64 B messages, short polling every 1 s spent [\d.,]+ bytes per delivered message, [\d.]+× the WebSocket engine/,
    );
    assert.match(md, /Header bytes per second at scale, extrapolated from the measured per-message overhead at 1 msg\/s, 64 B \(not measured\)/);
    assert.match(section('overhead'), /extrapolated from the measured per-message overhead at 1 msg\/s, 64 B/);
    assert.equal([...section('overhead').matchAll(/data-chart="overhead-sweep"/g)].length, 2);
    assert.match(section('overhead'), /steady B\/msg/);
  });

  it('echo: round-trip wording and the mode', () => {
    assert.match(findingText, /echo: lowest round-trip p99: /);
    assert.match(findingText, /echo-ping-pong: lowest round-trip p99: .*most round trips per second with one in flight/);
    assert.match(section('echo'), /Echo mode: open loop/);
    assert.match(section('echo-ping-pong'), /Echo mode: ping-pong/);
    assert.match(section('echo'), /Round-trip latency by percentile/);
  });

  it('fan-out: capacity with whether it was searched', () => {
    assert.match(section('fan-out'), /Capacity: largest N with p99 under 100 ms and no loss/);
    assert.match(section('fan-out'), /Capacity search was off/);
    assert.match(findingText, /fan-out: largest N with p99 under 100 ms and no loss among the steps run \(capacity search off\)/);
  });

  it('engine vs ws in one finding', () => {
    assert.match(
      findingText,
      /Engine vs ws \(the WebSocket engine first\): in push, messages per server CPU second: [\d,.]+ \(1 trial\) against [\d,.]+ \(1 trial\), [\d.]+×: one trial each, so no verdict .*; in echo/,
    );
  });
});

describe('report on a recorded run of every scenario: trials, summary cells, comparison', () => {
  it('engine vs ws: the trials taken pair by pair decide where the ranges overlap', () => {
    const r = fixture('results-real.json');
    const s = r.scenarios.find((x) => x.name === 'echo')!;
    r.scenarios = [s];
    const rows = s.results.filter((row) => row.transport === 'websocket' || row.transport === 'ws');
    assert.equal(rows.length, 2);
    const costs: Record<string, number[]> = { websocket: [14.49, 13.5, 17.31, 19.39, 20.3], ws: [18.2, 22.2, 27.19, 33.5, 31.99] };
    const setCosts = (values: Record<string, number[]>, pairs: boolean) => {
      for (const row of rows) {
        const v = values[row.transport]!;
        row.extra = {
          ...row.extra,
          fixedCpuUsPerMessage: [...v].sort((a, b) => a - b)[v.length >> 1],
          trials: v.length,
          completedTrials: v.length,
          spread: { 'extra.fixedCpuUsPerMessage': { min: Math.min(...v), max: Math.max(...v) } },
          ...(pairs ? { trialValues: { 'extra.fixedCpuUsPerMessage': v } } : {}),
        };
      }
    };
    const verdict = () => computeFindings(r, facetOf).find((f) => /^Engine vs ws/.test(f.text))?.text ?? '';
    setCosts(costs, false);
    assert.match(
      verdict(),
      /in echo, server CPU µs per message at a fixed rate: 17\.3 \(13\.5–20\.3, 5 trials\) against 27\.2 \(18\.2–33\.5, 5 trials\), 0\.6×: no measurable difference \(the trials' ranges overlap\)/,
    );
    setCosts(costs, true);
    assert.match(
      verdict(),
      /0\.6×: the engine is cheaper: the trials' ranges overlap, but 0\.5\d–0\.7\d× trial by trial \(95 % interval over 5 pairs\) lies more than 10 % from 1/,
    );
    setCosts({ websocket: [10, 12, 11], ws: [11, 11, 11.5] }, true);
    assert.match(
      verdict(),
      /no measurable difference: the trials' ranges overlap, and 0\.\d\d–1\.\d\d× trial by trial \(95 % interval over 3 pairs\) reaches within 10 % of 1/,
    );
    setCosts({ websocket: [10, 11, 12], ws: [20, 25, 22] }, true);
    assert.match(verdict(), /the engine is cheaper beyond the trials' spread; 0\.\d\d–0\.\d\d× trial by trial \(95 % interval over 3 pairs\)/);
  });

  it('the summary cells agree across the terminal, Markdown and HTML', () => {
    for (const name of ['dead-peer', 'http-saturation', 'throughput-down', 'connections']) {
      for (const r of orderedRows(scenario(name).results)) {
        const cell = isNotApplicable(r) ? 'not applicable' : rowFigure(scenario(name), r);
        assert.ok(cell, `${name}/${r.transport} has a scenario figure`);
        assert.ok(textBlock(name).includes(cell), `text ${name}/${r.transport}`);
        assert.ok(mdSection(name).includes(cell.replace(/\|/g, '\\|')), `md ${name}/${r.transport}`);
        assert.ok(
          section(name).includes(
            `<td data-figure="extra" class="text">${cell.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</td>`,
          ),
          `html ${name}/${r.transport}`,
        );
      }
    }
  });

  it('compares a run with itself without regressions and prints sensible text and Markdown', () => {
    const t = renderTable(results, { baseline: results });
    assert.match(t, /0 regression\(s\) and 0 improvement\(s\) beyond tolerance/);
    const m = renderMarkdown(results, { baseline: results });
    assert.match(m, /0 regression\(s\) and 0 improvement\(s\) beyond tolerance/);
    assert.doesNotMatch(t + m, /NaN|undefined|\[object Object\]/);
    const own = html.replace(/<script>[\s\S]*?<\/script>/g, '');
    assert.doesNotMatch(own, />NaN<|>undefined<|\[object Object\]/);
  });
});

describe('dead-peer and skipped rows in the readers', () => {
  it('readDeadPeer: detected with a time, not detected with the cap, older files with only a time', () => {
    assert.deepEqual(readDeadPeer({ detected: true, detectMs: 2100, capMs: 6000 }), { detected: true, detectMs: 2100, capMs: 6000 });
    assert.deepEqual(readDeadPeer({ detected: false, capMs: 6000, mechanism: 'why' }), { detected: false, capMs: 6000, mechanism: 'why' });
    assert.deepEqual(readDeadPeer({ detectMs: 3060, heartbeat: { intervalMs: 1000, maxMissed: 3 } }), {
      detected: true,
      detectMs: 3060,
      heartbeat: { intervalMs: 1000, maxMissed: 3 },
    });
    assert.equal(readDeadPeer({ detected: false }), undefined, 'no cap: nothing to say');
    assert.equal(readDeadPeer({ detected: true }), undefined, 'detected without a time');
    assert.equal(readDeadPeer({ detectMs: 'soon' }), undefined);
  });

  it('the synthetic full run shows not-detected peers and n/a rows too', () => {
    const full = fixture('results-full.json');
    const h = renderHtml(full);
    assert.match(h, /not within 20 s/);
    assert.match(h, /<td data-figure="state" class="text na" title="[^"]+">n\/a<\/td>/);
    assert.ok(!computeFindings(full, facetOf).some((f) => /http-saturation\/(sse|websocket|ws) errored/.test(f.text)));
    assert.match(renderTable(full), /- sse: not applicable: SSE holds one streaming response per client/);
  });
});

describe('echo-pipelined', () => {
  it('reads as round trips with the messages in flight', () => {
    const r = fixture('results-real.json');
    const s = JSON.parse(JSON.stringify(r.scenarios.find((x) => x.name === 'echo-ping-pong')));
    s.name = 'echo-pipelined';
    s.params = { ...s.params, clients: 4, inFlight: 8 };
    for (const row of s.results) row.extra = { ...row.extra, mode: 'pipelined', inFlight: 8 };
    r.scenarios = [s];
    const h = renderHtml(r);
    assert.match(h, /4 connections × 8 messages in flight/);
    assert.match(h, /Echo mode: pipelined/);
    assert.match(h, /Round-trip latency by percentile/);
    assert.match(renderTable(r), /pipelined, 8 in flight/);
    const latency = () => computeFindings(r, facetOf).filter((f) => f.topic === 'latency' && f.scenario === 'echo-pipelined');
    // The closed loop's own percentiles are a queue's: no claim is drawn from them.
    assert.deepEqual(latency(), []);
    // The fixed-rate phase's p50 is what the finding compares, on the rows that ran it (its p99
    // is ordered the other way here, and must not decide).
    const frames = s.results.filter((row: TransportResult) => row.state === 'completed').slice(0, 2);
    assert.equal(frames.length, 2);
    frames.forEach((row: TransportResult, i: number) => {
      row.extra = { ...row.extra, fixedP50Ms: 3 - i, fixedP99Ms: 10 + i, fixedLoad: { ratePerSec: 20_000 } };
    });
    const [f] = latency();
    assert.ok(f, 'a latency finding from the fixed-rate p50');
    assert.match(
      f.text,
      new RegExp(`lowest round-trip p50 at a fixed 20,000 msg/s: ${frames[1]!.transport} \\(2.00 ms\\); highest: ${frames[0]!.transport} \\(3.00 ms\\)`),
    );
    assert.match(f.text, /not compared/);
    // Three trials a side whose ranges overlap: no row is named lowest, both ranges are given.
    for (const row of frames) row.extra = { ...row.extra, trials: 3, completedTrials: 3, spread: { 'extra.fixedP50Ms': { min: 1.5, max: 3.5 } } };
    const [tie] = latency();
    assert.match(tie!.text, /no measurable difference in round-trip p50 at a fixed 20,000 msg\/s: .*\(1\.50–3\.50 ms, 3 trials\)/);
    assert.doesNotMatch(tie!.text, /lowest/);
    // Ranges apart: the lower row is named, beyond the other's spread.
    frames[1]!.extra = { ...frames[1]!.extra, spread: { 'extra.fixedP50Ms': { min: 1.9, max: 2.1 } } };
    frames[0]!.extra = { ...frames[0]!.extra, spread: { 'extra.fixedP50Ms': { min: 2.9, max: 3.1 } } };
    const [apart] = latency();
    assert.match(apart!.text, new RegExp(`lowest round-trip p50 at a fixed 20,000 msg/s: ${frames[1]!.transport} \\(2.00 ms\\); highest`));
    assert.doesNotMatch(apart!.text, /within the trials' spread/);
    // Ranges apart by less than 10 % (a p50 that is mostly the load's own sending): not named.
    frames[1]!.extra = { ...frames[1]!.extra, fixedP50Ms: 2.8, spread: { 'extra.fixedP50Ms': { min: 2.7, max: 2.85 } } };
    const [close] = latency();
    assert.match(close!.text, /no measurable difference in round-trip p50 at a fixed 20,000 msg\/s: .*only ranges more than 10 % apart are named/);
  });
});
