/** Writes a run's results.json and its index.html side by side. */

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Results } from '../metrics/results.ts';
import { renderHtml } from './html/render.ts';
import type { HtmlOptions } from './html/render.ts';

/** Paths written by writeReport. */
export interface WrittenReport {
  jsonPath: string;
  htmlPath: string;
}

/** Creates `dir` if needed and writes `results.json` (pretty) and `index.html` into it. */
export async function writeReport(dir: string, results: Results, opts: HtmlOptions = {}): Promise<WrittenReport> {
  const abs = resolve(dir);
  await mkdir(abs, { recursive: true });
  const jsonPath = join(abs, 'results.json');
  const htmlPath = join(abs, 'index.html');
  await writeFile(jsonPath, JSON.stringify(results, null, 2) + '\n');
  await writeFile(htmlPath, renderHtml(results, opts));
  return { jsonPath, htmlPath };
}
