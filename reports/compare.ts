/**
 * A run against a baseline: every figure with a direction present in both,
 * judged against the repeat spread (or a default tolerance), and the rows
 * whose state changed; then the same as report blocks.
 */

import type { Results, TransportResult } from '../metrics/results.ts';
import type { Block, Cell, ListBlock, Section, TableBlock } from '../report-model/doc.ts';
import { FIGURES } from '../report-model/figures.ts';
import { fmtDeltaPct, fmtFixed, isCompleted, orderedRows } from '../report-model/format.ts';

/** Default tolerance for a figure without repeat spread, percent. */
export const DEFAULT_TOLERANCE_PCT = 10;

/** How a compared figure moved. */
type Verdict = 'regression' | 'improvement' | 'within';

/** One figure compared against the baseline. */
interface ComparisonRow {
  /** Scenario name. */
  scenario: string;
  /** Transport row name. */
  transport: string;
  /** Figure key (see FIGURES). */
  key: string;
  /** The figure's long label. */
  title: string;
  /** The figure in this run. */
  value: number;
  /** The figure in the baseline. */
  baseline: number;
  /** Formatted value and baseline (same formatter as the tables). */
  valueText: string;
  baselineText: string;
  /** (value − baseline) / baseline × 100; ±Infinity when the baseline is 0 and the value is not. */
  deltaPct: number;
  /** Tolerance used, percent, and where it came from. */
  tolerancePct: number;
  toleranceFrom: 'spread' | 'default';
  /** How the figure moved, judged against the tolerance. */
  verdict: Verdict;
}

/** A transport that completed in the baseline and errored now (or the reverse). */
interface StateChange {
  /** Scenario name. */
  scenario: string;
  /** Transport row name. */
  transport: string;
  /** State in the baseline. */
  from: TransportResult['state'];
  /** State now. */
  to: TransportResult['state'];
  /** The current row's error, if any. */
  error: string | null;
}

