/**
 * Scenario detail tables: what a scenario measured beyond the one-line
 * summary (the throughput ramp, the dead-peer mechanism, the saturation
 * variants, the connection steps, the overhead crossovers and extrapolation).
 * The terminal table, the Markdown and the HTML print these same blocks, so a
 * figure reads the same everywhere.
 */

import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import {
  readConnectionsBaseline,
  readConnectionsSkipped,
  readConnectionsSteps,
  readCrossovers,
  readDeadPeer,
  readExtrapolated,
  readFanOutCapacity,
  readSaturationVariants,
  readSustainedRates,
  readThroughputExtra,
} from './extras.ts';
import {
  deadPeerOutcome,
  fmtBytes,
  fmtDuration,
  fmtFixed,
  fmtInt,
  fmtMiB,
  fmtNum,
  fmtSig,
  isCompleted,
  isNotApplicable,
  orderedRows,
  rampFanOut,
  rampWhy,
  variantName,
} from './figures.ts';

/** A titled table with notes under it. */
export interface DetailBlock {
  /** Stable key, e.g. `throughput-ramp`. */
  key: string;
  title: string;
  head: string[];
  rows: string[][];
  /** Per column: left-aligned text (true) or a right-aligned number. */
  text: boolean[];
  /** Sentences that belong under the table (mechanisms, reasons, labels). */
  notes: string[];
}

const dash = (v: number | undefined, f: (x: number) => string) => (v === undefined ? '–' : f(v));

function deadPeerBlock(rows: TransportResult[]): DetailBlock | undefined {
  const dps = rows.filter(isCompleted).map((r) => ({ r, dp: readDeadPeer(r.extra) }));
  const have = dps.filter((x) => x.dp !== undefined);
  if (have.length === 0) return undefined;
  return {
    key: 'dead-peer',
    title: 'When the server freed a frozen peer',
    head: ['transport', 'outcome', 'expected by its settings', 'liveness check'],
    text: [true, true, true, true],
    rows: have.map(({ r, dp }) => [
      r.transport,
      deadPeerOutcome(dp!),
      dp!.expectedMs === null ? 'never' : dp!.expectedMs !== undefined ? `by ${fmtDuration(dp!.expectedMs)}` : '–',
      dp!.heartbeatKind === 'ping-pong' && dp!.heartbeat
        ? `ping every ${fmtDuration(dp!.heartbeat.intervalMs)}, ${fmtInt(dp!.heartbeat.maxMissed)} unanswered allowed`
        : dp!.heartbeatKind === 'one-way comment' && dp!.heartbeat
          ? `one-way comment every ${fmtDuration(dp!.heartbeat.intervalMs)}`
          : (dp!.heartbeatKind ?? '–'),
    ]),
    notes: have.filter((x) => x.dp!.mechanism).map(({ r, dp }) => `${r.transport}: ${dp!.mechanism}`),
  };
}

