/**
 * The one place where report figures are derived and formatted. The terminal
 * table, the HTML report and the Markdown summary all read their numbers from
 * here, so the same field prints the same string in all three.
 */

import type { Results, ScenarioResult, TransportResult } from '../metrics/results.ts';
import {
  bytesPerMessage,
  completedWith,
  fmtBytes,
  fmtDuration,
  fmtFixed,
  fmtInt,
  fmtNum,
  fmtParam,
  fmtRatio,
  fmtSig,
  isCompleted,
  isFailed,
  isNotApplicable,
  listInWords,
  messagesPerServerCpuSec,
  numList,
  orderedRows,
} from '../report-model/format.ts';
import { FIGURES, summaryCell as modelSummaryCell, summaryColumns as modelSummaryColumns } from '../report-model/figures.ts';
import type { SummaryColumn } from '../report-model/figures.ts';
import {
  num,
  readConnectionsSkipped,
  readConnectionsSteps,
  readCrossovers,
  readEchoMode,
  readFanOutSteps,
  readDeadPeer,
  readFanOutCapacity,
  readHttpSaturation,
  readOverheadSweep,
  readSaturationVariants,
  readSpread,
  readSustainedRates,
  readThroughputExtra,
} from './extras.ts';
import type { DeadPeerView, OverheadSweepPoint } from './extras.ts';

export {
  bytesPerMessage,
  fmtBytes,
  fmtDeltaPct,
  fmtDuration,
  fmtFixed,
  fmtInt,
  fmtMiB,
  fmtNum,
  fmtRatio,
  fmtSig,
  isCompleted,
  isFailed,
  isNotApplicable,
  messagesPerServerCpuSec,
  notApplicableReason,
  orderedRows,
  payloadPerMessage,
} from '../report-model/format.ts';
export { FIGURES, figure, formatFigure } from '../report-model/figures.ts';
export { transportColor } from '../report-model/charts.ts';

/** The scenario-specific figure of a row in a few words, or '' when it has none. */
export function extraSummary(row: TransportResult): string {
  if (isNotApplicable(row)) return 'not applicable';
  const parts: string[] = [];
  const dp = readDeadPeer(row.extra);
  if (dp) parts.push(deadPeerOutcome(dp));
  const hs = readHttpSaturation(row.extra);
  if (hs?.requestsPerSec !== undefined) {
    const v = readSaturationVariants(row.extra)?.find((x) => x.name === hs.primary);
    parts.push(`${fmtSig(hs.requestsPerSec)} req/s${v ? ` (${variantName(v.name, v.expectedStatus)})` : ''}`);
  }
  if (hs?.maxClientsAtPollInterval !== undefined) parts.push(`≈ ${fmtInt(hs.maxClientsAtPollInterval)} clients at ${fmtDuration(hs.pollIntervalMs ?? 1000)} polls`);
  const th = readThroughputExtra(row.extra);
  if (th?.sustainedRate !== undefined) parts.push(th.sustainedRate > 0 ? `sustained ${fmtInt(th.sustainedRate)} msg/s` : 'first rate not sustained');
  if (th?.payloadMBps !== undefined && (th.sustainedRate === undefined || th.sustainedRate > 0)) parts.push(`${fmtSig(th.payloadMBps)} MB/s`);
  const conn = readConnectionsSteps(row.extra);
  const last = conn?.[conn.length - 1];
  if (last) parts.push(`${fmtBytes(last.rssPerConnBytes)}/conn at ${fmtInt(last.connections)}`);
  const fan = readFanOutSteps(row.extra);
  const top = fan?.[fan.length - 1];
  if (top) parts.push(`p99 ${fmtSig(top.p99)} ms at N=${fmtInt(top.n)}`);
  const mode = readEchoMode(row.extra);
  if (mode) parts.push(mode === 'ping-pong' ? 'ping-pong (closed loop)' : mode === 'pipelined' ? `pipelined${num(row.extra?.['inFlight']) !== undefined ? `, ${fmtInt(row.extra!['inFlight'] as number)} in flight` : ''}` : 'open loop');
  const skipped = readConnectionsSkipped(row.extra);
  if (skipped) parts.push(`${skipped.length} step(s) skipped`);
  return parts.join(', ');
}

