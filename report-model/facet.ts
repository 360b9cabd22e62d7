/**
 * A scenario's part in the report. Each scenario slice (`scenarios/<name>/`)
 * exports one facet beside its run code; the report builder loops over the
 * scenarios of a results file and asks each one's facet (`facetOf` in
 * scenarios/facets.ts), so `reports/` never switches on a scenario's name.
 */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { Block, Finding, Topic } from './doc.ts';
import type { TrialRange } from './trials.ts';

/** One transport's figure in a decision-matrix column: the value compared (over its trials) and its text, or why there is none. */
export type MatrixCell = { range: TrialRange; text: string } | { na: string };

/** A column of the decision matrix, contributed by the scenario that measures it. */
export interface MatrixColumn {
  /** Stable key, e.g. `latency`, `bytes-low`. */
  key: string;
  /** Place among the columns, left to right (latency 10, bytes 20, CPU 30, memory 40, liveness 50, limits 60). */
  order: number;
  label: string;
  /** The question answered, as the verdict opens ("lowest latency (p99)"). */
  question: string;
  /** Which way is better. */
  better: 'lower' | 'higher';
  /** Per transport that ran the scenario. */
  cells: Record<string, MatrixCell>;
}

/** A scenario's part in the report: every method is optional, and each reads the scenario's own figures only. */
export interface ScenarioFacet {
  /** The load in words ("50 clients, 50 msg/s, 64 B messages, for 5 s"), or undefined when the params say too little. */
  loadInWords?(s: ScenarioResult): string | undefined;
  /** One more sentence after the load (echo: how the round trips were driven), or undefined. */
  loadNote?(s: ScenarioResult): string | undefined;
  /** A row's own figure in a few words, for the summary table's "scenario figure" column ('' when it has none). */
  rowFigure?(row: TransportResult, s: ScenarioResult): string;
  /** Latency is a round trip (echo) rather than a one-way delivery. */
  roundTrip?: boolean;
  /**
   * Whether the rows' bytes per message and p99 compare side by side (the
   * run-wide findings say which transport is cheapest and fastest); false
   * when each row sits at its own rate (a ramp) or the facet says it per
   * point (a sweep). True when absent.
   */
  sideBySide?(s: ScenarioResult): boolean;
  /**
   * Whether the rows' own percentiles are a queue's (a closed loop kept full, or a ramp's edge):
   * they move widely from run to run, so the latency finding compares the fixed-rate phase's instead.
   */
  queuedLatency?(s: ScenarioResult): boolean;
  /** Words appended to the latency finding (echo ping-pong: round trips per second), or undefined. */
  latencyNote?(s: ScenarioResult): string | undefined;
  /**
   * Whether a scenario of another name carries this facet's figures (a file
   * from before a rename): the facet then reads it too.
   */
  reads?(s: ScenarioResult): boolean;
  /** Columns of the decision matrix this scenario's figures answer (the report opens on them). */
  matrix?(s: ScenarioResult): MatrixColumn[];
  /** The question this scenario's findings answer, unless a finding names its own. */
  topic?: Topic;
  /** Plain-words findings drawn from this scenario's own figures. */
  findings?(s: ScenarioResult): Finding[];
  /** Detail tables (ramps, capacities, mechanisms), shown under the summary table. */
  details?(s: ScenarioResult): Block[];
  /** Charts of this scenario's own figures, shown before the generic ones. */
  charts?(s: ScenarioResult): Block[];
}
