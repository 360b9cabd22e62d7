/**
 * The report as one document: what a report says, independent of how it is
 * drawn. Scenario facets and the run-wide parts build it from results.json;
 * the HTML, Markdown and terminal back ends in `reports/` only render it.
 * Every string here is plain text: back ends escape, nothing arrives as markup.
 */
import type { ChartConfiguration } from 'chart.js';

/** How a table cell is marked for the reader. */
type CellMark =
  /** The best value of its column. */
  | 'best'
  /** Within the spread of the best. */
  | 'tie'
  /** Not applicable; the reason goes in `title`. */
  | 'na'
  /** Errored, or a figure a reader must not miss. */
  | 'bad'
  /** A flag (client-bound, floor). */
  | 'flag';

/** One table cell: plain text, with an optional hover text and mark. */
export interface Cell {
  text: string;
  /** Shown on hover (HTML) or as a footnote (Markdown, terminal). */
  title?: string;
  mark?: CellMark;
  /** A transport's colour swatch before the text. */
  swatch?: string;
}

/** One column of a table. */
export interface Column {
  label: string;
  /** Stable key (a figure key such as `latencyMs.p99`), for tests and styling. */
  key?: string;
  /** Text (left-aligned) rather than a number (right-aligned). */
  text?: boolean;
  /** Anchor id of the section that shows this figure (the HTML links the head to it). */
  anchor?: string;
}

/** A table: a header row, then rows whose first cell names the row. */
export interface TableBlock {
  kind: 'table';
  /** Stable key, e.g. `summary`, `throughput-ramp`. */
  key: string;
  title?: string;
  columns: Column[];
  rows: Cell[][];
  /** Per row, an attribute for tests and styling (usually the transport). */
  rowKeys?: string[];
  /** Sentences under the table (mechanisms, reasons, labels). */
  notes?: string[];
  /** Fold the rows away (a long ramp) under the notes. */
  fold?: boolean;
  /** Text renderings (Markdown, terminal) put the hover texts of n/a cells in numbered footnotes. */
  footnotes?: boolean;
}

/** A chart, always with its numbers as a table. */
export interface ChartBlock {
  kind: 'chart';
  /** Stable kind, e.g. `latency-percentiles`, `fan-out`. */
  key: string;
  title: string;
  caption: string;
  /** chart.js configuration, data included; callbacks are added by the page script. */
  config: ChartConfiguration;
  /** x is −log10(1 − p/100); the page labels ticks as percentiles. */
  ninesX?: boolean;
  /** Spans the page's full width. */
  wide?: boolean;
  /** The numbers behind the chart. */
  table: TableBlock;
  /** More numbers behind the chart (failed steps, crossovers), each under its own title. */
  more?: TableBlock[];
}

/** A paragraph of plain text. */
export interface TextBlock {
  kind: 'text';
  /** `load`: the load in words; `empty`: nothing to chart; `note`: anything else. */
  role: 'load' | 'empty' | 'note';
  text: string;
}

/** A list of plain sentences, each with a level. */
export interface ListBlock {
  kind: 'list';
  key: string;
  items: { text: string; level: 'info' | 'warn' | 'error'; label?: string }[];
}

export type Block = TableBlock | ChartBlock | TextBlock | ListBlock;

/** The question a finding answers; findings are grouped by it under the matrix. */
export type Topic = 'latency' | 'cost' | 'bytes' | 'liveness' | 'limits';

/** One plain-words finding. `warn` and `error` are flags a reader must not miss. */
export interface Finding {
  level: 'info' | 'warn' | 'error';
  /** The scenario it comes from, if any. */
  scenario?: string;
  /** The question it answers; without one it goes under "other". */
  topic?: Topic;
  text: string;
}

/** Findings under one question, each with the anchor of the section that shows its figure. */
export interface FindingGroup {
  /** `latency`, `cost`, `bytes`, `liveness`, `limits`, or `other` (run-wide notes and flags). */
  topic: Topic | 'other';
  title: string;
  items: (Finding & { anchor?: string })[];
}

/** A scenario's part of the report. */
export interface Section {
  /** Anchor id, unique in the document. */
  id: string;
  title: string;
  /** The scenario's name, for tests and styling. */
  scenario?: string;
  /** Parameters as label/value pairs. */
  params: [string, string][];
  blocks: Block[];
  /** This scenario against the baseline, when one was given (the terminal leaves it to the run-wide comparison). */
  comparison?: Section;
}

/** The whole report. */
export interface ReportDoc {
  title: string;
  /** Environment rows: label/value. */
  environment: [string, string][];
  /** One line under the title. */
  subtitle: string;
  /** The decision matrix: transports as rows, the figures a choice turns on as columns; the report opens on it. */
  matrix?: TableBlock;
  /** Every finding, in reading order. */
  findings: Finding[];
  /** The same findings grouped by question, as the report shows them. */
  findingGroups: FindingGroup[];
  /** The run against a baseline, when one was given: before the scenarios (HTML, Markdown), after them (terminal). */
  comparison?: Section;
  sections: Section[];
  /** "How to read these figures": short sentences on latency correction, pinning, floors and resolution. */
  howToRead: string[];
  /** Transports present, with their colours, for the legend. */
  legend: { name: string; color: string }[];
}
