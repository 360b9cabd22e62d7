/**
 * A scenario's rows on emulated links (`--link`): latency against the link's RTT per transport
 * (p50 and p99, the lesson of the links in one picture), and what the link relay cost and queued
 * on each row. Plain rows sit at RTT 0 (loopback); nothing here appears without a link row.
 */
import type { TransportResult } from '../metrics/results.ts';
import { axis, baseOptions, chartBlock, transportColor, useLog } from '../report-model/charts.ts';
import type { LineDataset, XY } from '../report-model/charts.ts';
import type { Block, Cell, ChartBlock, TableBlock } from '../report-model/doc.ts';
import { fmtFixed, fmtInt, fmtSig, isCompleted } from '../report-model/format.ts';
import { linkCostOf, RELAY_CPU_LIMIT_PCT } from '../report-model/links.ts';
import { transportByName } from '../transports/index.ts';

/** A completed row with its latency, the transport it runs and its link's RTT (0: no link). */
interface Point {
  row: TransportResult;
  base: string;
  link: string;
  rttMs: number;
}

function points(rows: readonly TransportResult[]): Point[] {
  return rows.flatMap((row) => {
    const d = transportByName(row.transport);
    if (!isCompleted(row) || !row.latencyMs || !d) return [];
    return [{ row, base: d.linkOf ?? d.name, link: d.link?.name ?? 'loopback', rttMs: d.link?.params.rttMs ?? 0 }];
  });
}

/** p50 (solid) and p99 (dashed) against the link's RTT, one pair of lines per transport, with the numbers in RTTs beside. */
function rttChart(rows: readonly TransportResult[], roundTrip: boolean): ChartBlock | undefined {
  const pts = points(rows);
  if (!pts.some((p) => p.rttMs > 0)) return undefined;
  const bases = [...new Set(pts.map((p) => p.base))];
  const datasets: LineDataset[] = [];
  const ys: number[] = [];
  for (const base of bases) {
    const mine = pts.filter((p) => p.base === base).sort((a, b) => a.rttMs - b.rttMs);
    const color = transportColor(base);
    for (const [label, pick, dash] of [
      ['p50', (p: Point) => p.row.latencyMs!.p50, []],
      ['p99', (p: Point) => p.row.latencyMs!.p99, [6, 4]],
    ] as const) {
      const data: XY[] = mine.map((p) => ({ x: p.rttMs, y: pick(p) }));
      ys.push(...data.map((d) => d.y));
      datasets.push({
        label: `${base} ${label}`,
        data,
        showLine: true,
        borderColor: color,
        backgroundColor: color,
        borderDash: [...dash],
        borderWidth: 2,
        pointRadius: 3,
        tension: 0,
      });
    }
  }
  const log = useLog(ys);
  return chartBlock({
    key: 'latency-rtt',
    title: `${roundTrip ? 'Round-trip latency' : 'Delivery latency'} against the link's round trip`,
    caption:
      'p50 solid, p99 dashed, per transport, over the links of this run (loopback at 0). A stream pays RTT/2 one way (RTT for an echo); short polling adds half its interval, long polling a re-poll when messages come faster than one per RTT; loss moves p99 by about one retransmission timeout.',
    config: {
      type: 'scatter',
      data: { datasets },
      options: baseOptions<'scatter'>({
        x: { type: 'linear', beginAtZero: true, title: { display: true, text: 'link RTT, ms' } },
        y: axis(`latency, ms${log ? ' (log)' : ''}`, log),
      }),
    },
    head: ['transport', 'link', 'RTT ms', 'p50 ms', 'p99 ms', 'p50 / RTT', 'p99 / RTT'],
    rows: pts.map((p) => {
      const l = p.row.latencyMs!;
      return [
        p.row.transport,
        p.link,
        fmtSig(p.rttMs),
        fmtSig(l.p50),
        fmtSig(l.p99),
        p.rttMs > 0 ? fmtFixed(l.p50 / p.rttMs, 2) : '–',
        p.rttMs > 0 ? fmtFixed(l.p99 / p.rttMs, 2) : '–',
      ];
    }),
  });
}

/** The relay's CPU and the queues its chunks met, per row on a link. */
function relayTable(rows: readonly TransportResult[]): TableBlock | undefined {
  const have = rows.flatMap((r) => {
    const c = linkCostOf(r);
    return isCompleted(r) && c ? [{ r, c }] : [];
  });
  if (have.length === 0) return undefined;
  const n = (v: unknown, f: (x: number) => string = fmtSig) => (typeof v === 'number' ? f(v) : '–');
  const q = (x: { meanBytes: number; peakBytes: number } | undefined) => (x ? `${fmtInt(x.meanBytes)} / ${fmtInt(x.peakBytes)}` : '–');
  return {
    kind: 'table',
    key: 'link-relay',
    title: 'The link emulator under this load',
    columns: [
      { label: 'transport', text: true },
      { label: 'relay CPU %' },
      { label: 'relay µs/msg' },
      { label: 'up queue B mean / peak' },
      { label: 'down queue B mean / peak' },
      { label: 'segments lost' },
    ],
    rows: have.map(({ r, c }): Cell[] => [
      { text: r.transport, swatch: transportColor(r.transport) },
      c.cpuPct !== undefined && c.cpuPct > RELAY_CPU_LIMIT_PCT
        ? { text: n(c.cpuPct, (x) => fmtFixed(x, 1)), mark: 'bad', title: `above ${RELAY_CPU_LIMIT_PCT} % of a core: the relay's delays may run late` }
        : { text: n(c.cpuPct, (x) => fmtFixed(x, 1)) },
      { text: n(c.cpuUsPerMessage) },
      { text: q(c.queueUp) },
      { text: q(c.queueDown) },
      { text: n(c.lostSegments, fmtInt) },
    ]),
    rowKeys: have.map(({ r }) => r.transport),
    notes: [
      `The relay is a process of its own on the load's CPUs; its CPU is read from /proc over the measured phase (${RELAY_CPU_LIMIT_PCT} % of a core is the most at which its timers are trusted). A queue is the bytes a chunk found waiting in front of its connection's link as it arrived, every connection's chunks together: a peak of two requests or more means they came faster than the link serialises them.`,
    ],
  };
}

/** The blocks a scenario's section gets when some of its rows ran over a link. */
export function linkBlocks(rows: readonly TransportResult[], roundTrip: boolean): Block[] {
  return [rttChart(rows, roundTrip), relayTable(rows)].filter((b): b is ChartBlock | TableBlock => b !== undefined);
}
