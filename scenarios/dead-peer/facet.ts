/** The dead-peer scenario's part of the report: whether and when each server freed a frozen peer, and why. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import type { ChartDataset } from 'chart.js';
import { axis, baseOptions, chartBlock, transportColor, type Axis } from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { fmtDuration, fmtInt, listInWords } from '../../report-model/format.ts';
import { transportByName } from '../../transports/index.ts';
import { detailTable, joinParts, matrixCells, oneTrial, param, rowsWith } from '../facet-kit.ts';
import { readDeadPeer, type DeadPeerView } from './schema.ts';

/** A dead-peer outcome in a few words: "noticed after 2.1 s" or "not within 6 s". */
function outcome(dp: DeadPeerView): string {
  if (dp.detected && dp.detectMs !== undefined) return `noticed after ${fmtDuration(dp.detectMs)}`;
  return dp.capMs !== undefined ? `not within ${fmtDuration(dp.capMs)}` : 'not noticed';
}

function loadInWords(s: ScenarioResult): string | undefined {
  const cap = param(s, 'capMs');
  const hb = param(s, 'heartbeatIntervalMs');
  const missed = param(s, 'maxMissed');
  const poll = param(s, 'pollIntervalMs');
  const held = param(s, 'longPollTimeoutMs');
  if (cap === undefined) return undefined;
  return joinParts(
    `one peer frozen with SIGSTOP, waited up to ${fmtDuration(cap)} for the server to free it`,
    hb !== undefined &&
      (hb > 0 ? `heartbeat every ${fmtDuration(hb)}${missed !== undefined ? ` (${fmtInt(missed)} unanswered pings allowed)` : ''}` : 'heartbeat off'),
    poll !== undefined && `polling every ${fmtDuration(poll)}`,
    held !== undefined && `long polls held ${fmtDuration(held)}`,
  );
}

function rowFigure(row: TransportResult): string {
  const dp = readDeadPeer(row.extra);
  return dp ? outcome(dp) : '';
}

/** Time to notice a frozen peer: the matrix's liveness column (a peer never noticed ranks last). */
function matrix(s: ScenarioResult): MatrixColumn[] {
  if (rowsWith(s, readDeadPeer).length === 0) return [];
  return [
    {
      key: 'dead-peer',
      order: 50,
      label: 'dead peer noticed',
      question: 'quickest to notice a dead peer',
      better: 'lower',
      cells: matrixCells(s, (r) => {
        const dp = readDeadPeer(r.extra);
        if (!dp) return undefined;
        const ms = dp.detected && dp.detectMs !== undefined ? dp.detectMs : Number.POSITIVE_INFINITY;
        return { range: oneTrial(ms), text: dp.detected && dp.detectMs !== undefined ? fmtDuration(dp.detectMs) : outcome(dp) };
      }),
    },
  ];
}

function findings(s: ScenarioResult): Finding[] {
  const dps = rowsWith(s, readDeadPeer);
  if (dps.length === 0) return [];
  const seen = dps.filter((x) => x.x.detected);
  const missed = dps.filter((x) => !x.x.detected);
  const cap = dps.map((x) => x.x.capMs).find((c) => c !== undefined);
  const within = cap !== undefined ? ` within ${fmtDuration(cap)}` : '';
  if (missed.length === 0) {
    const best = seen.reduce((a, b) => (b.x.detectMs! < a.x.detectMs! ? b : a));
    return [
      {
        level: 'info',
        scenario: s.name,
        text: `${s.name}: every server freed a frozen peer${within}; fastest: ${best.r.transport} (${fmtDuration(best.x.detectMs!)}).`,
      },
    ];
  }
  if (seen.length === 0)
    return [{ level: 'info', scenario: s.name, text: `${s.name}: no server noticed a frozen peer${within} (${missed.map((x) => x.r.transport).join(', ')}).` }];
  const names = seen.map((x) => x.r.transport);
  // When only the WebSocket rows (frames with ping/pong; not the raw TCP ceiling) noticed, the finding says so by kind.
  const who = names.every((t) => {
    const tr = transportByName(t)?.traits;
    return tr?.delivery === 'frames' && tr.heartbeat === 'ping-pong';
  })
    ? 'WebSocket'
    : listInWords(names);
  const seenList = seen.map((x) => `${x.r.transport} after ${fmtDuration(x.x.detectMs!)}`).join(', ');
  return [
    {
      level: 'info',
      scenario: s.name,
      text: `${s.name}: only ${who} noticed a frozen peer${within} (${seenList}); ${listInWords(missed.map((x) => x.r.transport))} did not.`,
    },
  ];
}