function throughputBlock(s: ScenarioResult, rows: TransportResult[]): DetailBlock | undefined {
  const ramps = rows.filter(isCompleted).map((r) => ({ r, th: readThroughputExtra(r.extra) })).filter((x) => x.th?.steps !== undefined);
  if (ramps.length === 0) return undefined;
  const sustained = readSustainedRates(s.params);
  const fanned = rampFanOut(s);
  const notes: string[] = [];
  if (fanned > 1) notes.push(`Each published message goes to ${fmtInt(fanned)} subscribers: a step owes ${fmtInt(fanned)} deliveries per message asked for.`);
  for (const { r, th } of ramps) {
    const rate = th!.sustainedRate ?? sustained?.[r.transport];
    const last = th!.steps![th!.steps!.length - 1]!;
    if (th!.note) notes.push(`${r.transport}: ${th!.sustainedRate === 0 && !last.sustained ? `the first rate (${fmtInt(last.rate)} msg/s) was not sustained: ${rampWhy(last.why)}` : th!.note}.`);
    else if (rate !== undefined) {
      notes.push(
        last.sustained
          ? `${r.transport}: sustained ${fmtInt(rate)} msg/s, the last rate tried (the ramp ended before delivery fell behind).`
          : `${r.transport}: sustained ${fmtInt(rate)} msg/s; ${fmtInt(last.rate)} msg/s failed: ${rampWhy(last.why)}.`,
      );
    }
  }
  return {
    key: 'throughput-ramp',
    title: 'The ramp: rate asked for against rate delivered',
    head: ['transport', 'asked msg/s', 'owed deliveries/s', 'delivered/s', 'delivered share', 'p99 ms', 'step'],
    text: [true, false, false, false, false, false, true],
    rows: ramps.flatMap(({ r, th }) =>
      th!.steps!.map((st) => [
        r.transport,
        fmtInt(st.rate),
        fmtInt(st.rate * fanned),
        fmtSig(st.deliveredPerSec),
        st.rate > 0 ? `${fmtFixed((100 * st.deliveredPerSec) / (st.rate * fanned), 1)}%` : '–',
        st.p99Ms === null ? '–' : fmtSig(st.p99Ms),
        st.sustained ? 'held' : `failed: ${st.why ?? 'not sustained'}`,
      ]),
    ),
    notes,
  };
}

function saturationBlock(rows: TransportResult[]): DetailBlock | undefined {
  const withV = rows.filter(isCompleted).map((r) => ({ r, vs: readSaturationVariants(r.extra) })).filter((x) => x.vs !== undefined);
  if (withV.length === 0) return undefined;
  return {
    key: 'http-saturation',
    title: 'Saturation per kind of poll',
    head: ['transport', 'poll', 'req/s', 'p50 ms', 'p99 ms', 'server CPU %', 'autocannon CPU %', 'bound', 'B up/req', 'B down/req', 'clients at poll interval'],
    text: [true, true, false, false, false, false, false, true, false, false, false],
    rows: withV.flatMap(({ r, vs }) =>
      vs!.map((v) => [
        r.transport,
        variantName(v.name, v.expectedStatus),
        fmtSig(v.requestsPerSec),
        dash(v.latencyMs.p50, fmtSig),
        dash(v.latencyMs.p99, fmtSig),
        dash(v.serverCpuPct, (x) => fmtFixed(x, 0)),
        dash(v.clientCpuPct, (x) => fmtFixed(x, 0)),
        v.bound ?? '–',
        dash(v.bytesUpPerRequest, fmtSig),
        dash(v.bytesDownPerRequest, fmtSig),
        dash(v.maxClientsAtPollInterval, fmtInt),
      ]),
    ),
    notes: [
      'Closed loop (each connection sends its next request when the answer arrives), so the latency is not corrected for coordinated omission; autocannon reports whole milliseconds. "bound" names the side that ran at ≥ 90 % of a core; client-bound figures are a floor for the server.',
    ],
  };
}

