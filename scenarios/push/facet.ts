/**
 * The push scenario's part of the report: the general figures are all about
 * delivery; it answers the matrix's latency and server-CPU columns at the run's load.
 */
import type { ScenarioResult } from '../../metrics/results.ts';
import type { MatrixColumn, ScenarioFacet } from '../../report-model/facet.ts';
import { figure } from '../../report-model/figures.ts';
import { loadInWords } from '../../report-model/findings.ts';
import { fmtInt, fmtSig, num } from '../../report-model/format.ts';
import { trialRange } from '../../report-model/trials.ts';
import { matrixCells } from '../facet-kit.ts';
import { broadcastFramingNote } from '../broadcast-note.ts';

function matrix(s: ScenarioResult): MatrixColumn[] {
  const where = loadInWords(s, undefined);
  const cpu = figure('server.cpuUsPerMessage');
  const fixed = figure('extra.fixedCpuUsPerMessage');
  const columns: MatrixColumn[] = [
    {
      key: 'latency',
      order: 10,
      label: 'latency p50/p99',
      question: `lowest delivery latency (p99${where ? `, ${where}` : ''})`,
      better: 'lower',
      cells: matrixCells(s, (r) => {
        const range = trialRange(r, 'latencyMs.p99', (x) => num(x.latencyMs?.p99));
        const p50 = num(r.latencyMs?.p50);
        if (!range || p50 === undefined) return undefined;
        // A p99 of short trials is one moment of the machine: its trials' range is part of the value.
        const spread = range.trials > 1 ? `, p99 ${fmtSig(range.min)}–${fmtSig(range.max)}` : '';
        return { range, text: `${fmtSig(p50)} / ${fmtSig(range.median)} ms${spread}` };
      }),
    },
    {
      key: 'cpu',
      order: 30,
      label: 'server CPU/msg',
      question: `least server CPU per delivered message (${where || 'push'})`,
      better: 'lower',
      cells: matrixCells(s, (r) => {
        const range = trialRange(r, cpu.key, cpu.get);
        return range ? { range, text: `${fmtSig(range.median)} µs` } : undefined;
      }),
    },
  ];
  // The fixed-load phase (rows that deliver by frames) is a column of its own: the same rate for every server, so the fairer cost.
  const fixedRate = s.results.map((r) => num((r.extra?.['fixedLoad'] as { ratePerSec?: unknown } | undefined)?.ratePerSec)).find((v) => v !== undefined);
  if (fixedRate !== undefined)
    columns.push({
      key: 'cpu-fixed',
      order: 31,
      label: `CPU/msg at ${fmtInt(fixedRate)}/s`,
      question: `least server CPU per message at a fixed ${fmtInt(fixedRate)} msg/s`,
      better: 'lower',
      cells: matrixCells(
        s,
        (r) => {
          const range = trialRange(r, fixed.key, fixed.get);
          return range ? { range, text: `${fmtSig(range.median)} µs` } : undefined;
        },
        'no fixed-load figure: the phase runs on the rows that deliver by frames, and counts only when the rate was sustained',
      ),
    });
  return columns;
}

/** The push facet: the load in words comes from the common parameter names; the note on what the engine and ws do not hold equal. */
export const pushFacet: ScenarioFacet = { matrix, findings: (s) => [broadcastFramingNote(s)].filter((f) => f !== undefined) };
