/**
 * `tsx run.ts report <results.json> [--baseline old.json] [--format html|md|text] [--out FILE_OR_DIR]`
 *
 * Bad input (missing file, invalid JSON, another results version, a missing
 * fixed point, wrong usage) prints one line on stderr and returns 2.
 */

import { stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Results } from '../metrics/results.ts';
import { renderHtml } from './html/render.ts';
import { renderMarkdown } from './markdown.ts';
import { renderTable } from './table.ts';
import { ReportInputError, UsageError, readResultsFile } from './validate.ts';

/** One-line usage of the report command. */
const REPORT_USAGE = 'usage: report <results.json> [--baseline old.json] [--format html|md|text] [--out FILE_OR_DIR]';

type Format = 'html' | 'md' | 'text';

const DEFAULT_NAME: Record<Format, string> = { html: 'index.html', md: 'summary.md', text: 'summary.txt' };

/** Where to write: --out as a file, or a directory (existing, or ending in a slash) that gets the default name. */
async function outputPath(out: string, format: Format): Promise<string> {
  const abs = resolve(out);
  if (/[\\/]$/.test(out)) return join(abs, DEFAULT_NAME[format]);
  try {
    if ((await stat(abs)).isDirectory()) return join(abs, DEFAULT_NAME[format]);
  } catch {
    // Not there yet: a file path.
  }
  return abs;
}

async function writeOut(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (e) {
    throw new ReportInputError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const OPTIONS = {
  baseline: { type: 'string' },
  format: { type: 'string', default: 'html' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags and positionals, or a UsageError naming what is wrong. */
function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (${REPORT_USAGE})`);
  }
}

function parse(argv: string[]): { file: string; baseline?: string; format: Format; out?: string } | 'help' {
  const { values, positionals } = parseFlags(argv);
  if (values.help) return 'help';
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? `no results file given (${REPORT_USAGE})` : `one results file expected, got ${positionals.length} (${REPORT_USAGE})`,
    );
  const format = values.format;
  if (format !== 'html' && format !== 'md' && format !== 'text') throw new UsageError(`--format must be html, md or text, not "${format}"`);
  return {
    file: positionals[0]!,
    format,
    ...(values.baseline !== undefined ? { baseline: values.baseline } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
  };
}

/**
 * Runs the report command with the arguments after `report`. html: writes
 * index.html beside the results file (or to --out) and prints its path; md and
 * text: print to stdout, or write to --out and print the path. Returns the exit code.
 */
export async function reportCommand(
  argv: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void } = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
): Promise<number> {
  try {
    const args = parse(argv);
    if (args === 'help') {
      io.stdout(`${REPORT_USAGE}\n`);
      return 0;
    }
    const results = await readResultsFile(args.file);
    let baseline: Results | undefined;
    if (args.baseline !== undefined) baseline = await readResultsFile(args.baseline);
    const opts = baseline ? { baseline } : {};
    if (args.format === 'html') {
      const path = args.out !== undefined ? await outputPath(args.out, 'html') : join(dirname(resolve(args.file)), 'index.html');
      await writeOut(path, renderHtml(results, opts));
      io.stdout(`${path}\n`);
      return 0;
    }
    const text = args.format === 'md' ? renderMarkdown(results, opts) : renderTable(results, opts);
    if (args.out !== undefined) {
      const path = await outputPath(args.out, args.format);
      await writeOut(path, text);
      io.stdout(`${path}\n`);
    } else {
      io.stdout(text);
    }
    return 0;
  } catch (e) {
    if (e instanceof ReportInputError) {
      io.stderr(`report: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
