/**
 * What the push and fan-out comparisons of the engine and `ws` do not hold equal: the engine's
 * server frames a broadcast once and writes the same bytes to every subscriber, while `ws`'s API
 * has its users call `send` per subscriber, which frames the message again each time. A row that
 * pre-frames with ws's own `Sender.frame` (`ws+preframed`) shows how much of the gap that is.
 */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import type { Finding } from '../report-model/doc.ts';
import { figure } from '../report-model/figures.ts';
import { isCompleted, listInWords, num } from '../report-model/format.ts';
import { trialRange } from '../report-model/trials.ts';
import { transportByName } from '../transports/index.ts';

/** A row's figure with its trials' range: "14.2 µs" or "14.2 µs (13.1–15.0 µs, 3 trials)". */
function valueInWords(r: TransportResult, key: string): string | undefined {
  const f = figure(key);
  const range = trialRange(r, key, f.get);
  if (!range) return undefined;
  const v = (x: number) => `${f.format(x)} ${f.unit}`.trim();
  return range.trials >= 2 ? `${v(range.median)} (${v(range.min)}–${v(range.max)}, ${range.trials} trials)` : v(range.median);
}

/**
 * The note, when the engine's and the reference's rows both completed: the difference in words,
 * and, when a reference row that pre-frames ran, its figure beside the other two (server CPU per
 * message at the fixed rate when all three carry it, else per delivered message).
 */
export function broadcastFramingNote(s: ScenarioResult): Finding | undefined {
  const done = s.results.filter(isCompleted);
  const d = (r: TransportResult) => transportByName(r.transport);
  const engine = done.find((r) => d(r)?.role === 'engine');
  const reference = done.find((r) => d(r)?.role === 'reference');
  if (!engine || !reference) return undefined;
  const refName = d(reference)!.inWords;
  const text = `${s.name}: the engine's server frames a broadcast once and writes the same bytes to every subscriber; the ${refName} row frames it again for each subscriber, as ${refName}'s API has its users do by calling send per peer, so part of the gap between the two is the API, not the engine`;
  // The reference library with broadcasts pre-framed by its own encoder: a row that pre-frames and is neither engine nor reference.
  const preframed = done.find((r) => d(r)?.preframes === true && d(r)?.role === undefined && d(r)?.client.module === d(reference)?.client.module);
  if (!preframed)
    return {
      level: 'info',
      scenario: s.name,
      topic: 'cost',
      text: `${text} (add the ${refName} row that pre-frames with its own Sender.frame to the run's transports to see how much).`,
    };
  const rows = [preframed, reference, engine];
  const key = rows.every((r) => num(r.extra?.['fixedCpuUsPerMessage']) !== undefined) ? 'extra.fixedCpuUsPerMessage' : 'server.cpuUsPerMessage';
  const values = rows.map((r) => valueInWords(r, key));
  if (values.some((v) => v === undefined)) return { level: 'info', scenario: s.name, topic: 'cost', text: `${text}.` };
  const [pre, ref, eng] = values as [string, string, string];
  return {
    level: 'info',
    scenario: s.name,
    topic: 'cost',
    text: `${text}. ${figure(key).title}: ${listInWords([`${preframed.transport} (${refName}, each broadcast framed once by its own Sender.frame) ${pre}`, `${reference.transport} ${ref}`, `${engine.transport} ${eng}`])}.`,
  };
}
