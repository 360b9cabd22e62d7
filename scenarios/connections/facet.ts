/** The connections scenario's part of the report: what idle connections cost in memory and CPU. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { alpha, axis, baseOptions, chartBlock, transportBars, transportColor, transportLine, useLog, type LineDataset } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { fmtBytes, fmtDuration, fmtFixed, fmtInt, fmtMiB, fmtSig, listInWords, numList } from '../../report-model/format.ts';
import { detailTable, joinParts, matrixCells, oneTrial, param, rowsWith } from '../facet-kit.ts';
import { readConnections, type ConnectionsStep } from './schema.ts';
import { clusterBlocks } from '../cluster-kit.ts';

const dash = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '–' : f(v));

/** Completed rows with their steps. */
function withSteps(s: ScenarioResult): { r: TransportResult; x: ConnectionsStep[] }[] {
  return rowsWith(s, (e) => readConnections(e)?.steps);
}

function loadInWords(s: ScenarioResult): string | undefined {
  const steps = numList(s.params['steps']);
  const hold = param(s, 'holdMs');
  const hb = param(s, 'heartbeatIntervalMs');
  const poll = param(s, 'pollIntervalMs');
  if (!steps) return undefined;
  return joinParts(
    `${listInWords(steps.map(fmtInt))} idle connections${hold !== undefined ? `, each step held ${fmtDuration(hold)}` : ''}`,
    hb !== undefined && (hb > 0 ? `heartbeat every ${fmtDuration(hb)}` : 'heartbeat off'),
    poll !== undefined && `polling every ${fmtDuration(poll)}`,
  );
}

function rowFigure(row: TransportResult): string {
  const c = readConnections(row.extra);
  const parts: string[] = [];
  const last = c?.steps?.at(-1);
  if (last) parts.push(`${fmtBytes(last.rssPerConnBytes)}/conn at ${fmtInt(last.connections)}`);
  if (c?.skipped) parts.push(`${c.skipped.length} step(s) skipped`);
  return parts.join(', ');
}

/**
 * The least rise of RSS over the empty server that says something: below it, what a step adds is
 * within the pages a collection hands back or keeps (at 200 connections the rise is about 2 MB,
 * and a step can read below the empty server), so the V8 heap, counted to the byte after a gc,
 * is the figure that is resolved.
 */
export const RSS_RESOLUTION_BYTES = 8 * 1024 * 1024;

/** What a row's memory per connection is read from: RSS when its rise is resolved, else the heap. */
type MemoryFigure = 'rss' | 'heap';

/** Each row's step at the largest count every transport reached, and the figure every row can be compared by there. */
function memoryAt(
  s: ScenarioResult,
): { common: number; at: { t: TransportResult['transport']; st: ConnectionsStep; heap: boolean }[]; by: MemoryFigure } | undefined {
  const conns = withSteps(s);
  if (conns.length === 0) return undefined;
  const common = Math.min(...conns.map((c) => c.x[c.x.length - 1]!.connections));
  const at = conns
    .map((c) => {
      const base = readConnections(c.r.extra)?.baseline;
      // A program of its own (a peer) has no JS heap: its heap figure is no figure.
      return { t: c.r.transport, st: c.x.filter((st) => st.connections <= common).pop(), heap: (base?.heapBytes ?? 0) > 0, base };
    })
    .filter((c): c is typeof c & { st: ConnectionsStep } => c.st !== undefined);
  const resolved = at.every((c) => c.base !== undefined && c.st.rssBytes - c.base.rssBytes >= RSS_RESOLUTION_BYTES);
  const by: MemoryFigure = resolved || !at.some((c) => c.heap && c.st.heapPerConnBytes !== undefined) ? 'rss' : 'heap';
  return { common, at: at.map(({ t, st, heap }) => ({ t, st, heap })), by };
}

/** The per-connection bytes a row shows for the figure, or undefined when it has none. */
const perConn = (st: ConnectionsStep, heap: boolean, by: MemoryFigure): number | undefined =>
  by === 'rss' ? st.rssPerConnBytes : heap ? st.heapPerConnBytes : undefined;

/** Memory per idle connection at the largest step every transport reached: the matrix's memory column. */
function matrix(s: ScenarioResult): MatrixColumn[] {
  const m = memoryAt(s);
  if (!m) return [];
  const steps = new Map(m.at.map((c) => [c.t, c]));
  return [
    {
      key: 'memory',
      order: 40,
      label: m.by === 'rss' ? 'RSS/idle conn' : 'heap/idle conn',
      question:
        m.by === 'rss'
          ? `least server memory per idle connection (RSS at ${fmtInt(m.common)} connections)`
          : `least server memory per idle connection (V8 heap after a gc at ${fmtInt(m.common)} connections: RSS rose by less than its ${fmtMiB(RSS_RESOLUTION_BYTES)} MiB resolution)`,
      better: 'lower',
      cells: matrixCells(
        s,
        (r) => {
          const c = steps.get(r.transport);
          const v = c && perConn(c.st, c.heap, m.by);
          return v !== undefined ? { range: oneTrial(v), text: fmtBytes(v) } : undefined;
        },
        m.by === 'heap' ? 'no JS heap to read: a program of its own, whose RSS is below its resolution here' : undefined,
      ),
    },
  ];
}

