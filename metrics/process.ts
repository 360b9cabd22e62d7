/** CPU time and memory of the current process, sampled over a measured phase. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Samples CPU and RSS of this process from start() on. */
export class ProcessSampler {
  private startCpu = process.cpuUsage();
  private startWall = process.hrtime.bigint();
  private lastCpu = this.startCpu;
  private lastWall = this.startWall;
  private timer: NodeJS.Timeout | undefined;
  /** Largest RSS seen since start(), bytes. */
  rssMax = process.memoryUsage.rss();

  /** Begins the measured phase; samples RSS every `everyMs`. */
  start(everyMs = 100): void {
    this.startCpu = this.lastCpu = process.cpuUsage();
    this.startWall = this.lastWall = process.hrtime.bigint();
    this.rssMax = process.memoryUsage.rss();
    this.stopTimer();
    this.timer = setInterval(() => this.sampleRss(), everyMs);
    this.timer.unref();
  }

  private sampleRss(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.rssMax) this.rssMax = rss;
    return rss;
  }

  /** CPU use since the previous interval() call, percent of one core, with the RSS now. */
  interval(): { cpuPct: number; rssBytes: number } {
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const wallUs = Number(wall - this.lastWall) / 1000;
    this.lastCpu = cpu;
    this.lastWall = wall;
    return { cpuPct: wallUs > 0 ? (100 * usedUs) / wallUs : 0, rssBytes: this.sampleRss() };
  }

  /** Totals since start(): CPU ms (user + system), wall ms, CPU percent of one core, peak RSS. */
  totals(): { cpuMs: number; wallMs: number; cpuPct: number; rssMaxBytes: number } {
    const cpu = process.cpuUsage(this.startCpu);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const wallMs = Number(process.hrtime.bigint() - this.startWall) / 1e6;
    this.sampleRss();
    return { cpuMs, wallMs, cpuPct: wallMs > 0 ? (100 * cpuMs) / wallMs : 0, rssMaxBytes: this.rssMax };
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the RSS sampling. */
  stop(): void {
    this.stopTimer();
  }
}

/** The kernel's clock ticks per second and page size, asked once (they do not change while running). */
let ticksPerSec = 0;
function clockTicks(): number {
  if (!ticksPerSec) {
    try {
      ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** A process and its descendants, from /proc/<pid>/task/<tid>/children (a process gone by now is left out). */
function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    out.push(pid);
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) queue.push(Number(c));
      } catch {
        // The thread ended while being read.
      }
    }
  }
  return out;
}

/**
 * User and system CPU of one process in ms, each with that of the children it has reaped (a
 * per-connection program that exited moves there), from /proc/<pid>/stat; zeros when it is gone.
 */
export function processCpuTimes(pid: number): { userMs: number; systemMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3, the state.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const perTick = 1000 / clockTicks();
    return { userMs: (Number(f[11]) + Number(f[13])) * perTick, systemMs: (Number(f[12]) + Number(f[14])) * perTick };
  } catch {
    return { userMs: 0, systemMs: 0 };
  }
}

/** CPU of one process in ms: user + system, reaped children included (see processCpuTimes). */
function processCpuMs(pid: number): number {
  const t = processCpuTimes(pid);
  return t.userMs + t.systemMs;
}

/** A `kB` field of /proc/<pid>/status in kB, 0 when the process is gone. */
function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU and memory of a process tree at one moment. */
export interface TreeUsage {
  /** User + system CPU of every process, ms. */
  cpuMs: number;
  /** Resident memory now, summed, bytes. */
  rssBytes: number;
  /** Peak resident memory (VmHWM), summed, bytes. */
  rssPeakBytes: number;
  processes: number;
}

/** The CPU and memory of `pid` and its descendants now (a proxy's master and workers). */
export function treeUsage(pid: number): TreeUsage {
  let cpuMs = 0;
  let rss = 0;
  let peak = 0;
  const pids = processTree(pid);
  for (const p of pids) {
    cpuMs += processCpuMs(p);
    rss += statusKb(p, 'VmRSS') * 1024;
    peak += statusKb(p, 'VmHWM') * 1024;
  }
  return { cpuMs, rssBytes: rss, rssPeakBytes: peak, processes: pids.length };
}

/** Proportional set size of one process in bytes (shared pages split among the processes that map them), from smaps_rollup. */
function processPssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples CPU and memory of other processes, each with its descendants: a server that is a
 * program of its own (websocketd and the program it runs per connection). CPU adds up user and
 * system time, reaped children's included; memory is the sum of proportional set sizes, so the
 * libraries every per-connection program maps are counted once, not once per program.
 */
export class ProcessTreeSampler {
  private startCpu = 0;
  private startWall = process.hrtime.bigint();
  private lastCpu = 0;
  private lastWall = this.startWall;
  /** Largest memory seen since start(), bytes. */
  rssMax = 0;

  constructor(private readonly roots: () => number[]) {}

  /** CPU time of the processes so far (reaped children included), ms. */
  cpuMs(): number {
    let ms = 0;
    for (const root of this.roots()) for (const pid of processTree(root)) ms += processCpuMs(pid);
    return ms;
  }

  /** Memory of the processes now (proportional set size), bytes. */
  memoryBytes(): number {
    let bytes = 0;
    for (const root of this.roots()) for (const pid of processTree(root)) bytes += processPssBytes(pid);
    if (bytes > this.rssMax) this.rssMax = bytes;
    return bytes;
  }

  /** Begins the measured phase. */
  start(): void {
    this.startCpu = this.lastCpu = this.cpuMs();
    this.startWall = this.lastWall = process.hrtime.bigint();
    this.rssMax = 0;
    this.memoryBytes();
  }

  /** CPU use since the previous interval() call, percent of one core, with the memory now. */
  interval(): { cpuPct: number; rssBytes: number } {
    const cpu = this.cpuMs();
    const wall = process.hrtime.bigint();
    const wallMs = Number(wall - this.lastWall) / 1e6;
    const used = cpu - this.lastCpu;
    this.lastCpu = cpu;
    this.lastWall = wall;
    return { cpuPct: wallMs > 0 ? (100 * used) / wallMs : 0, rssBytes: this.memoryBytes() };
  }

  /** Totals since start(): CPU ms, wall ms, CPU percent of one core, peak memory. */
  totals(): { cpuMs: number; wallMs: number; cpuPct: number; rssMaxBytes: number } {
    const cpuMs = this.cpuMs() - this.startCpu;
    const wallMs = Number(process.hrtime.bigint() - this.startWall) / 1e6;
    this.memoryBytes();
    return { cpuMs, wallMs, cpuPct: wallMs > 0 ? (100 * cpuMs) / wallMs : 0, rssMaxBytes: this.rssMax };
  }
}