/** The whole comparison. */
export interface Comparison {
  /** Every figure compared. */
  rows: ComparisonRow[];
  /** Rows whose state differs from the baseline's. */
  stateChanges: StateChange[];
  /** Figures beyond tolerance the wrong way, plus rows that now error. */
  regressions: number;
  /** Figures beyond tolerance the right way. */
  improvements: number;
  /** The calibration loop's median in this run and in the baseline, ms, when both recorded it; and the loopback round trip's, µs. */
  calibration?: { currentMs: number; baselineMs: number; loopback?: { currentUs: number; baselineUs: number } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Relative width of a repeat spread (`extra.spread[key]`, min–max), percent of the value. */
function spreadPct(row: TransportResult, key: string, value: number): number | undefined {
  const spread = row.extra?.['spread'];
  const s = isObject(spread) ? spread[key] : undefined;
  if (!isObject(s) || typeof s['min'] !== 'number' || typeof s['max'] !== 'number' || !Number.isFinite(s['min']) || !Number.isFinite(s['max']) || value === 0)
    return undefined;
  return (Math.abs(s['max'] - s['min']) / Math.abs(value)) * 100;
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
  const c = current.meta.calibration;
  const b = baseline.meta.calibration;
  const loopback = c?.loopbackUs && b?.loopbackUs ? { loopback: { currentUs: c.loopbackUs.median, baselineUs: b.loopbackUs.median } } : {};
  return {
    rows,
    stateChanges,
    regressions,
    improvements,
    ...(c && b && { calibration: { currentMs: c.medianMs, baselineMs: b.medianMs, ...loopback } }),
  };
}

/** Machine speeds differing by this share or more are named: a difference that size moves CPU-bound figures on its own. */
const SPEED_NOTE_PCT = 5;

/** "12 % slower" or "7 % faster" for a timing against the baseline's, or undefined within SPEED_NOTE_PCT. */
function speedChange(current: number, baseline: number): string | undefined {
  const pct = ((current - baseline) / baseline) * 100;
  return Math.abs(pct) < SPEED_NOTE_PCT ? undefined : `${Math.abs(pct).toFixed(0)} % ${pct > 0 ? 'slower' : 'faster'}`;
}

/** A sentence on how fast the machine ran in the two runs, when they differ enough to matter. */
function machineSpeedNote(c: Comparison['calibration']): string | undefined {
  if (!c || c.baselineMs <= 0) return undefined;
  const change = speedChange(c.currentMs, c.baselineMs);
  const loop = `calibration loop ${c.currentMs} ms against ${c.baselineMs} ms`;
  const cpu = change
    ? `The machine ran ${change} in this run than in the baseline (${loop}): CPU-bound figures can move by about that much with no change to the code.`
    : `The machine ran at the same speed in both runs (${loop}).`;
  return c.loopback ? `${cpu} ${loopbackNote(c.loopback)}` : cpu;
}

/** The loopback round trip of the two runs in words: a slower network stack moves figures the CPU loop cannot explain. */
function loopbackNote(l: { currentUs: number; baselineUs: number }): string {
  if (!(l.baselineUs > 0)) return '';
  const change = speedChange(l.currentUs, l.baselineUs);
  const times = `${l.currentUs} µs against ${l.baselineUs} µs`;
  return change
    ? `A loopback TCP round trip was ${change} (${times}): figures bound by system calls and the kernel's TCP stack can move by about that much.`
    : `A loopback TCP round trip took as long in both (${times}).`;
}

// ---------------------------------------------------------------------------
// As report blocks.

const VERDICT_TEXT: Record<Verdict, string> = { regression: 'REGRESSION', improvement: 'better', within: '' };

/** Regressions first, then improvements, each in run order. */
function movedFirst(rows: readonly ComparisonRow[]): ComparisonRow[] {
  return rows.filter((r) => r.verdict === 'regression').concat(rows.filter((r) => r.verdict === 'improvement'));
}

function tolerance(r: ComparisonRow): string {
  return `±${fmtFixed(r.tolerancePct, 1)}%${r.toleranceFrom === 'spread' ? ' (repeats)' : ''}`;
}

/** A table of compared figures; `withScenario` adds the scenario column (run-wide table). */
function comparisonTable(key: string, rows: readonly ComparisonRow[], withScenario: boolean, extra: Partial<TableBlock> = {}): TableBlock {
  // Only the verdict carries the mark; the row as a whole is styled by its key.
  const verdict = (r: ComparisonRow): Cell =>
    r.verdict === 'regression'
      ? { text: VERDICT_TEXT[r.verdict], mark: 'bad' }
      : r.verdict === 'improvement'
        ? { text: VERDICT_TEXT[r.verdict], mark: 'best' }
        : { text: '' };
  return {
    kind: 'table',
    key,
    columns: [
      ...(withScenario ? [{ label: 'scenario', text: true }] : []),
      { label: 'transport', text: true },
      { label: 'figure', text: true },
      { label: 'value' },
      { label: 'baseline' },
      { label: 'delta' },
      { label: 'tolerance' },
      { label: 'verdict', text: true },
    ],
    rows: rows.map((r) => [
      ...[...(withScenario ? [r.scenario] : []), r.transport, r.title, r.valueText, r.baselineText, fmtDeltaPct(r.deltaPct), tolerance(r)].map(
        (text): Cell => ({ text }),
      ),
      verdict(r),
    ]),
    rowKeys: rows.map((r) => `verdict-${r.verdict}`),
    ...extra,
  };
}

function stateList(key: string, changes: readonly StateChange[], withScenario: boolean): ListBlock {
  return {
    key,
    kind: 'list',
    items: changes.map((c) => ({
      level: c.to === 'errored' ? 'error' : 'info',
      label: c.to === 'errored' ? 'REGRESSION:' : 'fixed:',
      text: `${withScenario ? `${c.scenario}/` : ''}${c.transport} ${c.from} → ${c.to}${c.error ? ` (${c.error})` : ''}`,
    })),
  };
}

/** The run-wide comparison, shown before the scenarios: counts, state changes and every figure beyond tolerance. */
export function comparisonSection(cmp: Comparison, baseline: Results): Section {
  const moved = movedFirst(cmp.rows);
  const b = baseline.meta;
  const blocks: Block[] = [
    {
      kind: 'text',
      role: 'note',
      text: `Baseline started ${b.startedAt}${b.git ? ` at commit ${b.git.slice(0, 12)}` : ''}: ${cmp.regressions} regression(s) and ${cmp.improvements} improvement(s) beyond tolerance among ${cmp.rows.length} figures present in both runs. Tolerance is the repeat spread (min–max) when the runs carry one, else ±${DEFAULT_TOLERANCE_PCT}%.`,
    },
  ];
  const speed = machineSpeedNote(cmp.calibration);
  if (speed) blocks.push({ kind: 'text', role: 'note', text: speed });
  if (cmp.stateChanges.length > 0) blocks.push(stateList('baseline-states', cmp.stateChanges, true));
  if (moved.length > 0) blocks.push(comparisonTable('baseline-moved', moved, true, { title: 'Figures beyond tolerance' }));
  blocks.push({
    kind: 'text',
    role: 'note',
    text:
      cmp.rows.length === 0
        ? 'No figure is present in both runs.'
        : moved.length === 0
          ? 'No figure moved beyond its tolerance.'
          : `${cmp.rows.length - moved.length} of ${cmp.rows.length} compared figures within tolerance.`,
  });
  return { id: 'baseline', title: 'Compared with baseline', params: [], blocks };
}

/** A scenario's part of the comparison (its state changes, the figures that moved, all it compared), or undefined when it has none. */
export function scenarioComparison(cmp: Comparison, scenario: string, id: string): Section | undefined {
  const mine = cmp.rows.filter((r) => r.scenario === scenario);
  const states = cmp.stateChanges.filter((c) => c.scenario === scenario);
  if (mine.length === 0 && states.length === 0) return undefined;
  const bad = mine.filter((r) => r.verdict === 'regression').length + states.filter((c) => c.to === 'errored').length;
  const better = mine.filter((r) => r.verdict === 'improvement').length;
  const moved = movedFirst(mine);
  const blocks: Block[] = [];
  if (states.length > 0) blocks.push(stateList('compare-states', states, false));
  blocks.push(
    moved.length > 0 ? comparisonTable('compare-moved', moved, false) : { kind: 'text', role: 'note', text: 'No figure moved beyond its tolerance.' },
  );
  if (mine.length > 0) blocks.push(comparisonTable('compare-all', mine, false, { title: `All ${mine.length} compared figures`, fold: true }));
  return { id, title: `Compared with baseline: ${bad} regression(s), ${better} improvement(s), ${mine.length} figures`, params: [], blocks };
}