function findings(s: ScenarioResult): Finding[] {
  const conns = withSteps(s);
  if (conns.length === 0) return [];
  const out: Finding[] = [];
  // Memory per idle connection at the largest step every transport reached, by the figure that is resolved there.
  const m = memoryAt(s);
  const at = (m?.at ?? [])
    .map((c) => ({ t: c.t, v: perConn(c.st, c.heap, m!.by) }))
    .filter((c): c is { t: TransportResult['transport']; v: number } => c.v !== undefined)
    .sort((a, b) => a.v - b.v);
  if (m && at.length > 0)
    out.push({
      level: 'info',
      scenario: s.name,
      text:
        m.by === 'rss'
          ? `${s.name}: server RSS per idle connection at ${fmtInt(m.common)}: ${at.map((x) => `${x.t} ${fmtBytes(x.v)}`).join(', ')}.`
          : `${s.name}: server V8 heap per idle connection at ${fmtInt(m.common)}: ${at.map((x) => `${x.t} ${fmtBytes(x.v)}`).join(', ')} (RSS rose by less than its ${fmtMiB(RSS_RESOLUTION_BYTES)} MiB resolution, so it is given in the table, not compared).`,
    });
  // HTTP/2 rows whose pages shared sessions: what an idle stream costs with its session's cost spread over the streams on it.
  for (const { r, x } of conns) {
    const k = readConnections(r.extra)?.streamsPerSession ?? 1;
    const st = x.at(-1)!;
    if (k <= 1 || st.socketsOpen === undefined) continue;
    out.push({
      level: 'info',
      scenario: s.name,
      text: `${s.name}/${r.transport}: ${fmtInt(st.connections)} idle streams over ${fmtInt(st.socketsOpen)} h2 sessions (${fmtInt(k)} a session, as a browser's tabs share one connection): ${fmtBytes(st.rssPerConnBytes)} RSS and ${dash(st.heapPerConnBytes, fmtBytes)} heap per stream, each session's own cost spread over its streams.`,
    });
  }
  for (const { r } of conns) {
    for (const k of readConnections(r.extra)?.skipped ?? []) {
      out.push({ level: 'warn', scenario: s.name, text: `${s.name}/${r.transport}: the ${fmtInt(k.connections)}-connection step was skipped: ${k.reason}.` });
    }
  }
  return out;
}

function details(s: ScenarioResult): Block[] {
  const rows = withSteps(s);
  if (rows.length === 0) return [];
  return [...stepTables(rows), ...clusterBlocks(s)];
}

function stepTables(rows: ReturnType<typeof withSteps>): Block[] {
  const notes: string[] = [];
  const bases = rows.map(({ r }) => ({ t: r.transport, base: readConnections(r.extra)?.baseline })).filter((x) => x.base !== undefined);
  if (bases.length > 0)
    notes.push(
      `Per-connection figures are above the empty server after a gc (RSS / heap): ${bases.map((x) => `${x.t} ${fmtMiB(x.base!.rssBytes)} / ${fmtMiB(x.base!.heapBytes)} MiB`).join(', ')}.`,
    );
  for (const { r } of rows) {
    for (const k of readConnections(r.extra)?.skipped ?? []) notes.push(`${r.transport}: ${fmtInt(k.connections)} connections skipped: ${k.reason}.`);
  }
  return [
    detailTable(
      'connections',
      'Idle connections: memory and CPU per step',
      [
        'transport',
        'connections',
        'RSS MiB',
        'RSS/conn',
        'added RSS/conn',
        'heap/conn',
        'sockets',
        'subscribers',
        'CPU %',
        'polls/s',
        'connect ms',
        'load procs',
      ],
      [true, false, false, false, false, false, false, false, false, false, false, false],
      rows.flatMap(({ r, x: steps }) =>
        steps.map((st) => [
          r.transport,
          fmtInt(st.connections),
          fmtMiB(st.rssBytes),
          fmtBytes(st.rssPerConnBytes),
          dash(st.marginalRssPerConnBytes, fmtBytes),
          dash(st.heapPerConnBytes, fmtBytes),
          dash(st.socketsOpen, fmtInt),
          dash(st.subscribers, fmtInt),
          fmtFixed(st.cpuPct, 1),
          dash(st.requestsPerSec, fmtSig),
          dash(st.connectMs, fmtInt),
          dash(st.loadProcesses, fmtInt),
        ]),
      ),
      notes,
    ),
  ];
}

