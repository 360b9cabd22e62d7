#!/usr/bin/env node
// The `transport-lab` command: the sources are TypeScript, so tsx is registered
// as a module loader first; the user never has to know it is there.
import { register } from 'tsx/esm/api';

register();
const [command, ...rest] = process.argv.slice(2);
if (command === 'report') {
  // A report reads a results file: it loads the report's modules, none of a run's (run.ts loads every command's).
  const { reportCommand } = await import('../reports/cli.ts');
  try {
    process.exitCode = await reportCommand(rest);
  } catch (e) {
    process.stderr.write(`transport-lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
} else await import('../run.ts');
