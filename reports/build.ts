/**
 * results.json → the report as one document. The run-wide parts (environment,
 * findings across scenarios, the summary table, the charts every scenario
 * gets, the baseline comparison) are built here; each scenario's own words,
 * tables and charts come from its facet in the scenario registry.
 */

import { RESULTS_VERSION } from '../metrics/results.ts';
import type { Results, ScenarioResult, TransportResult } from '../metrics/results.ts';
import { transportColor } from '../report-model/charts.ts';
import type { Block, Cell, Finding, FindingGroup, ListBlock, ReportDoc, Section, TableBlock, Topic } from '../report-model/doc.ts';
import type { ScenarioFacet } from '../report-model/facet.ts';
import { summaryCell, summaryColumns } from '../report-model/figures.ts';
import { computeFindings, loadInWords } from '../report-model/findings.ts';
import { matrixTable, type PlacedColumn } from '../report-model/matrix.ts';
import { fmtBytes, fmtParam, isCompleted, isFailed, isNotApplicable, notApplicableReason, orderedRows } from '../report-model/format.ts';
import { facetOf } from '../scenarios/index.ts';
import { transports } from '../transports/index.ts';
import { commonCharts, latencyChart } from './charts.ts';
import { compareResults, comparisonSection, scenarioComparison } from './compare.ts';
import type { Comparison } from './compare.ts';

/** Options of buildReport. */
export interface BuildOptions {
  /** An earlier run to compare against. */
  baseline?: Results;
}

/** Anchor id of a scenario's section. */
function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'scenario'
  );
}

/** Parameters shown as label/value pairs: scalars and short lists; results a scenario computed across transports have their own tables. */
function simpleParams(params: Record<string, unknown>): [string, string][] {
  return Object.entries(params).map(([k, v]): [string, string] => [k, fmtParam(v)]);
}

function summaryTable(rows: TransportResult[], rowFigure: ((r: TransportResult) => string) | undefined): TableBlock {
  const cols = summaryColumns(rows, rowFigure);
  return {
    kind: 'table',
    key: 'summary',
    title: 'Summary',
    columns: cols.map((c) => ({ label: c.head, key: c.key, ...(c.text ? { text: true } : {}) })),
    rows: rows.map((r) =>
      cols.map((c): Cell => {
        const text = summaryCell(c, r);
        if (c.key === 'transport') return { text, swatch: transportColor(r.transport) };
        if (c.key === 'state' && isNotApplicable(r)) return { text, mark: 'na', title: notApplicableReason(r) };
        if (c.key === 'state' && r.state === 'errored') return { text, mark: 'bad', ...(r.error ? { title: r.error } : {}) };
        if (c.key === 'flags' && text) return { text, mark: 'flag' };
        return { text };
      }),
    ),
    rowKeys: rows.map((r) => r.transport),
  };
}

function rowLists(rows: TransportResult[]): ListBlock[] {
  const out: ListBlock[] = [];
  const failed = rows.filter(isFailed);
  if (failed.length > 0)
    out.push({
      kind: 'list',
      key: 'errored',
      items: failed.map((r) => ({ level: 'error', label: `${r.transport} errored:`, text: r.error ?? 'no reason given' })),
    });
  const na = rows.filter(isNotApplicable);
  if (na.length > 0)
    out.push({
      kind: 'list',
      key: 'not-applicable',
      items: na.map((r) => ({ level: 'info', label: `${r.transport}: not applicable:`, text: notApplicableReason(r) })),
    });
  return out;
}

function scenarioSection(s: ScenarioResult, facet: ScenarioFacet | undefined, cmp: Comparison | undefined): Section {
  const rows = orderedRows(s.results);
  const blocks: Block[] = [];
  const load = loadInWords(s, facet);
  if (load) blocks.push({ kind: 'text', role: 'load', text: load });
  const note = facet?.loadNote?.(s);
  if (note) blocks.push({ kind: 'text', role: 'note', text: note });
  const rowFigure = facet?.rowFigure;
  if (rows.length > 0) blocks.push(summaryTable(rows, rowFigure ? (r) => rowFigure(r, s) : undefined));
  blocks.push(...rowLists(rows));
  const applicable = rows.filter((r) => !isNotApplicable(r));
  if (rows.length === 0) blocks.push({ kind: 'text', role: 'empty', text: 'No transport ran in this scenario.' });
  else if (!rows.some(isCompleted) && applicable.length > 0)
    blocks.push({ kind: 'text', role: 'empty', text: 'Every transport errored in this scenario; there is nothing to chart.' });
  blocks.push(...(facet?.details?.(s) ?? []));
  const latency = latencyChart(rows, facet?.roundTrip === true);
  if (latency) blocks.push(latency);
  blocks.push(...(facet?.charts?.(s) ?? []), ...commonCharts(rows));
  const id = `scenario-${slug(s.name)}`;
  const comparison = cmp ? scenarioComparison(cmp, s.name, `${id}-baseline`) : undefined;
  return {
    id,
    title: s.name,
    scenario: s.name,
    params: simpleParams(s.params),
    blocks,
    ...(comparison ? { comparison } : {}),
  };
}

