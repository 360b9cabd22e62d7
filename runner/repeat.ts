/**
 * `--repeat K`: K trials of one scenario × transport become one row whose
 * headline figures are the per-figure medians (the fixed-rate p50 and p99: the
 * percentiles of the trials' pooled round trips), with each figure's min–max in
 * `extra.spread` (keys as in reports/figures.ts) so a comparison can tell a
 * regression from run-to-run noise, and, when every trial completed, each
 * trial's value in `extra.trialValues` (same keys, trial order).
 */
import { mergeEncoded, summarize } from '../metrics/latency.ts';
import type { TransportResult } from '../metrics/results.ts';

/** Headline figures that get a median and a spread. */
const PATHS = [
  'latencyMs.p50',
  'latencyMs.p90',
  'latencyMs.p99',
  'latencyMs.p999',
  'latencyMs.max',
  'latencyMs.mean',
  'throughput.messagesPerSec',
  'throughput.payloadBytesPerSec',
  'wire.bytesPerMessage',
  'wire.overheadBytesPerMessage',
  'server.cpuMs',
  'server.cpuUsPerMessage',
  'server.rssMaxBytes',
  'client.cpuUsPerMessage',
  'messages.lost',
  'extra.fixedCpuUsPerMessage',
  'extra.fixedLoadCpuUsPerMessage',
  'extra.fixedP50Ms',
  'extra.fixedP99Ms',
] as const;

/** Figures computed from a row rather than stored in it, with their spread under the same keys as reports/figures.ts. */
const DERIVED: Record<string, (t: TransportResult) => number | undefined> = {
  'derived.messagesPerServerCpuSec': (t) => (t.messages?.delivered && t.server?.cpuMs ? t.messages.delivered / (t.server.cpuMs / 1000) : undefined),
};

function getPath(o: unknown, path: string): number | undefined {
  let cur: unknown = o;
  for (const k of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
}

function setPath(o: object, path: string, v: number): void {
  const keys = path.split('.');
  let cur = o as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (!next || typeof next !== 'object') return;
    cur = next as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = v;
}

/** The median of numbers (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The fixed-rate p50 and p99 of every trial's round trips together, when each trial kept its
 * phase's histogram and carries the figures: a tail percentile of the pooled samples moves less
 * from run to run than the median of the trials' own (one trial's stall weighs a third, not all
 * or nothing), and it always lies within their range, which the spread still gives.
 */
function pooledFixedLatency(ok: TransportResult[]): { fixedP50Ms: number; fixedP99Ms: number } | undefined {
  const hists = ok.map((t) => (t.extra?.['fixedLoad'] as { histogram?: unknown } | undefined)?.histogram);
  if (!ok.every((t) => getPath(t, 'extra.fixedP99Ms') !== undefined) || !hists.every((h): h is string => typeof h === 'string')) return undefined;
  const s = summarize(mergeEncoded(hists));
  return s ? { fixedP50Ms: s.p50, fixedP99Ms: s.p99 } : undefined;
}

/** Combines the trials of one transport into one row. */
export function combineTrials(trials: TransportResult[]): TransportResult {
  if (trials.length === 1) return trials[0]!;
  const ok = trials.filter((t) => t.state === 'completed');
  const failed = trials.filter((t) => t.state !== 'completed');
  if (ok.length === 0) return { ...trials[trials.length - 1]!, extra: { ...trials[trials.length - 1]!.extra, trials: trials.length } };
  // The base row is the trial nearest the median p50 (or throughput), so its curve and series fit its figures.
  // A saturation search's row is the trial of the median sustained rate: its bracket and steps are that trial's.
  const searched = ok.every((t) => getPath(t, 'extra.sustainedRate') !== undefined);
  const key = (t: TransportResult) =>
    (searched ? getPath(t, 'extra.sustainedRate') : undefined) ?? getPath(t, 'latencyMs.p50') ?? getPath(t, 'throughput.messagesPerSec') ?? 0;
  const mid = median(ok.map(key));
  const base = structuredClone(ok.reduce((a, b) => (Math.abs(key(b) - mid) < Math.abs(key(a) - mid) ? b : a)));
  const spread: Record<string, { min: number; max: number }> = {};
  // Each trial's value in trial order, when every trial completed: trial k of every row ran back
  // to back, so two rows' values pair (report-model/trials.ts).
  const trialValues: Record<string, number[]> = {};
  const keep = (key: string, vs: number[]) => {
    spread[key] = { min: Math.min(...vs), max: Math.max(...vs) };
    if (failed.length === 0) trialValues[key] = vs;
  };
  for (const p of PATHS) {
    const vs = ok.map((t) => getPath(t, p)).filter((v): v is number => v !== undefined);
    if (vs.length !== ok.length) continue;
    setPath(base, p, median(vs));
    keep(p, vs);
  }
  if (searched)
    keep(
      'extra.sustainedRate',
      ok.map((t) => getPath(t, 'extra.sustainedRate')!),
    );
  // A phase only some trials ran (the quick push measures its fixed load in the first): the row
  // takes it from a trial that has it, as one trial's figure (no spread is made of it).
  const withFixed = ok.find((t) => t.extra?.['fixedLoad'] !== undefined);
  if (base.extra?.['fixedLoad'] === undefined && withFixed)
    for (const k of ['fixedLoad', 'fixedCpuUsPerMessage', 'fixedP50Ms', 'fixedP99Ms'])
      if (withFixed.extra![k] !== undefined) base.extra = { ...base.extra, [k]: withFixed.extra![k] };
  const pooled = pooledFixedLatency(ok);
  if (pooled) Object.assign(base.extra!, pooled);
  for (const [k, get] of Object.entries(DERIVED)) {
    const vs = ok.map(get).filter((v): v is number => v !== undefined);
    if (vs.length === ok.length) keep(k, vs);
  }
  base.extra = {
    ...base.extra,
    trials: trials.length,
    completedTrials: ok.length,
    spread,
    ...(Object.keys(trialValues).length ? { trialValues } : {}),
    // A figure any trial of which was limited by its load is a floor.
    ...(ok.some((t) => t.extra?.['floor'] === true) ? { floor: true } : {}),
    ...(failed.length ? { failedTrials: failed.map((f) => f.error) } : {}),
  };
  return base;
}
