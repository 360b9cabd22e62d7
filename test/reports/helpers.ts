/** Shared fixtures for the report tests. */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results } from '../../metrics/results.ts';

/** Folder holding the sample results files. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** A sample results file, parsed fresh (tests may mutate it). */
export function fixture(
  name: 'results-full.json' | 'results-baseline.json' | 'results-all-errored.json' | 'results-wrong-version.json' | 'results-real.json',
): Results {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Results;
}

/** Every scenario name the lab's report knows charts for. */
export const ALL_SCENARIOS = ['push', 'echo', 'fan-out', 'overhead', 'connections', 'throughput', 'dead-peer', 'http-saturation'] as const;

/** Scenario sections of the recorded quick run (results-real.json), in run order. */
export const REAL_SCENARIOS = [
  'push',
  'echo',
  'echo-ping-pong',
  'fan-out',
  'throughput-down',
  'throughput-up',
  'overhead',
  'connections',
  'dead-peer',
  'http-saturation',
] as const;
