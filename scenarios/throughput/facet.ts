/** The throughput ramps' part of the report: the ramp, the highest sustained rate and the payload it carried. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import {
  axis,
  baseOptions,
  chartBlock,
  LOST,
  lineDataset,
  numbersTable,
  transportBars,
  transportLine,
  type LineDataset,
  type XY,
} from '../../report-model/charts.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { fmtDuration, fmtFixed, fmtInt, fmtSig, isCompleted, num, orderedRows } from '../../report-model/format.ts';
import { detailTable, joinParts, param, rowsWith, sizeText } from '../facet-kit.ts';
import { readSustainedRates, readThroughputExtra, type ThroughputExtra, type ThroughputStep } from './schema.ts';

/** Why a ramp step failed, with who was the limit when the senders could not keep up. */
function rampWhy(why: string | undefined): string {
  const w = why ?? 'not sustained';
  return /held back|could not send/.test(w) ? `${w} (the load's senders were the limit, not the server)` : w;
}

/**
 * How many deliveries one step owes per message asked for: the subscribers
 * when the server publishes (down), 1 when clients send (up).
 */
function rampFanOut(s: ScenarioResult): number {
  const down = s.params['direction'] === 'down' || s.results.some((r) => readThroughputExtra(r.extra)?.direction === 'down');
  const clients = param(s, 'clients');
  return down && clients !== undefined && clients > 0 ? clients : 1;
}

/** Completed rows that ran a ramp. */
function ramps(s: ScenarioResult): { r: TransportResult; x: ThroughputExtra & { steps: ThroughputStep[] } }[] {
  return rowsWith(s, (e) => {
    const th = readThroughputExtra(e);
    return th?.steps ? { ...th, steps: th.steps } : undefined;
  });
}

function loadInWords(s: ScenarioResult): string | undefined {
  const start = param(s, 'startRate');
  const clients = param(s, 'clients');
  const steps = param(s, 'maxSteps');
  const stepMs = param(s, 'stepDurationMs');
  const resolution = param(s, 'resolution');
  if (start === undefined) return undefined;
  const down = s.params['direction'] === 'down';
  const who =
    clients !== undefined
      ? down
        ? ` to ${fmtInt(clients)} subscriber${clients === 1 ? '' : 's'}`
        : ` from ${fmtInt(clients)} sender${clients === 1 ? '' : 's'}`
      : '';
  return joinParts(
    `rate doubled from ${fmtInt(start)} msg/s${who} until delivery falls behind, then bisected${resolution !== undefined ? ` to within ${fmtInt(resolution * 100)} %` : ''}${steps !== undefined ? `, at most ${fmtInt(steps)} steps` : ''}${stepMs !== undefined ? ` of ${fmtDuration(stepMs)}` : ''}`,
    sizeText(s),
  );
}

/** "sustained ≥ 40,000 msg/s, failed at 45,000 (bracket 12 %)", or only the lower bound when nothing above it failed. */
function bracketInWords(th: NonNullable<ReturnType<typeof readThroughputExtra>>): string {
  const a = `sustained ≥ ${fmtInt(th.sustainedRate ?? 0)} msg/s`;
  if (th.failedRate === undefined) return `${a}, nothing above it tried failed`;
  const res = th.resolution !== undefined ? ` (bracket ${fmtInt(th.resolution * 100)} %)` : '';
  return `${a}, failed at ${fmtInt(th.failedRate)}${res}`;
}

function rowFigure(row: TransportResult): string {
  const th = readThroughputExtra(row.extra);
  const parts: string[] = [];
  if (th?.sustainedRate !== undefined) parts.push(th.sustainedRate > 0 ? bracketInWords(th) : 'first rate not sustained');
  if (th?.payloadMBps !== undefined && (th.sustainedRate === undefined || th.sustainedRate > 0)) parts.push(`${fmtSig(th.payloadMBps)} MB/s`);
  return parts.join(', ');
}

function findings(s: ScenarioResult): Finding[] {
  const sustained = readSustainedRates(s.summary);
  const rows = orderedRows(s.results)
    .filter((r) => isCompleted(r))
    .map((r) => ({ r, th: readThroughputExtra(r.extra) }))
    .filter((x) => x.th?.sustainedRate !== undefined || sustained?.[x.r.transport] !== undefined);
  if (rows.length === 0) return [];
  const items = rows
    .map(({ r, th }) => ({ t: r.transport, rate: th?.sustainedRate ?? sustained?.[r.transport] ?? 0, steps: th?.steps, th }))
    .sort((a, b) => b.rate - a.rate);
  const parts = items.map((x) => {
    const last = x.steps?.[x.steps.length - 1];
    if (x.rate === 0) return `${x.t} none${last?.why ? ` (${rampWhy(last.why)} at ${fmtInt(last.rate)} msg/s)` : ''}`;
    if (x.th?.failedRate !== undefined) return `${x.t} ${bracketInWords(x.th)}`;
    const top = last?.sustained ? ' (the top of the ramp: not a limit)' : '';
    return `${x.t} ${fmtInt(x.rate)} msg/s${top}`;
  });
  const fanned = rampFanOut(s);
  const unit = fanned > 1 ? ` (published; each message goes to ${fmtInt(fanned)} subscribers, so ${fmtInt(fanned)}× as many deliveries)` : '';
  return [{ level: 'info', scenario: s.name, text: `${s.name}: highest sustained rate${unit}: ${parts.join(', ')}.` }];
}