/** The decision matrix from every scenario facet's columns, each linked to its scenario's section. */
function matrixOf(results: Results): TableBlock | undefined {
  const columns: PlacedColumn[] = [];
  for (const s of results.scenarios) {
    const anchor = `scenario-${slug(s.name)}`;
    for (const c of facetOf(s)?.matrix?.(s) ?? []) columns.push({ ...c, anchor });
  }
  const order = transports().map((t) => t.name);
  const seen = [...new Set(results.scenarios.flatMap((s) => s.results.map((r) => r.transport)))];
  // Registered transports in their order, then any this lab does not know (an older file's).
  return matrixTable(columns, [...order.filter((t) => seen.includes(t)), ...seen.filter((t) => !order.includes(t))]);
}

const TOPICS: [Topic | 'other', string][] = [
  ['latency', 'Latency'],
  ['cost', 'Cost: server CPU and memory'],
  ['bytes', 'Bytes on the wire'],
  ['liveness', 'Liveness: noticing a dead peer'],
  ['limits', 'Limits: how far each one goes'],
  ['other', 'Notes'],
];

/** Findings grouped by question (a finding's own topic, else its scenario facet's), each linked to its scenario's section. */
function groupFindings(findings: Finding[], results: Results): FindingGroup[] {
  const byName = new Map(results.scenarios.map((s) => [s.name, s]));
  const groups = new Map<Topic | 'other', FindingGroup['items']>();
  for (const f of findings) {
    const s = f.scenario !== undefined ? byName.get(f.scenario) : undefined;
    const topic = f.topic ?? (s ? facetOf(s)?.topic : undefined) ?? 'other';
    const item = { ...f, ...(s ? { anchor: `scenario-${slug(s.name)}` } : {}) };
    groups.set(topic, [...(groups.get(topic) ?? []), item]);
  }
  return TOPICS.filter(([t]) => groups.has(t)).map(([topic, title]) => ({ topic, title, items: groups.get(topic)! }));
}

/** The CPU split of a run in words. */
function cpuSetsInWords(sets: Results['meta']['cpuSets']): string {
  if (!sets) return 'not recorded (not pinned)';
  if ('off' in sets) return sets.off;
  return `server on CPU ${sets.server.join(',')}, load on CPU ${sets.load.join(',')} (taskset)`;
}

/** The box that says how good a figure is. */
const HOW_TO_READ = [
  'Latency is corrected for coordinated omission: each message is timed from when it was meant to be sent, so a stalled server cannot hide its stall.',
  'The server and the load processes run on disjoint CPUs when the machine has two or more (the run environment lists the "CPU sets"); unpinned figures mix both sides\' costs.',
  'A figure marked "floor" was limited by the load client even after adding load processes: the server can do at least that much.',
  'Saturation figures read "sustained ≥ A, failed at B": the true limit lies in between, within the stated resolution; a single doubled number is never given.',
  'With several trials a figure is their median with the min–max range; one transport is said to beat another only when the ranges do not overlap.',
  'Server CPU µs per message at a fixed rate every server sustains is the figure that says which server is cheaper; messages per second of a client-bound run is not.',
];

/** Builds the report document of a run, optionally against a baseline. */
export function buildReport(results: Results, opts: BuildOptions = {}): ReportDoc {
  const m = results.meta;
  const cmp = opts.baseline ? compareResults(results, opts.baseline) : undefined;
  // A scenario unknown to this lab (an older file's) has no facet and gets the general parts only.
  const sections = results.scenarios.map((s) => scenarioSection(s, facetOf(s), cmp));
  const matrix = matrixOf(results);
  const findings = computeFindings(results, facetOf);
  return {
    title: 'transport-lab results',
    subtitle: `Run started ${m.startedAt}${m.git ? ` at commit ${m.git.slice(0, 12)}` : ''}.`,
    environment: [
      ['Node', m.node],
      ['CPU', `${m.cpu} (${m.cores} cores)`],
      ['OS', m.os],
      ...(m.memoryBytes !== undefined ? ([['memory', fmtBytes(m.memoryBytes)]] as [string, string][]) : []),
      ['git commit', m.git ?? 'not a git checkout'],
      ['command', m.command],
      ['started', m.startedAt],
      ['finished', m.finishedAt ?? '–'],
      ['CPU sets', cpuSetsInWords(m.cpuSets)],
      ...Object.entries(m.peers ?? {}).map(([name, v]): [string, string] => [`peer ${name}`, v]),
      ...(m.noisyReruns !== undefined ? ([['noisy trials rerun', String(m.noisyReruns)]] as [string, string][]) : []),
      ['results version', `${m.version} (this report reads ${RESULTS_VERSION})`],
    ],
    ...(matrix ? { matrix } : {}),
    findings,
    findingGroups: groupFindings(findings, results),
    howToRead: HOW_TO_READ,
    ...(cmp && opts.baseline ? { comparison: comparisonSection(cmp, opts.baseline) } : {}),
    sections,
    legend: transports().map((t) => ({ name: t.name, color: t.look.color })),
  };
}
