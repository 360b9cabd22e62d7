/**
 * Which CPUs the server and the load processes run on. With two cores or
 * more the server and the load get disjoint sets, so a busy load client
 * cannot steal the server's core (and the other way round); `taskset` from
 * util-linux pins each child right after it starts, every thread included.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** The split of a run: CPU numbers per side, or why nothing was pinned. */
export type CpuPlan = { server: number[]; load: number[] } | { off: string };

/** A CPU list "1", "0-3", "0+2" as numbers; undefined when malformed. */
function cpuList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split('+')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out.length ? [...new Set(out)] : undefined;
}

/**
 * The CPU plan from `--cpus` (undefined: the default), the machine's core count and whether
 * taskset works. Throws a one-line message naming the flag for a value it cannot read.
 */
export function planCpus(flag: string | undefined, cores: number, tasksetWorks: boolean): CpuPlan {
  if (flag === 'off') return { off: '--cpus off: not pinned' };
  let plan: { server: number[]; load: number[] };
  if (flag === undefined) {
    if (cores < 2) return { off: `one core only: server and load share it` };
    // The server gets the upper half, the load the lower half (2 cores: server 1, load 0).
    const half = Math.floor(cores / 2);
    plan = { server: range(half, cores - 1), load: range(0, half - 1) };
  } else {
    const sides: Record<string, number[]> = {};
    for (const part of flag.split(',')) {
      const [side, list] = part.split('=');
      const cpus = list === undefined ? undefined : cpuList(list);
      if ((side !== 'server' && side !== 'load') || !cpus || sides[side])
        throw new Error(`--cpus: expected "off" or "server=<cpus>,load=<cpus>" (cpus like 1, 0-3 or 0+2), got "${flag}"`);
      sides[side] = cpus;
    }
    if (!sides['server'] || !sides['load']) throw new Error(`--cpus: give both sides, e.g. server=1,load=0 (got "${flag}")`);
    const bad = [...sides['server'], ...sides['load']].find((c) => c >= cores);
    if (bad !== undefined) throw new Error(`--cpus: CPU ${bad} does not exist (this machine has ${cores}: 0-${cores - 1})`);
    if (sides['server'].some((c) => sides['load']!.includes(c))) throw new Error(`--cpus: the server and load sets overlap ("${flag}")`);
    plan = { server: sides['server'], load: sides['load'] };
  }
  if (!tasksetWorks) return { off: 'taskset (util-linux) is not available: processes not pinned' };
  return plan;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The taskset arguments that pin every thread of a running process to `cpus`. */
export function tasksetArgs(cpus: readonly number[], pid: number): string[] {
  return ['-a', '-c', '-p', cpus.join(','), String(pid)];
}

/** Whether `taskset` can be run here (checked once). */
let works: boolean | undefined;
export function tasksetAvailable(): boolean {
  if (works === undefined) {
    try {
      execFileSync('taskset', ['-c', '-p', String(process.pid)], { stdio: 'ignore' });
      works = true;
    } catch {
      works = false;
    }
  }
  return works;
}

/** Pins a running process to `cpus`; returns an error message instead of throwing. */
export function pin(pid: number, cpus: readonly number[]): string | undefined {
  try {
    execFileSync('taskset', tasksetArgs(cpus, pid), { stdio: 'ignore' });
    return undefined;
  } catch (e) {
    return `taskset failed for pid ${pid}: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** The machine's logical core count. */
export function coreCount(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}