function details(s: ScenarioResult): Block[] {
  const rs = ramps(s);
  if (rs.length === 0) return [];
  const sustained = readSustainedRates(s.summary);
  const fanned = rampFanOut(s);
  const notes: string[] = [];
  if (fanned > 1) notes.push(`Each published message goes to ${fmtInt(fanned)} subscribers: a step owes ${fmtInt(fanned)} deliveries per message asked for.`);
  if (s.results.some((r) => num(r.extra?.['fixedP50Ms']) !== undefined))
    notes.push(
      'A row\'s p50 and p99 ("saturated") are read at its highest held step, at the edge of saturation, where messages mostly wait in queues: they move widely from run to run. The p50 at the fixed rate, well below saturation, is the latency to compare servers by; its p99 also carries the load process\'s own delays.',
    );
  // A fixed-load figure another scenario of the same trial measured is the same phase, not a second measurement.
  const shared = [
    ...new Set(s.results.map((r) => (r.extra?.['fixedLoad'] as { measuredBy?: unknown } | undefined)?.measuredBy).filter((b) => typeof b === 'string')),
  ];
  if (shared.length)
    notes.push(
      `The server CPU per message at a fixed rate is the ${shared.join(' and ')} scenario's phase of the same trial: the same spec on a fresh server, measured once in a run, so its verdict there and here is one measurement.`,
    );
  for (const { r, x: th } of rs) {
    const rate = th.sustainedRate ?? sustained?.[r.transport];
    const last = th.steps[th.steps.length - 1]!;
    if (th.note)
      notes.push(
        `${r.transport}: ${th.sustainedRate === 0 && !last.sustained ? `the first rate (${fmtInt(last.rate)} msg/s) was not sustained: ${rampWhy(last.why)}` : th.note}.`,
      );
    else if (rate !== undefined && th.failedRate !== undefined) {
      const failed = th.steps.find((st) => st.rate === th.failedRate);
      notes.push(`${r.transport}: ${bracketInWords(th)}${failed?.why ? `: ${rampWhy(failed.why)}` : ''}.`);
    } else if (rate !== undefined) {
      notes.push(
        last.sustained
          ? `${r.transport}: sustained ${fmtInt(rate)} msg/s, the last rate tried (the ramp ended before delivery fell behind).`
          : `${r.transport}: sustained ${fmtInt(rate)} msg/s; ${fmtInt(last.rate)} msg/s failed: ${rampWhy(last.why)}.`,
      );
    }
  }
  return [
    detailTable(
      'throughput-ramp',
      'The ramp: rate asked for against rate delivered',
      ['transport', 'asked msg/s', 'owed deliveries/s', 'delivered/s', 'delivered share', 'p99 ms', 'end p50 ms', 'step'],
      [true, false, false, false, false, false, false, true],
      rs.flatMap(({ r, x: th }) =>
        th.steps.map((st) => [
          r.transport,
          fmtInt(st.rate),
          fmtInt(st.rate * fanned),
          fmtSig(st.deliveredPerSec),
          st.rate > 0 ? `${fmtFixed((100 * st.deliveredPerSec) / (st.rate * fanned), 1)}%` : '–',
          st.p99Ms === null ? '–' : fmtSig(st.p99Ms),
          st.endP50Ms === undefined ? '–' : fmtSig(st.endP50Ms),
          st.sustained ? 'held' : `failed: ${st.why ?? 'not sustained'}`,
        ]),
      ),
      notes,
    ),
  ];
}

type Ramp = ReturnType<typeof ramps>[number];

