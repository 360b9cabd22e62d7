/**
 * Each scenario's facet: found for every scenario of a results file, built
 * from the scenario's own schema, tolerant of malformed figures, and free of
 * transport-name comparisons; scenarios/ never reaches into reports/.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../../metrics/results.ts';
import { computeFindings } from '../../report-model/findings.ts';
import { FACETS, facetOf } from '../../scenarios/facets.ts';
import { SCENARIOS, scenarioByName } from '../../scenarios/index.ts';
import { transports } from '../../transports/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const load = (name: string): Results => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8')) as Results;

/** Every .ts file under a folder, recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('scenario facets', () => {
  test('every scenario of the recorded run is read by its own facet; a renamed one by the shape of its figures', () => {
    for (const s of load('results-real.json').scenarios) assert.equal(facetOf(s), scenarioByName(s.name)!.facet, s.name);
    // The sample file still calls the ramp "throughput": its figures are a ramp's.
    const renamed = load('results-full.json').scenarios.find((s) => s.name === 'throughput')!;
    assert.equal(facetOf(renamed), scenarioByName('throughput-down')!.facet);
    assert.equal(facetOf({ name: 'something-else', params: {}, results: [] }), undefined);
    // A results file is outside input: a name that is a property of every object finds no facet.
    for (const name of ['constructor', '__proto__', 'toString']) assert.equal(facetOf({ name, params: {}, results: [] }), undefined, name);
  });

  test("the report's facet registry and the run registry name the same facet for each scenario, in the same order", () => {
    assert.deepEqual(
      [...FACETS.keys()],
      SCENARIOS.map((s) => s.name),
    );
    for (const s of SCENARIOS) assert.equal(FACETS.get(s.name), s.facet, s.name);
  });

  test('findings of the recorded run come from the facets, each about its own scenario', () => {
    const results = load('results-real.json');
    const findings = computeFindings(results, facetOf);
    const texts = findings.map((f) => f.text);
    assert.ok(
      texts.some((t) => /^fan-out: largest N with p99 under .* ms and no loss/.test(t)),
      'fan-out capacity',
    );
    assert.ok(
      texts.some((t) => /^throughput-down: highest sustained rate/.test(t)),
      'throughput ramp',
    );
    assert.ok(
      texts.some((t) => /^dead-peer: only WebSocket noticed a frozen peer within 6 s/.test(t)),
      'dead-peer by delivery trait',
    );
    assert.ok(texts.includes('http-saturation: not applicable to sse, websocket and ws.'), 'n/a rows are named, not errors');
    assert.ok(!findings.some((f) => f.level === 'error'), 'no n/a row reads as an error');
    assert.ok(
      texts.some((t) => t.startsWith('Engine vs ws (the WebSocket engine first): in ')),
      'engine against its reference, by role',
    );
    // No finding of one scenario is made from another's figures.
    for (const f of findings) if (f.scenario) assert.ok(f.text.startsWith(f.scenario), f.text);
  });
});

describe('scenario facets: malformed input, registry and layering', () => {
  test('a malformed extra or summary is skipped by every facet, never fatal', () => {
    const results = load('results-real.json');
    for (const s of results.scenarios) {
      const facet = facetOf(s)!;
      const good = (facet.details?.(s) ?? []).length + (facet.charts?.(s) ?? []).length;
      // Break the first completed row's figures and the summary.
      const row = s.results.find((r) => r.state === 'completed')!;
      for (const k of Object.keys(row.extra ?? {})) row.extra![k] = { broken: true };
      if (s.summary) for (const k of Object.keys(s.summary)) s.summary[k] = 'broken';
      assert.doesNotThrow(() => {
        facet.findings?.(s);
        facet.rowFigure?.(row, s);
        facet.loadInWords?.(s);
      }, s.name);
      assert.equal(facet.rowFigure?.(row, s) ?? '', '', `${s.name}: the broken row has no figure`);
      const after = (facet.details?.(s) ?? []).length + (facet.charts?.(s) ?? []).length;
      assert.ok(after <= good, `${s.name}: nothing new appears from broken figures`);
    }
  });

  test('every registered scenario has a facet, and no facet or schema compares a transport name', () => {
    for (const sc of SCENARIOS) assert.equal(typeof sc.facet, 'object', sc.name);
    const names = transports().map((t) => t.name);
    const literal = new RegExp(`['"\`](${names.map((n) => n.replace('-', '\\-')).join('|')})['"\`]`);
    for (const file of sources('scenarios').filter((f) => /(facet|schema|facet-kit|read)\.ts$/.test(f))) {
      const hit = readFileSync(file, 'utf8').match(literal);
      assert.equal(hit, null, `${file} names a transport: ${hit?.[0]}`);
    }
  });

  test('scenarios/ imports nothing from reports/', () => {
    for (const file of sources('scenarios')) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /from '(\.\.\/)+reports\//, file);
    }
  });
});

describe('proxy-lessons findings follow what was measured', () => {
  const buffering = (p50: number, off: number, delivered = 20) => ({
    published: 20,
    ratePerSec: 10,
    sizeBytes: 64,
    waitedMs: 3000,
    delivered,
    p50Ms: p50,
    maxMs: p50 + 5,
    unbufferedDelivered: 20,
    unbufferedP50Ms: off,
    unbufferedMaxMs: off + 5,
  });
  const cut = (cutAfterMs: number | null) => ({
    readTimeoutMs: 1000,
    heartbeatMs: 5000,
    cutAfterMs,
    cuts: cutAfterMs === null ? 0 : 1,
    watchedMs: 3000,
    messageAfterCut: 'not tried' as const,
    clientAction: 'did not reconnect',
  });
  const levels = (extra: Record<string, unknown>) => {
    const sr = { name: 'proxy-lessons', params: {}, results: [{ transport: 'sse', state: 'completed', error: null, extra }] };
    return scenarioByName('proxy-lessons')!.facet.findings!(sr as never).map((f) => f.level);
  };
  test('a warning only when messages were held back or a subscription was cut', () => {
    assert.deepEqual(levels({ buffering: buffering(1.2, 1.0) }), ['info'], 'p50 the same with buffering on and off: nothing held');
    assert.deepEqual(levels({ buffering: buffering(900, 1.0) }), ['warn'], 'held back about a second');
    assert.deepEqual(levels({ buffering: buffering(1.2, 1.0, 12) }), ['warn'], 'eight still held when the wait ended');
    assert.deepEqual(levels({ readTimeout: cut(null) }), ['info'], 'not cut');
    assert.deepEqual(levels({ readTimeout: cut(1000) }), ['warn'], 'cut');
  });
});
