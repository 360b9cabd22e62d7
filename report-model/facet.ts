/**
 * A scenario's part in the report. Each scenario slice (`scenarios/<name>/`)
 * exports one facet beside its run code; the report builder loops over the
 * scenarios of a results file and asks each one's facet (`facetOf` in
 * scenarios/index.ts), so `reports/` never switches on a scenario's name.
 */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { Block, Finding } from './doc.ts';

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
  /** Words appended to the latency finding (echo ping-pong: round trips per second), or undefined. */
  latencyNote?(s: ScenarioResult): string | undefined;
  /**
   * Whether a scenario of another name carries this facet's figures (a file
   * from before a rename): the facet then reads it too.
   */
  reads?(s: ScenarioResult): boolean;
  /** Plain-words findings drawn from this scenario's own figures. */
  findings?(s: ScenarioResult): Finding[];
  /** Detail tables (ramps, capacities, mechanisms), shown under the summary table. */
  details?(s: ScenarioResult): Block[];
  /** Charts of this scenario's own figures, shown before the generic ones. */
  charts?(s: ScenarioResult): Block[];
}
