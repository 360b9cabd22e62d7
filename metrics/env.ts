/** The run's environment, for results.json's `meta`. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { RESULTS_VERSION, type RunMeta } from './results.ts';

/** The lab's git commit, or null outside a checkout. */
function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'], cwd: new URL('..', import.meta.url) })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      cwd: new URL('..', import.meta.url),
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** Metadata of a run that starts now. */
export function collectMeta(command: string): RunMeta {
  return {
    version: RESULTS_VERSION,
    startedAt: new Date().toISOString(),
    command,
    git: gitCommit(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryBytes: os.totalmem(),
  };
}
