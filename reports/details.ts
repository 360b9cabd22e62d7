/**
 * Scenario detail tables in the shape the text back ends print: each
 * scenario's facet builds them (the throughput ramp, the dead-peer mechanism,
 * the saturation variants, …); this only flattens its table blocks.
 */

import type { ScenarioResult } from '../metrics/results.ts';
import { facetOf } from '../scenarios/index.ts';

/** A titled table with notes under it. */
interface DetailBlock {
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

/** Every detail table of a scenario, in reading order; empty when it has none. */
export function scenarioDetails(s: ScenarioResult): DetailBlock[] {
  const out: DetailBlock[] = [];
  for (const b of facetOf(s)?.details?.(s) ?? []) {
    if (b.kind !== 'table') continue;
    out.push({
      key: b.key,
      title: b.title ?? '',
      head: b.columns.map((c) => c.label),
      rows: b.rows.map((r) => r.map((c) => c.text)),
      text: b.columns.map((c) => c.text === true),
      notes: b.notes ?? [],
    });
  }
  return out;
}
