/**
 * The process groups of an exec server's programs: each program leads a group of its own, so
 * ending the group also ends whatever the program started.
 */

/** Sends `signal` to every process of the group led by `pid`; false when the group is gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The programs' process groups, from spawn until the whole group is gone: what `maxForks` counts. */
export class ProcessGroups {
  private readonly live = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  get size(): number {
    return this.live.size;
  }

  add(pid: number): void {
    this.live.add(pid);
  }

  /** Ends the process group led by `pid`: SIGTERM now, SIGKILL after the grace period if any member is left. */
  end(pid: number): void {
    if (!signalGroup(pid, 'SIGTERM')) {
      this.live.delete(pid);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      signalGroup(pid, 'SIGKILL');
      this.live.delete(pid);
    }, this.graceMs);
    t.unref();
    this.timers.add(t);
  }

  /** Kills every group at once, with no grace left to wait: the server is closing. */
  killAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const pid of this.live) signalGroup(pid, 'SIGKILL');
    this.live.clear();
  }
}
