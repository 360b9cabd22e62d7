/**
 * Reading a results file from disk. A results file is input from outside the
 * process, so it is checked against the results schema (metrics/results.ts)
 * before the reports trust it; an older version is migrated first, and the
 * first problem becomes a one-line ReportInputError naming the file and where.
 */

import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { RESULTS_VERSION, ResultsSchema, upgradeResults } from '../metrics/results.ts';
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

/** Row figures that are an object or null: a missing one is a file from something else. */
const ROW_BLOCKS = new Set(['latencyMs', 'throughput', 'messages', 'wire', 'server']);

/** `scenarios[0].results[3].wire` for a zod path. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** What a reader should know besides the place: which scenario, and what a missing field may hold. */
function hint(root: unknown, path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (path.length >= 4 && path[0] === 'scenarios' && path[2] === 'results' && path.length === 4) {
    if (typeof last === 'string' && ROW_BLOCKS.has(last)) return ' (null when not measured)';
    if (last === 'error') return ' (null or a reason)';
  }
  if (path.length === 3 && path[0] === 'scenarios' && (last === 'params' || last === 'results')) {
    const name = valueAt(root, [path[0], path[1]!, 'name']);
    if (typeof name === 'string') return ` (scenario "${name}")`;
  }
  return '';
}

const A: Record<string, string> = { number: 'a finite number', string: 'a string', boolean: 'a boolean', object: 'an object', array: 'an array' };

/** One zod issue as the one line the user sees. */
function issueLine(root: unknown, issue: z.core.$ZodIssue, file: string): string {
  const where = pathText(issue.path);
  const value = valueAt(root, issue.path);
  if (value === undefined) return `${file}: ${where} is missing${hint(root, issue.path)}`;
  if (issue.code === 'invalid_format') return `${file}: ${where} is ${JSON.stringify(value)}, ${issue.message}`;
  if (issue.code === 'invalid_value') return `${file}: ${where} is ${JSON.stringify(value)}, not one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_type') {
    const last = issue.path[issue.path.length - 1];
    const orNull = issue.path.length === 4 && typeof last === 'string' && (ROW_BLOCKS.has(last) || last === 'error') ? ' or null' : '';
    return `${file}: ${where} is not ${A[issue.expected] ?? issue.expected}${orNull}`;
  }
  return `${file}: ${where}: ${issue.message}`;
}

/**
 * Checks that `value` is a results file of this lab's version (an older one is
 * migrated in place first) with every fixed point in place, and returns it
 * typed. `file` names it in messages.
 */
export function validateResults(value: unknown, file = 'results'): Results {
  if (!isObj(value)) throw new ReportInputError(`${file}: not a results file (top level is not an object)`);
  const meta = value.meta;
  if (!isObj(meta)) throw new ReportInputError(`${file}: not a results file (no "meta" object)`);
  if (meta.version === undefined) throw new ReportInputError(`${file}: meta.version is missing; this report reads results version ${RESULTS_VERSION}`);
  upgradeResults(value);
  if (meta.version !== RESULTS_VERSION) {
    throw new ReportInputError(`${file}: results version ${JSON.stringify(meta.version)}, but this report reads version ${RESULTS_VERSION}`);
  }
  const r = ResultsSchema.safeParse(value);
  const first = r.error?.issues[0];
  if (first) throw new ReportInputError(issueLine(value, first, file));
  // The value itself, not the parse: keys the schema does not name stay for whoever reads them.
  return value as Results;
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