/** Delivered against owed, every step of every ramp, with the failed steps crossed and listed. */
function rampChart(rs: Ramp[], fanned: number): Block {
  const datasets: LineDataset[] = [];
  const all: number[] = [];
  const failed: XY[] = [];
  const failedRows: string[][] = [];
  for (const { r, x: th } of rs) {
    datasets.push(
      transportLine(
        r,
        th.steps.map((st) => ({ x: st.rate * fanned, y: st.deliveredPerSec })),
      ),
    );
    for (const st of th.steps) {
      all.push(st.rate * fanned, st.deliveredPerSec);
      if (!st.sustained) {
        failed.push({ x: st.rate * fanned, y: st.deliveredPerSec });
        failedRows.push([r.transport, fmtInt(st.rate), fmtSig(st.deliveredPerSec), st.why ?? 'not sustained']);
      }
    }
  }
  const pos = all.filter((v) => v > 0);
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  datasets.push(
    lineDataset(
      'delivered = asked',
      '#444444',
      [
        { x: lo, y: lo },
        { x: hi, y: hi },
      ],
      [6, 4],
      { pointRadius: 0, borderWidth: 1 },
    ),
  );
  if (failed.length > 0) {
    datasets.push({
      label: 'step not sustained',
      data: failed,
      showLine: false,
      pointStyle: 'crossRot',
      pointRadius: 9,
      pointBorderWidth: 3,
      borderColor: LOST,
      backgroundColor: LOST,
    });
  }
  const log = pos.length === all.length && hi / lo >= 8;
  return chartBlock({
    key: 'throughput-ramp',
    title: 'The ramp: delivered against asked',
    caption: `The rate doubles each step until delivery falls behind. On the dashed line everything owed arrived; ✕ marks the step that failed (why in the numbers).${fanned > 1 ? ` Owed = asked rate × ${fmtInt(fanned)} subscribers.` : ''}`,
    config: {
      type: 'scatter',
      data: { datasets },
      options: baseOptions<'scatter'>({
        x: axis(`owed, deliveries/s${log ? ' (log)' : ''}`, log),
        y: axis(`delivered, deliveries/s${log ? ' (log)' : ''}`, log),
      }),
    },
    head: ['transport', 'asked msg/s', 'delivered msg/s', 'p99 ms', 'step'],
    rows: rs.flatMap(({ r, x: th }) =>
      th.steps.map((st) => [
        r.transport,
        fmtInt(st.rate),
        fmtSig(st.deliveredPerSec),
        st.p99Ms === null ? '–' : fmtSig(st.p99Ms),
        st.sustained ? 'held' : `failed: ${st.why ?? ''}`,
      ]),
    ),
    wide: true,
    more:
      failedRows.length > 0
        ? [numbersTable('throughput-failed', ['transport', 'asked msg/s', 'delivered msg/s', 'why'], failedRows, { title: 'Failed steps' })]
        : [],
  });
}

/** Each ramp's highest sustained rate, when any ramp has one. */
function sustainedChart(rs: Ramp[], fanned: number): Block | undefined {
  const sus = rs.filter((x) => x.x.sustainedRate !== undefined);
  if (sus.length === 0) return undefined;
  const vals = sus.map((x) => x.x.sustainedRate!);
  return chartBlock({
    key: 'sustained-rate',
    title: 'Highest sustained rate',
    caption: `The last step of the ramp that held (0: not even the first)${fanned > 1 ? `, in messages published per second (each to ${fmtInt(fanned)} subscribers)` : ''}.`,
    config: transportBars(
      sus.map((x) => x.r),
      vals,
      'msg/s',
    ),
    head: ['transport', 'sustained msg/s', 'payload MB/s'],
    rows: sus.map((x, i) => [x.r.transport, fmtInt(vals[i]!), x.x.payloadMBps !== undefined ? fmtSig(x.x.payloadMBps) : '–']),
  });
}

/** Payload MB/s at the highest sustained rate, for every row that has it. */
function payloadChart(s: ScenarioResult): Block | undefined {
  const mb = rowsWith(s, (e) => {
    const th = readThroughputExtra(e);
    return th?.payloadMBps !== undefined ? th : undefined;
  });
  if (mb.length === 0) return undefined;
  return chartBlock({
    key: 'payload-mbps',
    title: 'Payload MB per second',
    caption: 'Application payload delivered per second (10⁶ bytes), at the highest sustained rate.',
    config: transportBars(
      mb.map((x) => x.r),
      mb.map((x) => x.x.payloadMBps!),
      'MB/s',
    ),
    head: ['transport', 'MB/s', 'direction'],
    rows: mb.map((x) => [x.r.transport, fmtSig(x.x.payloadMBps!), x.x.direction ?? '–']),
  });
}

function charts(s: ScenarioResult): Block[] {
  const fanned = rampFanOut(s);
  const rs = ramps(s);
  const blocks = rs.length > 0 ? [rampChart(rs, fanned), sustainedChart(rs, fanned)] : [];
  return [...blocks, payloadChart(s)].filter((b): b is Block => b !== undefined);
}

/** The facet of both throughput ramps. */
export const throughputFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  // A ramp's rows sit at different rates, so their bytes and latencies do not compare side by side.
  sideBySide: (s) => !s.results.some((r) => (readThroughputExtra(r.extra)?.steps?.length ?? 0) > 0),
  // A row's percentiles are its top held step's, at the edge of saturation.
  queuedLatency: (s) => s.results.some((r) => (readThroughputExtra(r.extra)?.steps?.length ?? 0) > 0),
  reads: (s) =>
    s.results.some((r) => readThroughputExtra(r.extra)?.sustainedRate !== undefined || readThroughputExtra(r.extra)?.payloadMBps !== undefined) ||
    readSustainedRates(s.summary) !== undefined,
  topic: 'limits',
  findings,
  details,
  charts,
};