/** A dead-peer outcome in a few words: "noticed after 2.1 s" or "not within 6 s". */
export function deadPeerOutcome(dp: DeadPeerView): string {
  if (dp.detected && dp.detectMs !== undefined) return `noticed after ${fmtDuration(dp.detectMs)}`;
  return dp.capMs !== undefined ? `not within ${fmtDuration(dp.capMs)}` : 'not noticed';
}

/** An http-saturation variant in words: "empty poll (204)". */
export function variantName(name: string, status?: number): string {
  const what = name === 'empty' ? 'empty poll' : name === 'message' ? 'one-message poll' : name;
  return status !== undefined ? `${what} (${status})` : what;
}

/** The compact table's cell, with this module's scenario figure in its column. */
export function summaryCell(col: SummaryColumn, row: TransportResult): string {
  return modelSummaryCell(col, row);
}

/** The columns worth printing for these rows, the scenario figure read by shape. */
export function summaryColumns(rows: readonly TransportResult[]): SummaryColumn[] {
  return modelSummaryColumns(rows, extraSummary);
}

// ---------------------------------------------------------------------------
// Scenario parameters in words.

/** Parameters shown in the params table: scalars and short lists; nested objects get their own tables. */
export function simpleParams(params: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(params)) {
    if (k === 'capacity' || k === 'crossovers' || k === 'extrapolated' || k === 'sustainedRate' || k === 'capacityResult') continue;
    out.push([k, fmtParam(v)]);
  }
  return out;
}

