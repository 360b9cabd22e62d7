/**
 * The decision matrix: transports as rows, and as columns the few figures a
 * choice turns on, each contributed by the scenario that measures it (its
 * facet's `matrix`). In every column the best value is marked, values the
 * trial comparison cannot tell from it are ties, and a verdict says it in words.
 */
import type { Cell, Column, TableBlock } from './doc.ts';
import type { MatrixCell, MatrixColumn } from './facet.ts';
import { transportColor } from './charts.ts';
import { listInWords } from './format.ts';
import { compareTrials, type TrialRange } from './trials.ts';

/** A column with the anchor of the section whose charts show it. */
export interface PlacedColumn extends MatrixColumn {
  anchor: string;
}

/** How a column's cells are marked, and the verdict in words. */
interface ColumnMarks {
  marks: Record<string, 'best' | 'tie' | undefined>;
  verdict: string;
  /** The best was called from one trial a side: a small lead may be noise. */
  single?: boolean;
}

const hasValue = (c: MatrixCell | undefined): c is { range: TrialRange; text: string } => c !== undefined && 'range' in c;

/**
 * Marks one column: the best median is `best`; a value whose trials overlap
 * the best's (report-model/trials.ts `compareTrials`), or that equals it, is a
 * `tie`. With one trial a side there is no spread to judge by, so only equal
 * values tie and the verdict says so.
 */
function markColumn(col: MatrixColumn): ColumnMarks {
  const entries = Object.entries(col.cells).filter((e): e is [string, { range: TrialRange; text: string }] => hasValue(e[1]));
  const marks: ColumnMarks['marks'] = {};
  if (entries.length === 0) return { marks, verdict: `${col.question}: no transport has this figure` };
  const sign = col.better === 'lower' ? 1 : -1;
  const [bestName, best] = entries.reduce((a, b) => (sign * b[1].range.median < sign * a[1].range.median ? b : a));
  marks[bestName] = 'best';
  const tied: string[] = [];
  let single = false;
  let overlap = false;
  for (const [name, c] of entries) {
    if (name === bestName) continue;
    if (c.range.median === best.range.median) {
      marks[name] = 'tie';
      tied.push(name);
      continue;
    }
    const v = compareTrials(c.range, best.range, col.better);
    if (v.winner === 'single') single = true;
    else if (v.winner === 'tie') {
      marks[name] = 'tie';
      tied.push(name);
      overlap = true;
    }
  }
  if (!Number.isFinite(best.range.median)) return { marks, verdict: `${col.question}: none (${best.text})` };
  const winners = [bestName, ...tied];
  let verdict = `${col.question}: ${listInWords(winners)}`;
  if (overlap) verdict += `, no measurable difference (their trials overlap; best ${best.text})`;
  else if (tied.length > 0) verdict += ` (${best.text} each)`;
  else verdict += ` (${best.text})`;
  if (single && entries.length > winners.length) return { marks, verdict: `${verdict}, one trial each`, single: true };
  if (entries.length > winners.length) verdict += ", beyond the others' spread";
  return { marks, verdict };
}

/** The matrix as a table, or undefined when no scenario that ran contributes a column. `transports`: row order. */
export function matrixTable(columns: PlacedColumn[], transports: string[]): TableBlock | undefined {
  const cols = [...columns].sort((a, b) => a.order - b.order);
  if (cols.length === 0) return undefined;
  const rows = transports.filter((t) => cols.some((c) => c.cells[t] !== undefined));
  if (rows.length === 0) return undefined;
  const marked = cols.map(markColumn);
  const head: Column[] = [
    { label: 'transport', key: 'transport', text: true },
    ...cols.map((c) => ({ label: c.label, key: `matrix.${c.key}`, anchor: c.anchor })),
  ];
  return {
    kind: 'table',
    key: 'matrix',
    title: 'Which transport for my case?',
    columns: head,
    rows: rows.map((t) => [
      { text: t, swatch: transportColor(t) },
      ...cols.map((c, i): Cell => {
        const cell = c.cells[t];
        if (cell === undefined) return { text: 'n/a', mark: 'na', title: 'not run in this scenario' };
        if (!hasValue(cell)) return { text: 'n/a', mark: 'na', title: cell.na };
        const mark = marked[i]!.marks[t];
        return { text: cell.text, ...(mark ? { mark } : {}) };
      }),
    ]),
    rowKeys: rows,
    notes: [
      ...marked.map((m) => m.verdict),
      ...(marked.some((m) => m.single)
        ? ['A lead measured in one trial each may be noise: run with --repeat 3 to tell a lead from the spread of the trials.']
        : []),
    ],
    footnotes: true,
  };
}
