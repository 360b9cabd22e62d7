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
import { fmtBytes, fmtDuration, fmtSig, fmtParam, isCompleted, isFailed, isNotApplicable, notApplicableReason, orderedRows } from '../report-model/format.ts';
import { facetOf } from '../scenarios/facets.ts';
import { transports } from '../transports/index.ts';
import { commonCharts, latencyChart } from './charts.ts';
import { compareResults, comparisonSection, scenarioComparison } from './compare.ts';
import { linkBlocks } from './link-blocks.ts';
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

function summaryTable(rows: TransportResult[], rowFigure: ((r: TransportResult) => string) | undefined, saturated: boolean): TableBlock {
  const cols = summaryColumns(rows, rowFigure, saturated);
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
  if (rows.length > 0) blocks.push(summaryTable(rows, rowFigure ? (r) => rowFigure(r, s) : undefined, facet?.queuedLatency?.(s) ?? false));
  blocks.push(...rowLists(rows));
  const applicable = rows.filter((r) => !isNotApplicable(r));
  if (rows.length === 0) blocks.push({ kind: 'text', role: 'empty', text: 'No transport ran in this scenario.' });
  else if (!rows.some(isCompleted) && applicable.length > 0)
    blocks.push({ kind: 'text', role: 'empty', text: 'Every transport errored in this scenario; there is nothing to chart.' });
  blocks.push(...(facet?.details?.(s) ?? []));
  const proxy = proxyTable(rows);
  if (proxy) blocks.push(proxy);
  const latency = latencyChart(rows, facet?.roundTrip === true);
  if (latency) blocks.push(latency);
  blocks.push(...linkBlocks(rows, facet?.roundTrip === true));
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

/** The proxy's cost under a scenario's load, for rows that went through one (`extra.proxy`, written by the runner's collect). */
function proxyTable(rows: readonly TransportResult[]): TableBlock | undefined {
  type ProxyCost = { cpuMs?: number; cpuPct?: number; cpuUsPerMessage?: number; rssPeakBytes?: number; clientBytesPerMessage?: number };
  const have = rows.flatMap((r) => {
    const x = r.extra?.['proxy'];
    return isCompleted(r) && x && typeof x === 'object' ? [{ r, x: x as ProxyCost }] : [];
  });
  if (have.length === 0) return undefined;
  const n = (v: number | undefined, unit = '') => (typeof v === 'number' ? `${fmtSig(v)}${unit}` : '–');
  return {
    kind: 'table',
    key: 'proxy-cost',
    title: 'The proxy in the path: its cost under this load',
    columns: [
      { label: 'transport', text: true },
      { label: 'proxy CPU %' },
      { label: 'proxy CPU µs/msg' },
      { label: 'proxy peak RSS' },
      { label: 'B/msg client side' },
      { label: 'B/msg server side' },
    ],
    rows: have.map(({ r, x }) => [
      { text: r.transport, swatch: transportColor(r.transport) },
      { text: n(x.cpuPct) },
      { text: n(x.cpuUsPerMessage) },
      { text: typeof x.rssPeakBytes === 'number' ? fmtBytes(x.rssPeakBytes) : '–' },
      { text: n(x.clientBytesPerMessage) },
      { text: n(r.wire?.bytesPerMessage) },
    ]),
    rowKeys: have.map(({ r }) => r.transport),
    notes: [
      'Proxy CPU and memory: its master and workers, read from /proc over the measured phase (CPU in 10 ms ticks). Client side: bytes at the load clients’ sockets (client ↔ proxy; over TLS, the plaintext); server side: at the server’s sockets (proxy ↔ server).',
    ],
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
  'Saturation figures read "sustained ≥ A, failed at B": the true limit lies in between, within the stated resolution; a single doubled number is never given. They follow the machine\'s state more than any other figure, so compare them between transports of one run (whose trials take turns), not between runs.',
  'With several trials a figure is their median with the min–max range; one transport is said to beat another only when the ranges do not overlap, or when, trial by trial (trial k of each runs back to back), the 95 % interval of their ratio lies more than 10 % from 1: a machine that slows down during a run widens both ranges but moves each pair alike, and a smaller difference seen only in pairs did not hold from run to run.',
  'Server CPU µs per message at a fixed rate every server sustains is the figure that says which server is cheaper; messages per second of a client-bound run is not.',
  "Latency of a saturated run (a pipelined echo keeping every window full, a ramp's top step) is mostly time spent waiting in queues and moves widely between runs: its columns are marked saturated. The p50 at the fixed rate is the latency to compare servers by, though much of it is the load process's own sending (its 1 ms timer ticks), so only a difference over 10 % is named. The p99 at the fixed rate also carries the load process's own delays (its sender's timer runs late while it is busy), so read it with its trials' range.",
];

/** The run's path in words: nginx in front and its settings, TLS, or a server the lab did not start. */
function pathInWords(p: Results['meta']['path']): string {
  if (!p) return "straight to the lab's server, plain TCP";
  if (p.target !== undefined) return `a server the lab did not start: ${p.target}`;
  const parts: string[] = [];
  if (p.via)
    parts.push(
      `through ${p.via}${p.proxy ? ` (proxy_buffering ${p.proxy.buffering ? 'on' : 'off'}, proxy_read_timeout ${fmtDuration(p.proxy.readTimeoutMs)})` : ''}`,
    );
  if (p.tls) parts.push(`over TLS (${p.tls}${p.via ? `, ended at ${p.via}` : ''})`);
  return parts.join(', ') || "straight to the lab's server";
}

/** Run-wide notes on what the path changes in every figure, and the thresholds a run broke. */
function pathFindings(m: Results['meta']): Finding[] {
  const out: Finding[] = [];
  const p = m.path;
  if (p?.target !== undefined)
    out.push({
      level: 'warn',
      text: `Measured from the client side only: ${p.target} is a server the lab did not start, so no row has server CPU, memory or socket bytes; latency and loss are the load clients', and bytes are counted at the load clients' own sockets. Scenarios that need the lab's server are n/a.`,
    });
  if (p?.via)
    out.push({
      level: 'info',
      text: `Every row went through ${p.via}: latency includes the hop, server bytes are counted between ${p.via} and the server, and each row's extra.proxy holds ${p.via}'s CPU and memory (master and workers, from /proc).`,
    });
  if (p?.tls)
    out.push({
      level: 'info',
      text: `Every row ran over TLS${p.via ? ` ended at ${p.via}` : ''}: ${p.via ? "the clients' side of the hop is encrypted, the server's is not" : "bytes at the server's sockets are the encrypted ones, records and handshakes included; each row's extra.tls splits out what TLS added"}.`,
    });
  for (const b of m.thresholds?.broken ?? []) out.push({ level: 'error', text: b });
  return out;
}

/** Builds the report document of a run, optionally against a baseline. */
export function buildReport(results: Results, opts: BuildOptions = {}): ReportDoc {
  const m = results.meta;
  const cmp = opts.baseline ? compareResults(results, opts.baseline) : undefined;
  // A scenario unknown to this lab (an older file's) has no facet and gets the general parts only.
  const sections = results.scenarios.map((s) => scenarioSection(s, facetOf(s), cmp));
  const matrix = matrixOf(results);
  const findings = [...pathFindings(m), ...computeFindings(results, facetOf)];
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
      ...(m.serverNodeFlags ? ([['server Node flags', m.serverNodeFlags.join(' ') || 'none']] as [string, string][]) : []),
      ['path', pathInWords(m.path)],
      ...(m.h2 ? ([['HTTP/2 rows', m.h2]] as [string, string][]) : []),
      ...(m.thresholds
        ? ([['thresholds', `${m.thresholds.conditions.join(', ')}: ${m.thresholds.broken.length ? `${m.thresholds.broken.length} broken` : 'all held'}`]] as [
            string,
            string,
          ][])
        : []),
      ...Object.entries(m.peers ?? {}).map(([name, v]): [string, string] => [`peer ${name}`, v]),
      ...Object.entries(m.links ?? {}).map(([name, v]): [string, string] => [`link ${name}`, v]),
      ...(m.noisyReruns !== undefined ? ([['noisy trials rerun', String(m.noisyReruns)]] as [string, string][]) : []),
      ...(m.calibration
        ? ([
            [
              'machine speed',
              `calibration loop ${m.calibration.medianMs} ms median (${m.calibration.minMs}–${m.calibration.maxMs} over ${m.calibration.count} timings)${
                m.calibration.loopbackUs
                  ? `; loopback TCP round trip ${m.calibration.loopbackUs.median} µs median (${m.calibration.loopbackUs.min}–${m.calibration.loopbackUs.max})`
                  : ''
              }; lower is faster`,
            ],
          ] as [string, string][])
        : []),
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
