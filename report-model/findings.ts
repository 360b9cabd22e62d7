/**
 * Findings in plain words that are about every scenario or span several: the
 * cheapest and fastest transport of a scenario whose rows compare side by
 * side, the engine against its reference, loss, client-bound runs, errors.
 * Each scenario's own findings come from its facet, in between.
 */
import type { Results, ScenarioResult, TransportResult } from '../metrics/results.ts';
import { transportByName } from '../transports/index.ts';
import type { Finding } from './doc.ts';
import { byLink, linkFindings } from './links.ts';
import type { ScenarioFacet } from './facet.ts';
import { figure } from './figures.ts';
import { compareTrials, PAIRED_MIN_EFFECT, type PairedRatio, type TrialRange, trialRange } from './trials.ts';
import {
  bytesPerMessage,
  completedWith,
  fmtDuration,
  fmtFixed,
  fmtInt,
  fmtNum,
  fmtRatio,
  fmtSig,
  isCompleted,
  isFailed,
  isNotApplicable,
  listInWords,
  num,
  orderedRows,
} from './format.ts';

/** The facet that reads a scenario, if any (scenarios/facets.ts `facetOf`). */
type FacetOf = (s: ScenarioResult) => ScenarioFacet | undefined;

function pickNum(params: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const v = num(params[k]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The load of a scenario in words: its facet's, or what common parameter names say ("at 50 msg/s to 50 clients, polling every 1 s"). */
export function loadInWords(s: ScenarioResult, facet: ScenarioFacet | undefined): string {
  const known = facet?.loadInWords?.(s);
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
  return parts.join(', ');
}

const roleOf = (r: TransportResult) => transportByName(r.transport)?.role;
const inWords = (r: TransportResult) => transportByName(r.transport)?.inWords ?? r.transport;

/** Wire cost against the engine (or its reference when the engine did not run). */
function wireFinding(s: ScenarioResult, rows: TransportResult[], where: string): Finding | undefined {
  const bpm = completedWith(rows, bytesPerMessage);
  const ref = bpm.find((x) => roleOf(x.row) === 'engine') ?? bpm.find((x) => roleOf(x.row) === 'reference');
  if (!ref || !(ref.v > 0)) return undefined;
  const others = bpm.filter((x) => roleOf(x.row) === undefined && x.v > 0);
  if (others.length === 0) return undefined;
  const list = others.map((x, i) =>
    i === 0
      ? `${x.row.transport} spent ${fmtSig(x.v)} bytes on the wire per delivered message, ${fmtRatio(x.v / ref.v)} ${inWords(ref.row)} (${fmtSig(ref.v)} bytes)`
      : `${x.row.transport} ${fmtSig(x.v)} (${fmtRatio(x.v / ref.v)})`,
  );
  return {
    level: 'info',
    scenario: s.name,
    topic: 'bytes',
    text: `${s.name}: ${where ? where + ', ' : ''}${list.join('; ')}${spreadNote(best(bpm), 'wire.bytesPerMessage', bytesPerMessage, ' bytes')}.`,
  };
}

/** The row with the smallest value. */
function best<T extends { v: number }>(xs: T[]): T {
  return xs.reduce((a, b) => (b.v < a.v ? b : a));
}

/** " (trials of websocket: 3.9–4.3 ms)" when the row kept its trials' range of the figure, else ''. */
function spreadNote(x: { row: TransportResult }, key: string, get: (r: TransportResult) => number | undefined, unit: string): string {
  const r = trialRange(x.row, key, get);
  return r && r.trials >= 2 ? ` (${x.row.transport} over ${r.trials} trials: ${fmtSig(r.min)}–${fmtSig(r.max)}${unit})` : '';
}

/**
 * The least difference the fixed-rate p50 is named for: most of it is the load process's own
 * sending, and its ratio between two servers moved by more than this between runs
 * (docs/ARCHITECTURE.md, "The runner and its children").
 */
const FIXED_P50_LEAST = 0.1;

/** A share in words: 0.1 → "10 %". */
const pctWords = (share: number): string => `${fmtFixed(share * 100, 0)} %`;

/**
 * Lowest and highest p99, with the facet's note. Where the rows' own percentiles are a queue's,
 * the p50 of the fixed-rate phase is compared instead, and only between rows that ran it: its
 * p99 carries the one load process's own delays as much as the server's (the sender's timer
 * runs late while the process is busy), so it moves from trial to trial.
 */
function latencyFinding(s: ScenarioResult, rows: TransportResult[], facet: ScenarioFacet | undefined): Finding | undefined {
  const queued = facet?.queuedLatency?.(s) ?? false;
  const key = queued ? 'extra.fixedP50Ms' : 'latencyMs.p99';
  const get = figure(key).get;
  const values = completedWith(rows, get);
  if (values.length === 0) return undefined;
  const best = values.reduce((a, b) => (b.v < a.v ? b : a));
  const worst = values.reduce((a, b) => (b.v > a.v ? b : a));
  const rate = queued ? num((best.row.extra?.['fixedLoad'] as { ratePerSec?: unknown } | undefined)?.ratePerSec) : undefined;
  const pct = queued ? 'p50' : 'p99';
  const what = `${facet?.roundTrip ? `round-trip ${pct}` : pct}${rate !== undefined ? ` at a fixed ${fmtInt(rate)} msg/s` : ''}`;
  // With trials on every side, a row is named lowest only beyond the spread of the others' trials
  // (and, for the fixed-rate p50, more than FIXED_P50_LEAST apart). Every row here has the figure,
  // so each has a range.
  const least = queued ? FIXED_P50_LEAST : 0;
  const ranges = values.map((x) => ({ x, r: trialRange(x.row, key, get)! }));
  const bestRange = ranges.find((o) => o.x === best)!.r;
  const tied = ranges.filter((o) => o.x !== best && compareTrials(bestRange, o.r, 'lower', least).winner === 'tie');
  const within = least > 0 ? `the trials' spread or ${pctWords(least)}` : "the trials' spread";
  let text: string;
  if (worst.row !== best.row && tied.some((o) => o.x === worst)) {
    // Even the highest is within reach of the lowest: nothing to choose between them.
    text = `${s.name}: no measurable difference in ${what}: ${ranges.map((o) => `${o.x.row.transport} ${withRange(o.r, fmtSig, ' ms')}`).join(', ')}`;
    if (least > 0) text += ` (a fixed-rate p50 is mostly the load process's own sending, so only ranges more than ${pctWords(least)} apart are named)`;
  } else {
    text = `${s.name}: lowest ${what}: ${best.row.transport} (${fmtSig(best.v)} ms)`;
    if (tied.length) text += `, within ${within} of ${tied.map((o) => o.x.row.transport).join(', ')}`;
    if (worst.row !== best.row) text += `; highest: ${worst.row.transport} (${fmtSig(worst.v)} ms)`;
    text += spreadNote(best, key, get, ' ms');
  }
  if (queued) text += "; the run's own percentiles are the queue of a saturated run and are not compared";
  text += facet?.latencyNote?.(s) ?? '';
  return { level: 'info', scenario: s.name, topic: 'latency', text: text + '.' };
}

/** A figure's value with its trials' range in words: "18 (16–21, 3 trials)" or "18 (1 trial)". */
function withRange(r: TrialRange, format: (v: number) => string, unit = ''): string {
  return r.trials >= 2 ? `${format(r.median)}${unit} (${format(r.min)}–${format(r.max)}${unit}, ${r.trials} trials)` : `${format(r.median)}${unit} (1 trial)`;
}

/**
 * The engine against its reference in one scenario: server CPU per message at a fixed load when the
 * rows carry it, else messages per server CPU second; the verdict follows `compareTrials`.
 */
function engineAgainstReference(s: ScenarioResult, rows: TransportResult[]): string | undefined {
  const eng = rows.find((r) => roleOf(r) === 'engine' && isCompleted(r));
  const ref = rows.find((r) => roleOf(r) === 'reference' && isCompleted(r));
  if (!eng || !ref) return undefined;
  const key =
    num(eng.extra?.['fixedCpuUsPerMessage']) !== undefined && num(ref.extra?.['fixedCpuUsPerMessage']) !== undefined
      ? 'extra.fixedCpuUsPerMessage'
      : 'derived.messagesPerServerCpuSec';
  const f = figure(key);
  const a = trialRange(eng, key, f.get);
  const b = trialRange(ref, key, f.get);
  if (!a || !b || !(b.median > 0) || f.better === null) return undefined;
  const v = compareTrials(a, b, f.better);
  const figures = `${f.title}: ${withRange(a, f.format)} against ${withRange(b, f.format)}, ${fmtRatio(v.ratio)}`;
  const pairs = v.paired ? pairedInWords(v.paired) : undefined;
  const side = v.winner === 'a' ? 'the engine' : 'the reference';
  const verdict =
    v.winner === 'a' || v.winner === 'b'
      ? v.by === 'pairs'
        ? `${side} is cheaper: the trials' ranges overlap, but ${pairs} lies more than ${pctWords(PAIRED_MIN_EFFECT)} from 1`
        : `${side} is cheaper beyond the trials' spread${pairs ? `; ${pairs}` : ''}`
      : v.winner === 'tie'
        ? pairs
          ? `no measurable difference: the trials' ranges overlap, and ${pairs} reaches within ${pctWords(PAIRED_MIN_EFFECT)} of 1`
          : "no measurable difference (the trials' ranges overlap)"
        : 'one trial each, so no verdict (run with --profile full or --repeat 3)';
  return `in ${s.name}, ${figures}: ${verdict}`;
}

/** A paired ratio in words: "0.58–0.80× trial by trial (95 % interval over 5 pairs)". */
function pairedInWords(p: PairedRatio): string {
  return `${fmtFixed(p.low, 2)}–${fmtFixed(p.high, 2)}× trial by trial (95 % interval over ${p.pairs} pairs)`;
}

/** Each WebSocket row as a share of the raw TCP ceiling measured in the same run: delivered msgs/s and messages per server CPU second. */
function ceilingFinding(s: ScenarioResult, rows: TransportResult[]): Finding | undefined {
  const ceiling = rows.find((r) => roleOf(r) === 'ceiling' && isCompleted(r));
  if (!ceiling) return undefined;
  const perCpu = figure('derived.messagesPerServerCpuSec');
  const rate = figure('throughput.messagesPerSec');
  const share = (f: typeof rate, r: TransportResult): string | undefined => {
    const a = f.get(r);
    const c = f.get(ceiling);
    return a !== undefined && c !== undefined && c > 0 ? `${fmtFixed((100 * a) / c, 0)}% of the ceiling's ${f.title}` : undefined;
  };
  const parts = rows
    .filter((r) => r !== ceiling && isCompleted(r) && transportByName(r.transport)?.traits.delivery === 'frames')
    .map((r) => {
      const bits = [share(rate, r), share(perCpu, r)].filter(Boolean);
      return bits.length ? `${r.transport} reached ${bits.join(' and ')}` : undefined;
    })
    .filter((x): x is string => x !== undefined);
  if (parts.length === 0) return undefined;
  return { level: 'info', scenario: s.name, text: `${s.name}: against the ${inWords(ceiling)} ceiling of this run, ${parts.join('; ')}.` };
}

/** Server CPU per HTTP request and per delivered message of a row, µs (undefined where not measured). */
function cpuPer(r: TransportResult): { request?: number; message?: number } {
  const cpuUs = (num(r.server?.cpuMs) ?? Number.NaN) * 1000;
  const requests = num(r.wire?.requests);
  const delivered = num(r.messages?.delivered);
  return {
    ...(requests && Number.isFinite(cpuUs) && { request: cpuUs / requests }),
    ...(delivered && Number.isFinite(cpuUs) && { message: cpuUs / delivered }),
  };
}

/**
 * The framework's share where an HTTP transport ran on both servers (express and its
 * node:http variant row): server CPU per request and per delivered message on each, and how
 * the transports compare on each server (each against the cheapest per message there).
 * Only rows that delivered messages: a scenario without deliveries (http-saturation) says it
 * per variant in its own facet.
 */
function frameworkShareFindings(s: ScenarioResult, rows: TransportResult[]): Finding[] {
  const out: Finding[] = [];
  const done = rows.filter((r) => isCompleted(r) && (num(r.messages?.delivered) ?? 0) > 0);
  const kindOf = (r: TransportResult) => transportByName(r.transport)?.httpServer;
  const pairs: string[] = [];
  for (const v of done) {
    const d = transportByName(v.transport);
    if (!d?.variantOf) continue;
    const base = done.find((r) => r.transport === d.variantOf);
    if (!base) continue;
    const a = cpuPer(base);
    const b = cpuPer(v);
    if (a.request === undefined || b.request === undefined || a.message === undefined || b.message === undefined) continue;
    const share = a.request > 0 ? Math.max(0, (a.request - b.request) / a.request) : 0;
    pairs.push(
      `${inWords(base)}: ${fmtSig(a.request)} µs of server CPU per request on ${kindOf(base)}, ${fmtSig(b.request)} µs on node:http ` +
        `(the framework's share ≈ ${fmtFixed(share * 100, 0)} %); per delivered message ${fmtSig(a.message)} vs ${fmtSig(b.message)} µs`,
    );
  }
  if (pairs.length === 0) return out;
  out.push({ level: 'info', scenario: s.name, text: `${s.name}, express beside node:http: ${pairs.join('; ')}.` });
  // How the comparison between transports changes with the server under them.
  const kinds = [...new Set(done.map(kindOf))].filter((k) => k !== undefined);
  const lines: string[] = [];
  for (const kind of kinds) {
    const here = done.filter((r) => kindOf(r) === kind || kindOf(r) === undefined);
    const per = here.map((r) => ({ r, m: cpuPer(r).message })).filter((x): x is { r: TransportResult; m: number } => x.m !== undefined && x.m > 0);
    if (per.length < 2) continue;
    const cheapest = per.reduce((x, y) => (y.m < x.m ? y : x));
    const others = per.filter((x) => x !== cheapest).map((x) => `${x.r.transport} ${fmtRatio(x.m / cheapest.m)}`);
    lines.push(`on ${kind === 'node' ? 'node:http' : kind}, per delivered message against ${cheapest.r.transport}: ${others.join(', ')}`);
  }
  if (lines.length > 1) out.push({ level: 'info', scenario: s.name, text: `${s.name}: server CPU ${lines.join('; ')}.` });
  return out;
}

/**
 * The load's CPU per delivered message against the server's, in the row's phase and at the fixed
 * rate: a load that costs as much as the server it drives would be the first to saturate on a
 * machine that gives each a core, so a saturation figure there describes the client.
 */
function loadCostFindings(scenario: string, r: TransportResult): Finding[] {
  const out: Finding[] = [];
  const pairs: [string, number | undefined, number | undefined][] = [
    ['', num(r.client?.cpuUsPerMessage), num(r.server?.cpuUsPerMessage)],
    [' at the fixed rate', num(r.extra?.['fixedLoadCpuUsPerMessage']), num(r.extra?.['fixedCpuUsPerMessage'])],
  ];
  for (const [where, load, server] of pairs) {
    if (load === undefined || server === undefined || server <= 0 || load < server) continue;
    out.push({
      level: 'warn',
      scenario,
      topic: 'limits',
      text: `${scenario}/${r.transport}: the load cost ${fmtSig(load)} µs of CPU per delivered message${where}, ${fmtRatio(load / server)} the server's ${fmtSig(server)} µs: the load, not the server, is what saturates first.`,
    });
  }
  return out;
}

/** Findings that hold for any scenario after its own: not applicable, loss, client-bound runs, load as costly as the server, errors. */
function closingFindings(s: ScenarioResult, rows: TransportResult[], everyRowErrored: boolean): Finding[] {
  const out: Finding[] = [];
  const na = rows.filter(isNotApplicable);
  if (na.length > 0) out.push({ level: 'info', scenario: s.name, text: `${s.name}: not applicable to ${listInWords(na.map((r) => r.transport))}.` });
  for (const r of rows) {
    if (isCompleted(r) && r.messages && r.messages.lost > 0) {
      out.push({
        level: 'warn',
        scenario: s.name,
        topic: 'limits',
        text: `${s.name}/${r.transport} lost ${fmtInt(r.messages.lost)} of ${fmtInt(r.messages.sent)} messages.`,
      });
    }
  }
  for (const r of rows) {
    if (r.client?.clientBound) {
      out.push({
        level: 'warn',
        scenario: s.name,
        text: `${s.name}/${r.transport}: the load client was the bottleneck (client CPU ${fmtFixed(r.client.cpuPct, 0)}%)${r.extra?.['floor'] === true ? ' with every load process the load CPUs allow, so these figures are a floor' : ''}: they understate what the server can do.`,
      });
    }
  }
  for (const r of rows) if (isCompleted(r)) out.push(...loadCostFindings(s.name, r));
  // A transport the scenario does not apply to is not an error.
  for (const r of rows)
    if (isFailed(r)) out.push({ level: 'error', scenario: s.name, text: `${s.name}/${r.transport} errored: ${r.error ?? 'no reason given'}.` });
  const mine = rows.filter((r) => !isNotApplicable(r));
  if (mine.length > 0 && mine.every((r) => !isCompleted(r)) && !everyRowErrored) {
    out.push({ level: 'error', scenario: s.name, text: `${s.name}: every transport errored; this scenario has no figures.` });
  }
  return out;
}

/** Every finding of a results file, in reading order: run-wide, then per scenario (general, the facet's, closing), then across scenarios. */
export function computeFindings(results: Results, facetOf: FacetOf): Finding[] {
  const out: Finding[] = [];
  if (results.scenarios.length === 0) {
    out.push({ level: 'error', text: 'The results file holds no scenarios; nothing was measured.' });
    return out;
  }
  const applicable = results.scenarios.flatMap((s) => s.results).filter((r) => !isNotApplicable(r));
  const everyRowErrored = applicable.length > 0 && applicable.every((r) => !isCompleted(r));
  if (everyRowErrored) {
    out.push({
      level: 'error',
      text: `Every transport in every scenario errored (${applicable.length} of ${applicable.length} rows); no figures were measured.`,
    });
  }
  const engineRatios: string[] = [];
  for (const s of results.scenarios) {
    const facet = facetOf(s);
    const rows = orderedRows(s.results);
    const sideBySide = facet?.sideBySide?.(s) ?? true;
    if (sideBySide) {
      // Rows over different links (`--link`) are compared only with rows of their own link.
      for (const group of byLink(rows)) {
        const wire = wireFinding(s, group, loadInWords(s, facet));
        if (wire) out.push(wire);
        const latency = latencyFinding(s, group, facet);
        if (latency) out.push(latency);
      }
    }
    out.push(...linkFindings(s, rows, facet, sideBySide));
    const ratio = engineAgainstReference(s, rows);
    if (ratio) engineRatios.push(ratio);
    out.push(...(facet?.findings?.(s) ?? []));
    out.push(...frameworkShareFindings(s, rows));
    const ceiling = ceilingFinding(s, rows);
    if (ceiling) out.push(ceiling);
    out.push(...closingFindings(s, rows, everyRowErrored));
  }
  const engine = transportByName(results.scenarios.flatMap((s) => s.results).find((r) => roleOf(r) === 'engine')?.transport ?? '');
  const reference = transportByName(results.scenarios.flatMap((s) => s.results).find((r) => roleOf(r) === 'reference')?.transport ?? '');
  if (engineRatios.length > 0 && engine && reference) {
    out.push({
      level: 'info',
      topic: 'cost',
      text: `Engine vs ${reference.inWords} (${engine.inWords} first): ${engineRatios.join('; ')}.`,
    });
  }
  return out;
}