function charts(s: ScenarioResult): Block[] {
  const rows = withSteps(s);
  if (rows.length === 0) return [];
  const head = ['transport', 'connections', 'RSS/conn KiB', 'heap/conn KiB', 'RSS MiB', 'heap MiB', 'CPU %'];
  const table = rows.flatMap(({ r, x: steps }) =>
    steps.map((st) => [
      r.transport,
      fmtInt(st.connections),
      fmtSig(st.rssPerConnBytes / 1024),
      st.heapPerConnBytes !== undefined ? fmtSig(st.heapPerConnBytes / 1024) : '–',
      fmtMiB(st.rssBytes),
      fmtMiB(st.heapBytes),
      fmtFixed(st.cpuPct, 1),
    ]),
  );
  const counts = [...new Set(rows.flatMap((x) => x.x.map((st) => st.connections)))];
  return counts.length === 1 ? oneStepCharts(rows, counts[0]!, { head, rows: table }) : growthCharts(rows, { head, rows: table });
}

type StepRows = ReturnType<typeof withSteps>;
/** The numbers every chart of the scenario carries: each step of each row. */
type StepTable = { head: string[]; rows: string[][] };

/** One step, `n` connections: bars per transport read better than one-point lines. */
function oneStepCharts(rows: StepRows, n: number, numbers: StepTable): Block[] {
  const { head, rows: table } = numbers;
  const at = rows.map((x) => x.x[0]!);
  const colors = rows.map((x) => transportColor(x.r.transport));
  return [
    chartBlock({
      key: 'connections-per-conn',
      title: `Memory per idle connection at ${fmtInt(n)}`,
      caption: 'Solid: server RSS above the empty server, per connection; light: V8 heap per connection (after a gc).',
      config: {
        type: 'bar',
        data: {
          labels: rows.map((x) => x.r.transport),
          datasets: [
            { label: 'RSS per connection', data: at.map((st) => st.rssPerConnBytes / 1024), backgroundColor: colors, borderWidth: 0 },
            {
              label: 'V8 heap per connection',
              data: at.map((st) => (st.heapPerConnBytes ?? 0) / 1024),
              backgroundColor: colors.map((c) => alpha(c, 0.4)),
              borderColor: colors,
              borderWidth: 1,
            },
          ],
        },
        options: baseOptions<'bar'>({ y: axis('KiB per connection', false) }),
      },
      head,
      rows: table,
    }),
    chartBlock({
      key: 'connections-cpu',
      title: `Server CPU holding ${fmtInt(n)} idle connections`,
      caption: 'Heartbeats, held polls and short polls at their interval: what idle costs.',
      config: transportBars(
        rows.map((x) => x.r),
        at.map((st) => st.cpuPct),
        '% of one core',
      ),
      head: ['transport', 'CPU %', 'polls/s'],
      rows: rows.map((x) => [x.r.transport, fmtFixed(x.x[0]!.cpuPct, 1), x.x[0]!.requestsPerSec !== undefined ? fmtSig(x.x[0]!.requestsPerSec) : '–']),
    }),
  ];
}

/** Several steps: memory and CPU against the connections held, a line per transport. */
function growthCharts(rows: StepRows, numbers: StepTable): Block[] {
  const { head, rows: table } = numbers;
  const xs = rows.flatMap((x) => x.x.map((st) => st.connections));
  const lines = (y: (st: ConnectionsStep) => number): LineDataset[] =>
    rows.map(({ r, x: steps }) =>
      transportLine(
        r,
        steps.map((st) => ({ x: st.connections, y: y(st) })),
      ),
    );
  const x = axis('open connections', useLog(xs));
  const scatter = (datasets: LineDataset[], yTitle: string) => ({
    type: 'scatter' as const,
    data: { datasets },
    options: baseOptions<'scatter'>({ x, y: axis(yTitle, false) }),
  });
  return [
    chartBlock({
      key: 'connections-per-conn',
      title: 'Memory per idle connection',
      caption: 'Server RSS above the empty baseline, divided by the connections held.',
      config: scatter(
        lines((st) => st.rssPerConnBytes / 1024),
        'KiB per connection',
      ),
      head,
      rows: table,
    }),
    chartBlock({
      key: 'connections-rss',
      title: 'Server RSS as connections grow',
      caption: 'Total resident memory of the server process.',
      config: scatter(
        lines((st) => st.rssBytes / 1048576),
        'RSS, MiB',
      ),
      head,
      rows: table,
    }),
    chartBlock({
      key: 'connections-cpu',
      title: 'Server CPU while the connections sit idle',
      caption: 'Heartbeats, held polls and short polls at their interval.',
      config: scatter(
        lines((st) => st.cpuPct),
        '% of one core',
      ),
      head,
      rows: table,
    }),
  ];
}

/** The connections facet. */
export const connectionsFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  reads: (s) => s.results.some((r) => readConnections(r.extra)?.steps !== undefined),
  topic: 'cost',
  findings,
  matrix,
  details,
  charts,
};
