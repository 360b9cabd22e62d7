/** The fan-out scenario's part of the report: latency as subscribers grow, and the largest N under the limit. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { axis, baseOptions, chartBlock, lineDataset, transportLine, useLog, type LineDataset } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { fmtInt, fmtNum, fmtSig, isCompleted, isNotApplicable, listInWords, numList, orderedRows } from '../../report-model/format.ts';
import { detailTable, joinParts, matrixCells, oneTrial, param, rowsWith, sizeText } from '../facet-kit.ts';
import { readFanOutCapacity, readFanOutSteps } from './schema.ts';
import { broadcastFramingNote } from '../broadcast-note.ts';
import { clusterBlocks, clusterFindings } from '../cluster-kit.ts';

function loadInWords(s: ScenarioResult): string | undefined {
  const rate = param(s, 'rate');
  const steps = numList(s.params['steps']);
  if (rate === undefined || !steps) return undefined;
  return joinParts(`${fmtNum(rate)} msg/s published to N = ${listInWords(steps.map(fmtInt))} subscribers`, sizeText(s));
}

function rowFigure(row: TransportResult): string {
  const top = readFanOutSteps(row.extra)?.at(-1);
  return top ? `p99 ${fmtSig(top.p99)} ms at N=${fmtInt(top.n)}` : '';
}

/** The largest N under the latency limit: the matrix's limits column. */
function matrix(s: ScenarioResult): MatrixColumn[] {
  const cap = readFanOutCapacity(s.summary);
  if (!cap) return [];
  const steps = numList(s.params['steps']);
  const among = cap.searched === false && steps ? `, among N = ${listInWords(steps.map(fmtInt))}` : '';
  return [
    {
      key: 'fan-out',
      order: 60,
      label: `subscribers, p99<${fmtSig(cap.limitMs)} ms`,
      question: `most subscribers with p99 under ${fmtSig(cap.limitMs)} ms and no loss${among}`,
      better: 'higher',
      cells: matrixCells(s, (r) => {
        const n = cap.largestN[r.transport];
        return n === undefined ? undefined : { range: oneTrial(n), text: n > 0 ? fmtInt(n) : 'none' };
      }),
    },
  ];
}

function findings(s: ScenarioResult): Finding[] {
  const cap = readFanOutCapacity(s.summary);
  if (!cap) return [broadcastFramingNote(s)].filter((f) => f !== undefined);
  const list = Object.entries(cap.largestN)
    .filter((e): e is [string, number] => e[1] !== undefined)
    .sort((x, y) => y[1] - x[1])
    .map(([t, n]) => `${t} ${n > 0 ? fmtInt(n) : 'none'}`)
    .join(', ');
  const how = cap.searched === false ? ' among the steps run (capacity search off)' : '';
  return [
    ...(list
      ? [{ level: 'info' as const, scenario: s.name, text: `${s.name}: largest N with p99 under ${fmtSig(cap.limitMs)} ms and no loss${how}: ${list}.` }]
      : []),
    ...clusterFindings(s),
    ...[broadcastFramingNote(s)].filter((f) => f !== undefined),
  ];
}

function details(s: ScenarioResult): Block[] {
  const cap = readFanOutCapacity(s.summary);
  if (!cap) return [];
  const rows = orderedRows(s.results).filter((r) => !isNotApplicable(r));
  return [
    ...clusterBlocks(s),
    detailTable(
      'fan-out-capacity',
      `Capacity: largest N with p99 under ${fmtSig(cap.limitMs)} ms and no loss`,
      ['transport', 'largest N'],
      [true, false],
      rows.map((r) => {
        const n = cap.largestN[r.transport];
        return [r.transport, n === undefined ? (isCompleted(r) ? '–' : 'errored') : n > 0 ? fmtInt(n) : 'none'];
      }),
      [
        cap.searched === true
          ? 'N was doubled past the configured steps until p99 passed the limit.'
          : cap.searched === false
            ? 'Capacity search was off (--capacity on doubles N further): the figure is the largest configured step that held, not a ceiling.'
            : '',
      ].filter(Boolean),
    ),
  ];
}

function charts(s: ScenarioResult): Block[] {
  const withSteps = rowsWith(s, readFanOutSteps);
  if (withSteps.length === 0) return [];
  const cap = readFanOutCapacity(s.summary);
  const datasets: LineDataset[] = [];
  const ns: number[] = [];
  const ys: number[] = [];
  for (const { r, x: steps } of withSteps) {
    datasets.push(
      transportLine(
        r,
        steps.map((st) => ({ x: st.n, y: st.p99 })),
        `${r.transport} p99`,
        { borderDash: [] },
      ),
    );
    datasets.push(
      transportLine(
        r,
        steps.map((st) => ({ x: st.n, y: st.p50 })),
        `${r.transport} p50`,
        { borderDash: [3, 3], borderWidth: 1.5, pointStyle: 'triangle' },
      ),
    );
    for (const st of steps) {
      ns.push(st.n);
      ys.push(st.p50, st.p99);
    }
  }
  if (cap && ns.length > 0) {
    datasets.push(
      lineDataset(
        `p99 limit ${fmtSig(cap.limitMs)} ms`,
        '#444444',
        [
          { x: Math.min(...ns), y: cap.limitMs },
          { x: Math.max(...ns), y: cap.limitMs },
        ],
        [6, 4],
        { pointRadius: 0, borderWidth: 1 },
      ),
    );
    ys.push(cap.limitMs);
  }
  return [
    chartBlock({
      key: 'fan-out-steps',
      title: 'Latency as subscribers grow',
      caption: 'Solid: p99; dashed: p50. Each message goes to every subscriber.',
      config: {
        type: 'scatter',
        data: { datasets },
        options: baseOptions<'scatter'>({ x: axis('subscribers N', useLog(ns)), y: axis('latency, ms', useLog(ys)) }),
      },
      head: ['transport', 'N', 'p50 ms', 'p99 ms', 'delivered', 'lost'],
      rows: withSteps.flatMap(({ r, x: steps }) =>
        steps.map((st) => [r.transport, fmtInt(st.n), fmtSig(st.p50), fmtSig(st.p99), fmtInt(st.delivered), fmtInt(st.lost)]),
      ),
      wide: true,
    }),
  ];
}

/** The fan-out facet. */
export const fanOutFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  reads: (s) => readFanOutCapacity(s.summary) !== undefined || s.results.some((r) => readFanOutSteps(r.extra) !== undefined),
  topic: 'limits',
  findings,
  matrix,
  details,
  charts,
};