function connectionsBlock(rows: TransportResult[]): DetailBlock | undefined {
  const withSteps = rows.filter(isCompleted).map((r) => ({ r, steps: readConnectionsSteps(r.extra) })).filter((x) => x.steps !== undefined);
  if (withSteps.length === 0) return undefined;
  const notes: string[] = [];
  const bases = withSteps.map(({ r }) => ({ t: r.transport, base: readConnectionsBaseline(r.extra) })).filter((x) => x.base !== undefined);
  if (bases.length > 0) notes.push(`Per-connection figures are above the empty server after a gc (RSS / heap): ${bases.map((x) => `${x.t} ${fmtMiB(x.base!.rssBytes)} / ${fmtMiB(x.base!.heapBytes)} MiB`).join(', ')}.`);
  for (const { r } of withSteps) {
    for (const k of readConnectionsSkipped(r.extra) ?? []) notes.push(`${r.transport}: ${fmtInt(k.connections)} connections skipped: ${k.reason}.`);
  }
  return {
    key: 'connections',
    title: 'Idle connections: memory and CPU per step',
    head: ['transport', 'connections', 'RSS MiB', 'RSS/conn', 'added RSS/conn', 'heap/conn', 'sockets', 'subscribers', 'CPU %', 'polls/s', 'connect ms', 'load procs'],
    text: [true, false, false, false, false, false, false, false, false, false, false, false],
    rows: withSteps.flatMap(({ r, steps }) =>
      steps!.map((st) => [
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
  };
}

function capacityBlock(s: ScenarioResult, rows: TransportResult[]): DetailBlock | undefined {
  const cap = readFanOutCapacity(s.params);
  if (!cap) return undefined;
  return {
    key: 'fan-out-capacity',
    title: `Capacity: largest N with p99 under ${fmtSig(cap.limitMs)} ms and no loss`,
    head: ['transport', 'largest N'],
    text: [true, false],
    rows: rows.filter((r) => !isNotApplicable(r)).map((r) => {
      const n = cap.largestN[r.transport];
      return [r.transport, n === undefined ? (isCompleted(r) ? '–' : 'errored') : n > 0 ? fmtInt(n) : 'none'];
    }),
    notes: [
      cap.searched === true
        ? 'N was doubled past the configured steps until p99 passed the limit.'
        : cap.searched === false
          ? 'Capacity search was off (--capacity on doubles N further): the figure is the largest configured step that held, not a ceiling.'
          : '',
    ].filter(Boolean),
  };
}

function crossoverBlock(s: ScenarioResult): DetailBlock | undefined {
  const cs = readCrossovers(s.params);
  if (!cs) return undefined;
  return {
    key: 'overhead-crossovers',
    title: 'Crossovers: where two transports cost the same bytes per message',
    head: ['payload B', 'msg/s per client', 'cheaper below', 'cheaper above'],
    text: [false, false, true, true],
    rows: [...cs]
      .sort((a, b) => a.sizeBytes - b.sizeBytes || a.ratePerClient - b.ratePerClient)
      .map((c) => {
        const below = c.cheaperBelow;
        return [fmtInt(c.sizeBytes), fmtNum(c.ratePerClient), below ?? `${c.a} / ${c.b}`, below ? (below === c.a ? c.b : c.a) : '–'];
      }),
    notes: ['Interpolated between measured rates on a log scale.'],
  };
}

function extrapolatedBlock(s: ScenarioResult): DetailBlock | undefined {
  const ex = readExtrapolated(s.params);
  if (!ex) return undefined;
  const clients = [...new Set(ex.map((e) => e.clients))].sort((a, b) => a - b);
  const transports = orderedRows(ex.map((e) => ({ transport: e.transport }) as TransportResult))
    .map((r) => r.transport)
    .filter((t, i, a) => a.indexOf(t) === i);
  const sources = [...new Set(ex.filter((e) => e.fromRate !== undefined && e.fromSize !== undefined).map((e) => `${fmtNum(e.fromRate!)} msg/s, ${fmtInt(e.fromSize!)} B`))];
  const from = sources.length > 0 ? ` at ${sources.join(' / ')}` : '';
  return {
    key: 'overhead-extrapolated',
    title: `Header bytes per second at scale, extrapolated from the measured per-message overhead${from} (not measured)`,
    head: ['clients', ...transports],
    text: [false, ...transports.map(() => false)],
    rows: clients.map((c) => [
      fmtInt(c),
      ...transports.map((t) => {
        const e = ex.find((x) => x.clients === c && x.transport === t);
        return e ? `${fmtBytes(e.headerBytesPerSec)}/s` : '–';
      }),
    ]),
    notes: [`Each client receiving 1 msg/s; the lab did not run these client counts, it multiplied the overhead measured${from} per message.`],
  };
}

/** Every detail block of a scenario, in reading order; empty when it has none. */
export function scenarioDetails(s: ScenarioResult): DetailBlock[] {
  const rows = orderedRows(s.results);
  return [
    throughputBlock(s, rows),
    capacityBlock(s, rows),
    crossoverBlock(s),
    extrapolatedBlock(s),
    connectionsBlock(rows),
    deadPeerBlock(rows),
    saturationBlock(rows),
  ].filter((b): b is DetailBlock => b !== undefined);
}
