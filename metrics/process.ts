/** CPU time and memory of the current process, sampled over a measured phase. */

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
