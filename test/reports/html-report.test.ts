import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartJsSource, escapeScript, renderHtml } from '../../reports/html/render.ts';
import { ALL_SCENARIOS, fixture } from './helpers.ts';

const full = renderHtml(fixture('results-full.json'));

describe('renderHtml on a full run', () => {
  it('has a section per scenario, with its parameters and summary', () => {
    for (const name of ALL_SCENARIOS) {
      assert.match(full, new RegExp(`<section class="scenario" id="scenario-${name}" data-scenario="${name}">`), name);
    }
    assert.equal(full.match(/<section class="scenario"/g)?.length, ALL_SCENARIOS.length);
    assert.match(full, /<caption>Parameters<\/caption>/);
    assert.match(full, /<table class="summary num" data-table="summary">/);
  });

  it('shows the run environment and results version in the header', () => {
    for (const s of [
      'v20.20.2',
      'AMD EPYC 7B13 (2 cores)',
      'Linux 6.1.0-28-cloud-amd64 x64',
      '9f3c2a1d7e6b5a4c3b2a19f8e7d6c5b4a3928170',
      'tsx run.ts bench --scenarios all --duration 30',
      '2025-11-24T14:19:47.090Z',
      'results version',
    ]) {
      assert.ok(full.includes(s), s);
    }
  });

  it('draws the charts each scenario calls for', () => {
    const kinds = [...full.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
    for (const k of [
      'latency-curve',
      'throughput',
      'bytes-per-message',
      'messages',
      'server-cpu',
      'server-rss',
      'series-delivered',
      'series-cpu',
      'fan-out-steps',
      'overhead-sweep',
      'connections-per-conn',
      'payload-mbps',
      'dead-peer',
      'http-rps',
      'http-latency',
    ]) {
      assert.ok(kinds.includes(k), `chart ${k} missing`);
    }
    // One chart per payload size in the overhead sweep.
    assert.equal(kinds.filter((k) => k === 'overhead-sweep').length, 2);
    assert.match(full, /extrapolated from the measured per-message overhead/);
    assert.match(full, /\(not measured\)/);
    assert.match(full, /Capacity: largest N with p99 under 50/);
  });
});

describe('renderHtml on a full run: tables, requests, errors, findings', () => {
  it('puts the numbers of every chart in a collapsed table', () => {
    const figures = full.match(/<figure class="chart/g)?.length ?? 0;
    const canvases = full.match(/<canvas /g)?.length ?? 0;
    assert.ok(figures > 20);
    assert.equal(canvases, figures);
    const details = full.match(/<details><summary>Numbers<\/summary>/g)?.length ?? 0;
    assert.equal(details, figures);
    assert.doesNotMatch(full, /<details open><summary>Numbers/);
  });

  it('makes no request of its own: nothing external, chart.js inlined, data: favicon', () => {
    assert.doesNotMatch(full, /src="http/i);
    assert.doesNotMatch(full, /href="http/i);
    assert.doesNotMatch(full, /\/\/cdn/i);
    assert.doesNotMatch(full, /<script[^>]+src=/i);
    assert.doesNotMatch(full, /<link[^>]+stylesheet/i);
    // Outside the inlined library (which mentions url( in its own code), no stylesheet loads anything.
    const own = full.replace(escapeScript(chartJsSource()), '');
    assert.ok(own.length < full.length - 100000, 'chart.js found and stripped');
    assert.doesNotMatch(own, /@import|url\(/i);
    assert.match(full, /<link rel="icon" href="data:,">/);
    assert.ok(full.includes('Chart.js v4'), 'chart.js banner present');
    assert.ok(full.length > chartJsSource().length);
  });

  it('shows an errored transport with its error and flags client-bound runs', () => {
    assert.match(full, /long-polling errored:<\/strong> ECONNRESET: socket hang up after 4,812 deliveries/);
    assert.match(full, /<td data-figure="state" class="text bad" title="ECONNRESET[^"]*">errored<\/td>/);
    assert.match(full, /client-bound \(99%\)/);
    assert.match(full, /throughput\/ws: the load client was the bottleneck/);
  });

  it('states findings in plain words', () => {
    assert.match(
      full,
      /push: at 50 msg\/s to 50 clients, 64 B messages, polling every 1 s, polling spent 95.5 bytes on the wire per delivered message, 1.4× the WebSocket engine \(66.3 bytes\)/,
    );
    assert.match(full, /push: lowest p99: websocket \(2.40 ms\)/);
  });
});

describe('renderHtml on a run where everything errored', () => {
  const html = renderHtml(fixture('results-all-errored.json'));

  it('still renders, and says so', () => {
    assert.match(html, /Every transport in every scenario errored \(7 of 7 rows\); no figures were measured\./);
    assert.equal(html.match(/Every transport errored in this scenario; there is nothing to chart\./g)?.length, 2);
    assert.match(html, /EADDRINUSE 127.0.0.1:8080/);
    assert.doesNotMatch(html, /<canvas /);
  });

  it('renders a file with no scenarios at all', () => {
    const r = fixture('results-all-errored.json');
    r.scenarios = [];
    assert.match(renderHtml(r), /holds no scenarios/);
  });
});

describe('escaping', () => {
  it('keeps hostile text from results inert', () => {
    const r = fixture('results-all-errored.json');
    r.scenarios[0]!.results[0]!.error = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    r.scenarios[0]!.params['note'] = '<b>x</b>';
    const html = renderHtml(r);
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(!html.includes('<img src=x'));
    assert.ok(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)'));
    // JSON chart data cannot close its script element either.
    assert.equal(html.match(/<\/script>/g)?.length, 3);
  });

  it('escapes </script and <!-- inside inlined JavaScript', () => {
    assert.equal(escapeScript('a="</script>";b="</SCRIPT";c="<!--"'), 'a="<\\/script>";b="<\\/SCRIPT";c="<\\!--"');
  });
});
