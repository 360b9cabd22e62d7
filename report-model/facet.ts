/**
 * A scenario's part in the report. Each scenario slice (`scenarios/<name>/`)
 * exports one facet beside its run code; the report builder loops over the
 * scenarios of a results file and asks each one's facet, so `reports/` never
 * switches on a scenario's name.
 */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { Block, Finding } from './doc.ts';

export interface ScenarioFacet {
  /** The load in words ("50 clients, 50 msg/s, 64 B messages, for 5 s"), or undefined when the params say too little. */
  loadInWords?(s: ScenarioResult): string | undefined;
  /** A row's own figure in a few words, for the summary table's "scenario figure" column ('' when it has none). */
  rowFigure?(row: TransportResult, s: ScenarioResult): string;
  /** Latency is a round trip (echo) rather than a one-way delivery. */
  roundTrip?: boolean;
  /** Plain-words findings drawn from this scenario's figures. */
  findings?(s: ScenarioResult): Finding[];
  /** Detail tables (ramps, capacities, mechanisms), shown under the summary table. */
  details?(s: ScenarioResult): Block[];
  /** Charts of this scenario's own figures, shown before the generic ones. */
  charts?(s: ScenarioResult): Block[];
}
