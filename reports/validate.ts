/**
 * Reading a results file from disk. A results file is input from outside the
 * process, so every fixed point of DESIGN.md is checked before the reports
 * trust it; the first problem becomes a one-line ReportInputError.
 */

import { readFile } from 'node:fs/promises';
import { RESULTS_VERSION, TRANSPORTS } from '../metrics/results.ts';
import type { Results } from '../metrics/results.ts';

/** A results file the report cannot use; `message` is the one line shown to the user. */
export class ReportInputError extends Error {
  override readonly name: string = 'ReportInputError';
  /** Process exit code for this failure. */
  readonly exitCode = 2;
}

/** Wrong command-line usage of `report`; exits 2 like bad input. */
export class UsageError extends ReportInputError {
  override readonly name: string = 'UsageError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function requireFields(o: Obj, where: string, fields: Record<string, 'string' | 'number' | 'string|null'>, file: string): void {
  for (const [k, t] of Object.entries(fields)) {
    const v = o[k];
    const ok = t === 'string|null' ? v === null || typeof v === 'string' : typeof v === t && (t !== 'number' || Number.isFinite(v));
    if (!ok) throw new ReportInputError(`${file}: ${where}.${k} is ${v === undefined ? 'missing' : `not a ${t}`}`);
  }
}

const NUMERIC_BLOCKS: Record<string, readonly string[]> = {
  latencyMs: ['p50', 'p90', 'p99', 'p999', 'max', 'mean', 'count'],
  throughput: ['messagesPerSec', 'payloadBytesPerSec'],
  messages: ['sent', 'delivered', 'lost'],
  wire: ['bytesUp', 'bytesDown', 'payloadBytes', 'overheadBytesPerMessage', 'requests'],
  server: ['cpuMs', 'rssMaxBytes'],
};

/**
 * Checks that `value` is a results file of this lab's version with every
 * fixed point in place, and returns it typed. `file` names it in messages.
 */
export function validateResults(value: unknown, file = 'results'): Results {
  if (!isObj(value)) throw new ReportInputError(`${file}: not a results file (top level is not an object)`);
  const meta = value.meta;
  if (!isObj(meta)) throw new ReportInputError(`${file}: not a results file (no "meta" object)`);
  if (meta.version === undefined) throw new ReportInputError(`${file}: meta.version is missing; this report reads results version ${RESULTS_VERSION}`);
  if (meta.version !== RESULTS_VERSION) {
    throw new ReportInputError(`${file}: results version ${JSON.stringify(meta.version)}, but this report reads version ${RESULTS_VERSION}`);
  }
  requireFields(meta, 'meta', { startedAt: 'string', command: 'string', git: 'string|null', node: 'string', cpu: 'string', cores: 'number', os: 'string' }, file);
  if (!Array.isArray(value.scenarios)) throw new ReportInputError(`${file}: "scenarios" is ${value.scenarios === undefined ? 'missing' : 'not an array'}`);
  value.scenarios.forEach((s: unknown, i: number) => {
    const where = `scenarios[${i}]`;
    if (!isObj(s)) throw new ReportInputError(`${file}: ${where} is not an object`);
    if (typeof s.name !== 'string') throw new ReportInputError(`${file}: ${where}.name is missing`);
    if (!isObj(s.params)) throw new ReportInputError(`${file}: ${where}.params is missing (scenario "${s.name}")`);
    if (!Array.isArray(s.results)) throw new ReportInputError(`${file}: ${where}.results is missing (scenario "${s.name}")`);
    s.results.forEach((r: unknown, j: number) => {
      const w = `${where}.results[${j}]`;
      if (!isObj(r)) throw new ReportInputError(`${file}: ${w} is not an object`);
      if (!(TRANSPORTS as readonly unknown[]).includes(r.transport)) {
        throw new ReportInputError(`${file}: ${w}.transport is ${JSON.stringify(r.transport)}, not one of ${TRANSPORTS.join(', ')}`);
      }
      if (r.state !== 'completed' && r.state !== 'errored') throw new ReportInputError(`${file}: ${w}.state is ${JSON.stringify(r.state)}, not "completed" or "errored"`);
      if (!('error' in r) || (r.error !== null && typeof r.error !== 'string')) throw new ReportInputError(`${file}: ${w}.error is missing (null or a reason)`);
      for (const [block, keys] of Object.entries(NUMERIC_BLOCKS)) {
        if (!(block in r)) throw new ReportInputError(`${file}: ${w}.${block} is missing (null when not measured)`);
        const b = r[block];
        if (b === null) continue;
        if (!isObj(b)) throw new ReportInputError(`${file}: ${w}.${block} is not an object or null`);
        for (const k of keys) {
          if (typeof b[k] !== 'number' || !Number.isFinite(b[k])) throw new ReportInputError(`${file}: ${w}.${block}.${k} is ${b[k] === undefined ? 'missing' : 'not a finite number'}`);
        }
      }
    });
  });
  return value as unknown as Results;
}

/** Reads and validates a results file; every failure is a ReportInputError with a one-line message. */
export async function readResultsFile(path: string): Promise<Results> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ReportInputError(`cannot read ${path}: ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ReportInputError(`${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateResults(value, path);
}
