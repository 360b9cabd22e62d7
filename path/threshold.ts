/**
 * `--threshold` conditions, k6-style: evaluated on the results after the run, each broken one
 * a line of reason and a non-zero exit code, so a run can gate a CI pipeline. The grammar is
 * small on purpose:
 *
 *   condition := [scenario ":"] metric op number [unit]
 *   metric    := p50 | p90 | p99 | p999 | max | mean      latency, ms (units ms or s)
 *              | loss                                    lost / owed, % (unit %, or a fraction)
 *              | msgs/s                                  delivered messages per second
 *              | errors                                  errored rows + client errors
 *   op        := < | <= | > | >= | ==
 *
 * A condition without a scenario applies to every completed row of every scenario that has the
 * metric; with one, to that scenario's rows only. Conditions are comma-separated or the flag
 * is repeated.
 */
import type { Results, TransportResult } from '../metrics/results.ts';

const METRICS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean', 'loss', 'msgs/s', 'errors'] as const;
type Metric = (typeof METRICS)[number];
const OPS = ['<=', '>=', '==', '<', '>'] as const;
type Op = (typeof OPS)[number];

/** One parsed condition. */
export interface Threshold {
  /** As typed, for the reasons printed. */
  text: string;
  /** The scenario it applies to; absent: every scenario. */
  scenario?: string;
  metric: Metric;
  op: Op;
  /** The bound in the metric's own unit (ms, %, msg/s, count). */
  value: number;
}

/** A broken condition on one row: the one-line reason. */
export interface Breach {
  threshold: string;
  scenario: string;
  transport: string;
  /** The value measured, in the metric's unit. */
  actual: number;
  reason: string;
}

/** Parses one condition; throws an Error with a one-line message on bad syntax. */
function parseOne(raw: string, scenarios: readonly string[]): Threshold {
  const text = raw.trim();
  const m = /^(?:([\w-]+):)?\s*([a-z0-9/]+)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%)?$/i.exec(text);
  if (!m) throw new Error(`--threshold: cannot read "${text}" (form: [scenario:]metric<value[unit], e.g. p99<50ms, echo:loss<=0.1%, msgs/s>1000)`);
  const [, scenario, metricRaw, op, num, unit] = m;
  const metric = metricRaw!.toLowerCase() as Metric;
  if (!METRICS.includes(metric)) throw new Error(`--threshold: unknown metric "${metricRaw}" in "${text}" (known: ${METRICS.join(', ')})`);
  if (scenario !== undefined && !scenarios.includes(scenario))
    throw new Error(`--threshold: unknown scenario "${scenario}" in "${text}" (known: ${scenarios.join(', ')})`);
  let value = Number(num);
  const latency = !['loss', 'msgs/s', 'errors'].includes(metric);
  if (latency) {
    if (unit === '%') throw new Error(`--threshold: "${text}": a latency takes ms or s, not %`);
    if (unit === 's') value *= 1000;
  } else if (metric === 'loss') {
    if (unit === 'ms' || unit === 's') throw new Error(`--threshold: "${text}": loss takes % or a fraction`);
    if (unit === undefined) value *= 100;
  } else if (unit !== undefined) throw new Error(`--threshold: "${text}": ${metric} takes no unit`);
  return { text, ...(scenario !== undefined && { scenario }), metric, op: op as Op, value };
}

/** Parses every `--threshold` value (each may hold comma-separated conditions). */
export function parseThresholds(values: readonly string[], scenarios: readonly string[]): Threshold[] {
  return values.flatMap((v) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => parseOne(x, scenarios)),
  );
}

/** The metric on a row, or undefined when the row does not have it. */
function metricOf(row: TransportResult, metric: Metric): number | undefined {
  switch (metric) {
    case 'loss': {
      const m = row.messages;
      return m && m.sent > 0 ? (m.lost / m.sent) * 100 : undefined;
    }
    case 'msgs/s':
      return row.throughput?.messagesPerSec;
    case 'errors': {
      const clientErrors = row.extra?.['clientErrors'];
      return (row.state === 'errored' ? 1 : 0) + (Array.isArray(clientErrors) ? clientErrors.length : 0);
    }
    default:
      return row.latencyMs?.[metric];
  }
}

function holds(actual: number, op: Op, bound: number): boolean {
  switch (op) {
    case '<':
      return actual < bound;
    case '<=':
      return actual <= bound;
    case '>':
      return actual > bound;
    case '>=':
      return actual >= bound;
    case '==':
      return actual === bound;
  }
}

const unitOf = (m: Metric): string => (m === 'loss' ? '%' : m === 'msgs/s' ? ' msg/s' : m === 'errors' ? '' : ' ms');

/**
 * The broken conditions, one per condition × row. A row without the metric is not judged,
 * except `errors`, which every row has (an errored row counts one).
 */
export function evaluateThresholds(thresholds: readonly Threshold[], results: Results): Breach[] {
  const out: Breach[] = [];
  for (const t of thresholds)
    for (const sc of results.scenarios) {
      if (t.scenario !== undefined && sc.name !== t.scenario) continue;
      for (const row of sc.results) {
        if (row.state === 'n/a') continue;
        const actual = metricOf(row, t.metric);
        if (actual === undefined) continue;
        if (holds(actual, t.op, t.value)) continue;
        const shown = Math.round(actual * 100) / 100;
        out.push({
          threshold: t.text,
          scenario: sc.name,
          transport: row.transport,
          actual: shown,
          reason: `threshold ${t.text} broken: ${sc.name} × ${row.transport} has ${t.metric} = ${shown}${unitOf(t.metric)}`,
        });
      }
    }
  return out;
}
