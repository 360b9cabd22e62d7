/** The connect scenario's part of the report: time to the first message per row, in ms and in round trips against the protocols' count. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { fmtDuration, fmtFixed, fmtInt } from '../../report-model/format.ts';
import { detailTable, matrixCells, param, rowsWith } from '../facet-kit.ts';
import { type ConnectExtra, readConnect } from './schema.ts';

/** How far the measured round trips may lie from the predicted count and still match it. */
export const MATCH_ROUND_TRIPS = 0.5;

function loadInWords(s: ScenarioResult): string | undefined {
  const fresh = param(s, 'fresh');
  const every = param(s, 'publishEveryMs');
  if (fresh === undefined) return undefined;
  return `${fmtInt(fresh)} fresh client${fresh === 1 ? '' : 's'} per row, one after another, each timed from its creation to its first message${every !== undefined ? `, the server publishing every ${fmtDuration(every)} (on a link every twentieth of its RTT)` : ''}`;
}

/** "3 round trips predicted (TCP 1 + TLS 1.3 1 + upgrade 1)", plus short polling's interval. */
function predictedText(x: ConnectExtra): string {
  const p = x.predicted;
  if (!p) return 'not predicted (a protocol the lab did not write)';
  return `${p.roundTrips} (${p.steps.join(' + ')}${p.plusInterval ? ', + up to one poll interval when the first poll finds nothing' : ''})`;
}

/** Whether a row's measured round trips lie within the match of its prediction; undefined without a link or a prediction. */
export function matches(x: ConnectExtra): boolean | undefined {
  if (x.roundTrips === undefined || !x.predicted) return undefined;
  return Math.abs(x.roundTrips - x.predicted.roundTrips) <= MATCH_ROUND_TRIPS;
}

function rowFigure(row: TransportResult): string {
  const x = readConnect(row.extra);
  if (!x) return '';
  const ms = `first message after ${fmtDuration(x.firstMessageMs.median)}`;
  if (x.roundTrips === undefined) return ms;
  return `${ms} = ${fmtFixed(x.roundTrips, 2)} RTT${x.predicted ? ` (predicted ${x.predicted.roundTrips})` : ''}`;
}

function matrix(s: ScenarioResult): MatrixColumn[] {
  if (rowsWith(s, readConnect).length === 0) return [];
  return [
    {
      key: 'connect',
      order: 15,
      label: 'first message',
      question: 'quickest first message from a fresh client',
      better: 'lower',
      cells: matrixCells(s, (r) => {
        const x = readConnect(r.extra);
        if (!x) return undefined;
        const m = x.firstMessageMs;
        return { range: { median: m.median, min: m.min, max: m.max, trials: 1 }, text: rowFigure(r) };
      }),
    },
  ];
}

function findings(s: ScenarioResult): Finding[] {
  const rows = rowsWith(s, readConnect).filter((x) => matches(x.x) !== undefined);
  if (rows.length === 0) return [];
  const off = rows.filter((x) => matches(x.x) === false);
  const tls = rows.some((x) => x.x.tls) ? ' over TLS' : '';
  if (off.length === 0)
    return [
      {
        level: 'info',
        scenario: s.name,
        topic: 'latency',
        text: `${s.name}: on every row with a link${tls} the first message came after the round trips the protocols predict, within ±${MATCH_ROUND_TRIPS} (${rows.map((x) => `${x.r.transport} ${fmtFixed(x.x.roundTrips!, 2)} of ${x.x.predicted!.roundTrips}`).join(', ')}).`,
      },
    ];
  return off.map((x) => ({
    level: 'warn' as const,
    scenario: s.name,
    topic: 'latency' as const,
    text: `${s.name}: ${x.r.transport} took ${fmtFixed(x.x.roundTrips!, 2)} round trips to its first message, the protocols predict ${predictedText(x.x)}.`,
  }));
}

function details(s: ScenarioResult): Block[] {
  const have = rowsWith(s, readConnect);
  if (have.length === 0) return [];
  return [
    detailTable(
      'connect',
      'Time from a fresh client to its first message',
      ['transport', 'link RTT', 'first message (median, min–max)', 'round trips measured', 'round trips predicted', 'after a reset of its connections'],
      [true, false, true, false, true, true],
      have
        .map(({ x }) => x)
        .map((x, i) => [
          have[i]!.r.transport,
          x.rttMs > 0 ? fmtDuration(x.rttMs) : 'loopback',
          `${fmtDuration(x.firstMessageMs.median)} (${fmtDuration(x.firstMessageMs.min)}–${fmtDuration(x.firstMessageMs.max)})`,
          x.roundTrips !== undefined ? fmtFixed(x.roundTrips, 2) : '–',
          predictedText(x),
        ]),
      [
        'Round trips are the median time divided by the link’s RTT; on loopback (no --link) a round trip is about 50 µs and only the time is given. On a link the server publishes every twentieth of the RTT (at least every 2 ms), so a subscribed client waits at most 0.05 RTT for a message and a poll’s first answer stays small.',
        ...have.flatMap(({ r, x }) => (x.errors?.length ? [`${r.transport}: ${x.errors.length} client(s) got no message (${x.errors[0]})`] : [])),
      ],
    ),
  ];
}

/** The connect facet. */
export const connectFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  sideBySide: () => false,
  reads: (s) => s.results.some((r) => readConnect(r.extra) !== undefined),
  topic: 'latency',
  findings,
  matrix,
  details,
};
