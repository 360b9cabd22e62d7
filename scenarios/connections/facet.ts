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

/** Memory per idle connection at the largest step every transport reached: the matrix's memory column. */
function matrix(s: ScenarioResult): MatrixColumn[] {
  const conns = withSteps(s);
  if (conns.length === 0) return [];
  const common = Math.min(...conns.map((c) => c.x[c.x.length - 1]!.connections));
  const steps = new Map(conns.map((c) => [c.r.transport, c.x.filter((st) => st.connections <= common).pop()]));
  return [
    {
      key: 'memory',
      order: 40,
      label: 'RSS/idle conn',
      question: `least server memory per idle connection (RSS at ${fmtInt(common)} connections)`,
      better: 'lower',
      cells: matrixCells(s, (r) => {
        const st = steps.get(r.transport);
        return st ? { range: oneTrial(st.rssPerConnBytes), text: fmtBytes(st.rssPerConnBytes) } : undefined;
      }),
    },
  ];
}

function findings(s: ScenarioResult): Finding[] {
  const conns = withSteps(s);
  if (conns.length === 0) return [];
  const out: Finding[] = [];
  // Memory per idle connection at the largest step every transport reached.
  const common = Math.min(...conns.map((c) => c.x[c.x.length - 1]!.connections));
  const at = conns
    .map((c) => ({ t: c.r.transport, st: c.x.filter((st) => st.connections <= common).pop() }))
    .filter((c): c is { t: TransportResult['transport']; st: ConnectionsStep } => c.st !== undefined)
    .sort((a, b) => a.st.rssPerConnBytes - b.st.rssPerConnBytes);
  if (at.length > 0)
    out.push({
      level: 'info',
      scenario: s.name,
      text: `${s.name}: server RSS per idle connection at ${fmtInt(common)}: ${at.map((x) => `${x.t} ${fmtBytes(x.st.rssPerConnBytes)}`).join(', ')}.`,
    });
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
  if (counts.length === 1) {
    // One step: bars per transport read better than one-point lines.
    const n = counts[0]!;
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