function pickNum(params: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = num(params[k]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The load of a scenario the lab knows, in words; undefined for other names. */
function knownLoadInWords(s: ScenarioResult): string | undefined {
  const p = s.params;
  const n = (k: string) => num(p[k]);
  const size = n('size');
  const sizeText = size !== undefined ? `${fmtInt(size)} B messages` : '';
  const join = (...parts: (string | false | undefined)[]) => parts.filter((x): x is string => typeof x === 'string' && x !== '').join(', ');
  switch (s.name) {
    case 'echo': {
      const clients = n('clients');
      const rate = n('ratePerClient');
      if (clients === undefined || rate === undefined) return undefined;
      return join(`${fmtInt(clients)} client${clients === 1 ? '' : 's'} each sending ${fmtNum(rate)} msg/s, echoed back (round trips)`, sizeText);
    }
    case 'echo-ping-pong':
      return join('one client, one message in flight (closed loop): round trips as fast as they come back', sizeText);
    case 'echo-pipelined': {
      const clients = n('clients');
      const inFlight = n('inFlight');
      if (clients === undefined || inFlight === undefined) return undefined;
      return join(`${fmtInt(clients)} connection${clients === 1 ? '' : 's'} × ${fmtInt(inFlight)} messages in flight, each resent as its echo returns`, sizeText);
    }
    case 'throughput-down':
    case 'throughput-up': {
      const start = n('startRate');
      const clients = n('clients');
      const steps = n('maxSteps');
      const stepMs = n('stepDurationMs');
      if (start === undefined) return undefined;
      const who = clients !== undefined ? (s.name === 'throughput-down' ? ` to ${fmtInt(clients)} subscriber${clients === 1 ? '' : 's'}` : ` from ${fmtInt(clients)} sender${clients === 1 ? '' : 's'}`) : '';
      return join(
        `rate doubled from ${fmtInt(start)} msg/s${who}${steps !== undefined ? `, at most ${fmtInt(steps)} steps` : ''}${stepMs !== undefined ? ` of ${fmtDuration(stepMs)}` : ''}, until delivery falls behind`,
        sizeText,
      );
    }
    case 'fan-out': {
      const rate = n('rate');
      const steps = numList(p['steps']);
      if (rate === undefined || !steps) return undefined;
      return join(`${fmtNum(rate)} msg/s published to N = ${listInWords(steps.map(fmtInt))} subscribers`, sizeText);
    }
    case 'overhead': {
      const rates = numList(p['rates']);
      const sizes = numList(p['sizes']);
      const clients = n('clients');
      if (!rates || !sizes) return undefined;
      return join(
        `${clients !== undefined ? `${fmtInt(clients)} subscribers, ` : ''}${listInWords(rates.map(fmtNum))} msg/s per client × ${listInWords(sizes.map(fmtInt))} B payloads`,
        n('pollIntervalMs') !== undefined && `polling every ${fmtDuration(n('pollIntervalMs')!)}`,
      );
    }
    case 'connections': {
      const steps = numList(p['steps']);
      const hold = n('holdMs');
      const hb = n('heartbeatIntervalMs');
      if (!steps) return undefined;
      return join(
        `${listInWords(steps.map(fmtInt))} idle connections${hold !== undefined ? `, each step held ${fmtDuration(hold)}` : ''}`,
        hb !== undefined && (hb > 0 ? `heartbeat every ${fmtDuration(hb)}` : 'heartbeat off'),
        n('pollIntervalMs') !== undefined && `polling every ${fmtDuration(n('pollIntervalMs')!)}`,
      );
    }
    case 'dead-peer': {
      const cap = n('capMs');
      const hb = n('heartbeatIntervalMs');
      const missed = n('maxMissed');
      if (cap === undefined) return undefined;
      return join(
        `one peer frozen with SIGSTOP, waited up to ${fmtDuration(cap)} for the server to free it`,
        hb !== undefined && (hb > 0 ? `heartbeat every ${fmtDuration(hb)}${missed !== undefined ? ` (${fmtInt(missed)} unanswered pings allowed)` : ''}` : 'heartbeat off'),
        n('pollIntervalMs') !== undefined && `polling every ${fmtDuration(n('pollIntervalMs')!)}`,
        n('longPollTimeoutMs') !== undefined && `long polls held ${fmtDuration(n('longPollTimeoutMs')!)}`,
      );
    }
    case 'http-saturation': {
      const conns = n('connections');
      const dur = n('durationSec');
      if (conns === undefined) return undefined;
      return join(
        `autocannon on GET /poll over ${fmtInt(conns)} keep-alive connections${dur !== undefined ? `, ${fmtNum(dur)} s per variant` : ''}, closed loop`,
        n('pollIntervalMs') !== undefined && `capacity expressed at a ${fmtDuration(n('pollIntervalMs')!)} poll interval`,
      );
    }
    default:
      return undefined;
  }
}

/** A short description of the load: "at 50 msg/s to 50 clients, polling every 1 s". */
export function loadInWords(s: ScenarioResult): string {
  const known = knownLoadInWords(s);
  if (known !== undefined) return known;
  const p = s.params;
  const rate = pickNum(p, ['ratePerSec', 'rate', 'messagesPerSec', 'ratePerClient', 'publishRate']);
  const clients = pickNum(p, ['clients', 'subscribers', 'connections']);
  const poll = pickNum(p, ['pollIntervalMs', 'pollMs', 'pollingIntervalMs']);
  const size = pickNum(p, ['sizeBytes', 'payloadBytes', 'messageBytes', 'size']);
  const who = [rate !== undefined ? `${fmtNum(rate)} msg/s` : '', clients !== undefined ? `${fmtInt(clients)} client${clients === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(' to ');
  const parts: string[] = [];
  if (who) parts.push((rate !== undefined ? 'at ' : 'with ') + who);
  if (size !== undefined) parts.push(`${fmtInt(size)} B messages`);
  if (poll !== undefined) parts.push(`polling every ${fmtDuration(poll)}`);
  const out = parts.join(', ');
  return out;
}

/** Whether a scenario's latency is a round trip (echo) rather than one-way delivery. */
export function isRoundTrip(s: ScenarioResult): boolean {
  return s.name === 'echo' || s.name.startsWith('echo-') || s.results.some((r) => readEchoMode(r.extra) !== undefined);
}

// ---------------------------------------------------------------------------
// Findings in plain words.

import type { Finding } from '../report-model/doc.ts';
export type { Finding };

/** A transport's name in prose. */
function transportInWords(t: string, pollIntervalMs?: number): string {
  if (t === 'polling') return pollIntervalMs !== undefined ? `short polling every ${fmtDuration(pollIntervalMs)}` : 'short polling';
  if (t === 'websocket') return 'the WebSocket engine';
  return t;
}

/** Overhead: bytes per delivered message at each measured rate (smallest size), against the WebSocket engine. */
function overheadFindings(s: ScenarioResult, rows: TransportResult[]): Finding[] {
  const out: Finding[] = [];
  const lines = new Map<string, OverheadSweepPoint[]>();
  for (const r of rows) {
    const sweep = isCompleted(r) ? readOverheadSweep(r.extra) : undefined;
    if (sweep) lines.set(r.transport, sweep);
  }
  const refName = lines.has('websocket') ? 'websocket' : lines.has('ws') ? 'ws' : undefined;
  if (!refName) return out;
  const ref = lines.get(refName)!;
  const size = Math.min(...ref.map((p) => p.sizeBytes));
  const rates = [...new Set(ref.filter((p) => p.sizeBytes === size).map((p) => p.ratePerClient))].sort((a, b) => a - b);
  const poll = num(s.params['pollIntervalMs']);
  for (const rate of rates) {
    const refPt = ref.find((p) => p.sizeBytes === size && p.ratePerClient === rate)!;
    if (!(refPt.bytesPerMessage > 0)) continue;
    const others: string[] = [];
    for (const [t, pts] of lines) {
      if (t === refName) continue;
      const pt = pts.find((p) => p.sizeBytes === size && p.ratePerClient === rate);
      if (!pt) continue;
      others.push(
        others.length === 0
          ? `${transportInWords(t, poll)} spent ${fmtSig(pt.bytesPerMessage)} bytes per delivered message, ${fmtRatio(pt.bytesPerMessage / refPt.bytesPerMessage)} ${transportInWords(refName)} (${fmtSig(refPt.bytesPerMessage)} bytes)`
          : `${t} ${fmtSig(pt.bytesPerMessage)} (${fmtRatio(pt.bytesPerMessage / refPt.bytesPerMessage)})`,
      );
    }
    if (others.length > 0) {
      out.push({ level: 'info', scenario: s.name, text: `${s.name}: at ${fmtNum(rate)} msg/s per client and ${fmtInt(size)} B messages, ${others.join('; ')}.` });
    }
  }
  return out;
}

/** Why a ramp step failed, with who was the limit when the senders could not keep up. */
export function rampWhy(why: string | undefined): string {
  const w = why ?? 'not sustained';
  return /held back|could not send/.test(w) ? `${w} (the load's senders were the limit, not the server)` : w;
}

/**
 * How many deliveries one step of a throughput ramp owes per message asked
 * for: the subscribers when the server publishes (down), 1 when clients send (up).
 */
export function rampFanOut(s: ScenarioResult): number {
  const down = s.params['direction'] === 'down' || s.name === 'throughput-down' || s.results.some((r) => readThroughputExtra(r.extra)?.direction === 'down');
  const clients = num(s.params['clients']);
  return down && clients !== undefined && clients > 0 ? clients : 1;
}

/** Findings computed from the figures, in reading order. */
export function computeFindings(results: Results): Finding[] {
  const out: Finding[] = [];
  const allRows = results.scenarios.flatMap((s) => s.results);
  if (results.scenarios.length === 0) {
    out.push({ level: 'error', text: 'The results file holds no scenarios; nothing was measured.' });
    return out;
  }
  const applicable = allRows.filter((r) => !isNotApplicable(r));
  if (applicable.length > 0 && applicable.every((r) => !isCompleted(r))) {
    out.push({ level: 'error', text: `Every transport in every scenario errored (${applicable.length} of ${applicable.length} rows); no figures were measured.` });
  }
  const engineVsWs: string[] = [];

  for (const s of results.scenarios) {
    const rows = orderedRows(s.results);
    const where = loadInWords(s);
    const roundTrip = isRoundTrip(s);

    // Wire cost against the WebSocket engine (or ws when the engine did not run); the overhead sweep says it per rate.
    const bpm = completedWith(rows, bytesPerMessage);
    const ref = bpm.find((x) => x.row.transport === 'websocket') ?? bpm.find((x) => x.row.transport === 'ws');
    // A ramp's rows sit at different rates, so their bytes and latencies do not compare side by side.
    const isRamp = rows.some((r) => (readThroughputExtra(r.extra)?.steps?.length ?? 0) > 0);
    if (s.name === 'overhead' || rows.some((r) => readOverheadSweep(r.extra) !== undefined)) {
      out.push(...overheadFindings(s, rows));
    } else if (ref && ref.v > 0 && !isRamp) {
      const others = bpm.filter((x) => x.row.transport !== 'websocket' && x.row.transport !== 'ws' && x.v > 0);
      if (others.length > 0) {
        const refName = ref.row.transport === 'websocket' ? 'the WebSocket engine' : 'ws';
        const list = others.map((x, i) =>
          i === 0
            ? `${x.row.transport} spent ${fmtSig(x.v)} bytes on the wire per delivered message, ${fmtRatio(x.v / ref.v)} ${refName} (${fmtSig(ref.v)} bytes)`
            : `${x.row.transport} ${fmtSig(x.v)} (${fmtRatio(x.v / ref.v)})`,
        );
        out.push({ level: 'info', scenario: s.name, text: `${s.name}: ${where ? where + ', ' : ''}${list.join('; ')}.` });
      }
    }

    // Lowest and highest p99.
    const p99 = completedWith(rows, (r) => num(r.latencyMs?.p99));
    if (p99.length > 0 && !isRamp) {
      const best = p99.reduce((a, b) => (b.v < a.v ? b : a));
      const worst = p99.reduce((a, b) => (b.v > a.v ? b : a));
      const what = roundTrip ? 'round-trip p99' : 'p99';
      let text = `${s.name}: lowest ${what}: ${best.row.transport} (${fmtSig(best.v)} ms)`;
      if (worst.row !== best.row) text += `; highest: ${worst.row.transport} (${fmtSig(worst.v)} ms)`;
      if (roundTrip) {
        const rtps = completedWith(rows, (r) => num(r.throughput?.messagesPerSec));
        const mode = rows.map((r) => readEchoMode(r.extra)).find((m) => m !== undefined);
        if (mode === 'ping-pong' && rtps.length > 0) {
          const fast = rtps.reduce((a, b) => (b.v > a.v ? b : a));
          text += `; most round trips per second with one in flight: ${fast.row.transport} (${fmtSig(fast.v)})`;
        }
      }
      out.push({ level: 'info', scenario: s.name, text: text + '.' });
    }

    // The engine against ws, per server CPU second (where framing cost shows); gathered into one finding.
    const eng = rows.find((r) => r.transport === 'websocket' && isCompleted(r));
    const wsRow = rows.find((r) => r.transport === 'ws' && isCompleted(r));
    if (eng && wsRow) {
      const a = messagesPerServerCpuSec(eng);
      const b = messagesPerServerCpuSec(wsRow);
      if (a !== undefined && b !== undefined && b > 0) engineVsWs.push(`${fmtRatio(a / b)} in ${s.name} (${fmtSig(a)} vs ${fmtSig(b)})`);
    }

    // Throughput ramps.
    const sustained = readSustainedRates(s.params);
    const ramps = rows
      .filter((r) => isCompleted(r))
      .map((r) => ({ r, th: readThroughputExtra(r.extra) }))
      .filter((x) => x.th?.sustainedRate !== undefined || sustained?.[x.r.transport] !== undefined);
    if (ramps.length > 0) {
      const items = ramps
        .map(({ r, th }) => ({ t: r.transport, rate: th?.sustainedRate ?? sustained?.[r.transport] ?? 0, steps: th?.steps }))
        .sort((a, b) => b.rate - a.rate);
      const parts = items.map((x) => {
        const last = x.steps?.[x.steps.length - 1];
        if (x.rate === 0) return `${x.t} none${last?.why ? ` (${rampWhy(last.why)} at ${fmtInt(last.rate)} msg/s)` : ''}`;
        const top = last?.sustained ? ' (the top of the ramp: not a limit)' : '';
        return `${x.t} ${fmtInt(x.rate)} msg/s${top}`;
      });
      const fanned = rampFanOut(s);
      const unit = fanned > 1 ? ` (published; each message goes to ${fmtInt(fanned)} subscribers, so ${fmtInt(fanned)}× as many deliveries)` : '';
      out.push({ level: 'info', scenario: s.name, text: `${s.name}: highest sustained rate${unit}: ${parts.join(', ')}.` });
    }

    // Fan-out capacity.
    const cap = readFanOutCapacity(s.params);
    if (cap) {
      const list = Object.entries(cap.largestN)
        .sort((x, y) => y[1] - x[1])
        .map(([t, n]) => `${t} ${n > 0 ? fmtInt(n) : 'none'}`)
        .join(', ');
      const how = cap.searched === false ? ' among the steps run (capacity search off)' : '';
      if (list) out.push({ level: 'info', scenario: s.name, text: `${s.name}: largest N with p99 under ${fmtSig(cap.limitMs)} ms and no loss${how}: ${list}.` });
    }

    // Overhead crossovers (an empty list: no two lines crossed within the rates measured).
    const rates = numList(s.params['rates']);
    if (Array.isArray(s.params['crossovers']) && s.params['crossovers'].length === 0 && rates && rates.length > 1) {
      out.push({ level: 'info', scenario: s.name, text: `${s.name}: no two transports' bytes-per-message lines cross between the measured rates (${fmtNum(Math.min(...rates))} to ${fmtNum(Math.max(...rates))} msg/s per client): none becomes cheaper than another within the sweep.` });
    }
    for (const c of readCrossovers(s.params) ?? []) {
      const other = c.cheaperBelow === c.a ? c.b : c.a;
      out.push({
        level: 'info',
        scenario: s.name,
        text: c.cheaperBelow
          ? `${s.name}: with ${fmtInt(c.sizeBytes)} B messages, ${c.cheaperBelow} costs fewer bytes per message than ${other} below ${fmtNum(c.ratePerClient)} msg/s per client, more above.`
          : `${s.name}: ${c.a} and ${c.b} cost the same bytes per message at ${fmtNum(c.ratePerClient)} msg/s per client for ${fmtInt(c.sizeBytes)} B messages.`,
      });
    }

    // Dead-peer detection.
    const dps = rows.filter(isCompleted).map((r) => ({ r, dp: readDeadPeer(r.extra) })).filter((x): x is { r: TransportResult; dp: DeadPeerView } => x.dp !== undefined);
    if (dps.length > 0) {
      const seen = dps.filter((x) => x.dp.detected);
      const missed = dps.filter((x) => !x.dp.detected);
      const cap = dps.map((x) => x.dp.capMs).find((c) => c !== undefined);
      const within = cap !== undefined ? ` within ${fmtDuration(cap)}` : '';
      const seenList = seen.map((x) => `${x.r.transport} after ${fmtDuration(x.dp.detectMs!)}`).join(', ');
      if (missed.length === 0) {
        const best = seen.reduce((a, b) => (b.dp.detectMs! < a.dp.detectMs! ? b : a));
        out.push({ level: 'info', scenario: s.name, text: `${s.name}: every server freed a frozen peer${within}; fastest: ${best.r.transport} (${fmtDuration(best.dp.detectMs!)}).` });
      } else if (seen.length === 0) {
        out.push({ level: 'info', scenario: s.name, text: `${s.name}: no server noticed a frozen peer${within} (${missed.map((x) => x.r.transport).join(', ')}).` });
      } else {
        const names = seen.map((x) => x.r.transport);
        const who = names.every((t) => t === 'websocket' || t === 'ws') ? 'WebSocket' : listInWords(names);
        out.push({
          level: 'info',
          scenario: s.name,
          text: `${s.name}: only ${who} noticed a frozen peer${within} (${seenList}); ${listInWords(missed.map((x) => x.r.transport))} did not.`,
        });
      }
    }

    // HTTP saturation.
    for (const r of rows) {
      if (!isCompleted(r)) continue;
      const hs = readHttpSaturation(r.extra);
      const variants = readSaturationVariants(r.extra);
      if (!hs?.requestsPerSec && !variants) continue;
      const parts = (variants ?? []).map((v) => `${fmtSig(v.requestsPerSec)} ${variantName(v.name)}s/s${v.bound && v.bound !== 'neither' ? ` (${v.bound}-bound${v.bound === 'client' ? ': a floor for the server' : ''})` : ''}`);
      let text = `${s.name}/${r.transport}: ${parts.length > 0 ? parts.join(', ') : `${fmtSig(hs!.requestsPerSec!)} requests/s`}`;
      if (hs?.maxClientsAtPollInterval !== undefined) text += `; enough for ≈ ${fmtInt(hs.maxClientsAtPollInterval)} clients polling every ${fmtDuration(hs.pollIntervalMs ?? 1000)}, if the server did nothing else`;
      out.push({ level: 'info', scenario: s.name, text: text + '.' });
    }
    const na = rows.filter(isNotApplicable);
    if (na.length > 0) out.push({ level: 'info', scenario: s.name, text: `${s.name}: not applicable to ${listInWords(na.map((r) => r.transport))}.` });

    // Connections: memory per idle connection at the largest step every transport reached.
    const conns = rows.filter(isCompleted).map((r) => ({ r, steps: readConnectionsSteps(r.extra) })).filter((x) => x.steps !== undefined);
    if (conns.length > 0) {
      const common = Math.min(...conns.map((x) => x.steps![x.steps!.length - 1]!.connections));
      const at = conns
        .map((x) => ({ t: x.r.transport, st: x.steps!.filter((st) => st.connections <= common).pop() }))
        .filter((x) => x.st !== undefined)
        .sort((a, b) => a.st!.rssPerConnBytes - b.st!.rssPerConnBytes);
      if (at.length > 0) {
        out.push({ level: 'info', scenario: s.name, text: `${s.name}: server RSS per idle connection at ${fmtInt(common)}: ${at.map((x) => `${x.t} ${fmtBytes(x.st!.rssPerConnBytes)}`).join(', ')}.` });
      }
      for (const x of conns) {
        for (const k of readConnectionsSkipped(x.r.extra) ?? []) {
          out.push({ level: 'warn', scenario: s.name, text: `${s.name}/${x.r.transport}: the ${fmtInt(k.connections)}-connection step was skipped: ${k.reason}.` });
        }
      }
    }

    // Loss.
    for (const r of rows) {
      if (isCompleted(r) && r.messages && r.messages.lost > 0) {
        out.push({
          level: 'warn',
          scenario: s.name,
          text: `${s.name}/${r.transport} lost ${fmtInt(r.messages.lost)} of ${fmtInt(r.messages.sent)} messages.`,
        });
      }
    }

    // Client-bound runs.
    for (const r of rows) {
      if (r.client?.clientBound) {
        out.push({
          level: 'warn',
          scenario: s.name,
          text: `${s.name}/${r.transport}: the load client was the bottleneck (client CPU ${fmtFixed(r.client.cpuPct, 0)}%), so these figures understate what the server can do.`,
        });
      }
    }

    // Errors (a transport the scenario does not apply to is not one).
    for (const r of rows) {
      if (isFailed(r)) {
        out.push({ level: 'error', scenario: s.name, text: `${s.name}/${r.transport} errored: ${r.error ?? 'no reason given'}.` });
      }
    }
    const mine = rows.filter((r) => !isNotApplicable(r));
    if (mine.length > 0 && mine.every((r) => !isCompleted(r)) && !applicable.every((r) => !isCompleted(r))) {
      out.push({ level: 'error', scenario: s.name, text: `${s.name}: every transport errored; this scenario has no figures.` });
    }
  }
  if (engineVsWs.length > 0) {
    out.push({ level: 'info', text: `Engine vs ws: the WebSocket engine handled ${engineVsWs[0]} the messages per server CPU second of ws${engineVsWs.length > 1 ? `; ${engineVsWs.slice(1).join('; ')}` : ''}.` });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Baseline comparison.

/** Default tolerance for a figure without repeat spread, percent. */
export const DEFAULT_TOLERANCE_PCT = 10;

/** How a compared figure moved. */
export type Verdict = 'regression' | 'improvement' | 'within' | 'changed';

/** One figure compared against the baseline. */
export interface ComparisonRow {
  scenario: string;
  transport: string;
  key: string;
  title: string;
  value: number;
  baseline: number;
  /** Formatted value and baseline (same formatter as the tables). */
  valueText: string;
  baselineText: string;
  /** (value − baseline) / baseline × 100; ±Infinity when the baseline is 0 and the value is not. */
  deltaPct: number;
  /** Tolerance used, percent, and where it came from. */
  tolerancePct: number;
  toleranceFrom: 'spread' | 'default';
  verdict: Verdict;
}

/** A transport that completed in the baseline and errored now (or the reverse). */
export interface StateChange {
  scenario: string;
  transport: string;
  from: TransportResult['state'];
  to: TransportResult['state'];
  error: string | null;
}

/** The whole comparison. */
export interface Comparison {
  rows: ComparisonRow[];
  stateChanges: StateChange[];
  regressions: number;
  improvements: number;
}

/** Relative width of a repeat spread, percent of the value. */
function spreadPct(row: TransportResult, key: string, value: number): number | undefined {
  const s = readSpread(row.extra)?.[key];
  if (!s || value === 0) return undefined;
  return (Math.abs(s.max - s.min) / Math.abs(value)) * 100;
}

/**
 * Compares every figure with a direction present in both runs. The tolerance
 * for a figure is the wider relative repeat spread (`extra.spread[key]`, max −
 * min over value) of the two runs, or DEFAULT_TOLERANCE_PCT without one; a move
 * the wrong way beyond it is a regression.
 */
export function compareResults(current: Results, baseline: Results, defaultTolerancePct = DEFAULT_TOLERANCE_PCT): Comparison {
  const rows: ComparisonRow[] = [];
  const stateChanges: StateChange[] = [];
  for (const s of current.scenarios) {
    const bs = baseline.scenarios.find((x) => x.name === s.name);
    if (!bs) continue;
    for (const r of orderedRows(s.results)) {
      const br = bs.results.find((x) => x.transport === r.transport);
      if (!br) continue;
      if (br.state !== r.state) {
        stateChanges.push({ scenario: s.name, transport: r.transport, from: br.state, to: r.state, error: r.error });
      }
      if (!isCompleted(r) || !isCompleted(br)) continue;
      for (const f of FIGURES) {
        if (f.better === null) continue;
        const v = f.get(r);
        const b = f.get(br);
        if (v === undefined || b === undefined) continue;
        const deltaPct = b === 0 ? (v === 0 ? 0 : v > 0 ? Infinity : -Infinity) : ((v - b) / Math.abs(b)) * 100;
        const spreads = [spreadPct(r, f.key, v), spreadPct(br, f.key, b)].filter((x): x is number => x !== undefined);
        const tolerancePct = spreads.length > 0 ? Math.max(...spreads) : defaultTolerancePct;
        const worse = f.better === 'lower' ? deltaPct > tolerancePct : deltaPct < -tolerancePct;
        const betterMove = f.better === 'lower' ? deltaPct < -tolerancePct : deltaPct > tolerancePct;
        rows.push({
          scenario: s.name,
          transport: r.transport,
          key: f.key,
          title: f.title,
          value: v,
          baseline: b,
          valueText: f.format(v),
          baselineText: f.format(b),
          deltaPct,
          tolerancePct,
          toleranceFrom: spreads.length > 0 ? 'spread' : 'default',
          verdict: worse ? 'regression' : betterMove ? 'improvement' : 'within',
        });
      }
    }
  }
  const regressions = rows.filter((r) => r.verdict === 'regression').length + stateChanges.filter((c) => c.to === 'errored').length;
  const improvements = rows.filter((r) => r.verdict === 'improvement').length;
  return { rows, stateChanges, regressions, improvements };
}

/** A verdict as a short mark for text outputs. */
export function verdictMark(v: Verdict): string {
  switch (v) {
    case 'regression':
      return 'REGRESSION';
    case 'improvement':
      return 'better';
    case 'within':
      return '';
    case 'changed':
      return 'changed';
  }
}