function details(s: ScenarioResult): Block[] {
  const have = rowsWith(s, readDeadPeer);
  if (have.length === 0) return [];
  return [
    detailTable(
      'dead-peer',
      'When the server freed a frozen peer',
      ['transport', 'outcome', 'expected by its settings', 'liveness check'],
      [true, true, true, true],
      have.map(({ r, x: dp }) => [
        r.transport,
        outcome(dp),
        dp.expectedMs === null ? 'never' : dp.expectedMs !== undefined ? `by ${fmtDuration(dp.expectedMs)}` : '–',
        dp.heartbeatKind === 'ping-pong' && dp.heartbeat
          ? `ping every ${fmtDuration(dp.heartbeat.intervalMs)}, ${fmtInt(dp.heartbeat.maxMissed)} unanswered allowed`
          : dp.heartbeatKind === 'one-way comment' && dp.heartbeat
            ? `one-way comment every ${fmtDuration(dp.heartbeat.intervalMs)}`
            : (dp.heartbeatKind ?? '–'),
      ]),
      have.filter((x) => x.x.mechanism).map(({ r, x: dp }) => `${r.transport}: ${dp.mechanism}`),
    ),
  ];
}

function charts(s: ScenarioResult): Block[] {
  const d = rowsWith(s, readDeadPeer);
  if (d.length === 0) return [];
  // A peer not freed within the cap gets a hatched bar at the cap, labelled so.
  const values = d.map((x) => (x.x.detected ? x.x.detectMs! : (x.x.capMs ?? 0)) / 1000);
  const cap = d.map((x) => x.x.capMs).find((c) => c !== undefined);
  const datasets: ChartDataset<'bar' | 'line', (number | null)[]>[] = [
    {
      label: 'freed after, s',
      data: values,
      backgroundColor: d.map((x) => transportColor(x.r.transport)),
      borderColor: d.map((x) => transportColor(x.r.transport)),
      borderWidth: d.map((x) => (x.x.detected ? 0 : 2)),
      hatch: d.map((x) => !x.x.detected),
      barLabels: d.map((x) => (x.x.detected ? fmtDuration(x.x.detectMs!) : `not within ${fmtDuration(x.x.capMs ?? 0)}`)),
    },
  ];
  const expected = d.map((x) => (typeof x.x.expectedMs === 'number' && (cap === undefined || x.x.expectedMs <= cap * 1.5) ? x.x.expectedMs / 1000 : null));
  const top = Math.max(...values, ...expected.filter((v): v is number => v !== null));
  if (expected.some((v) => v !== null)) {
    datasets.push({
      type: 'line',
      label: 'expected by its settings',
      data: expected,
      showLine: false,
      pointStyle: 'line',
      pointRadius: 14,
      pointBorderWidth: 3,
      borderColor: '#222222',
      backgroundColor: '#222222',
    });
  }
  return [
    chartBlock({
      key: 'dead-peer',
      title: 'Dead-peer detection',
      caption: `Time from freezing the peer (SIGSTOP) to the server closing its sockets and dropping its subscription. Hatched: not freed within the ${cap !== undefined ? fmtDuration(cap) : ''} cap (the bar stops at the cap). Black tick: when the transport's own settings say it should notice.`,
      config: {
        type: 'bar',
        data: { labels: d.map((x) => x.r.transport), datasets },
        options: baseOptions<'bar'>({ x: { title: { display: false } }, y: { ...axis('seconds after the freeze', false), suggestedMax: top * 1.15 } as Axis }),
      },
      head: ['transport', 'outcome', 'expected', 'mechanism'],
      rows: d.map((x) => [
        x.r.transport,
        outcome(x.x),
        x.x.expectedMs === null ? 'never' : x.x.expectedMs !== undefined ? fmtDuration(x.x.expectedMs) : '–',
        x.x.mechanism ?? '–',
      ]),
      wide: true,
    }),
  ];
}

/** The dead-peer facet. */
export const deadPeerFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  reads: (s) => s.results.some((r) => readDeadPeer(r.extra) !== undefined),
  topic: 'liveness',
  findings,
  matrix,
  details,
  charts,
};
