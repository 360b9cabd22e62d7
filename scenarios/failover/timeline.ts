/**
 * A failover run's timeline: every half second, the clients connected and the owed messages
 * delivered per second (asked of the load processes, so a point is exact to its moment), and the
 * server's CPU and RSS from its samples (none while no server is up).
 */
import type { LoadCalls, ServerEvents } from '../../runner/protocol.ts';
import type { TimelinePoint } from './schema.ts';

/** Where the load processes' counts come from (`FailoverCalls.snapshots`). */
type LoadSnapshots = () => Promise<Pick<LoadCalls['snapshot']['reply'], 'delivered' | 'connected'>[]>;
/** Where server samples come from. */
interface SampleSource {
  handle(type: 'sample', fn: (m: { type: 'sample' } & ServerEvents['sample']) => void): void;
}

const TICK_MS = 500;
const round2 = (x: number) => Math.round(x * 100) / 100;

export class Timeline {
  readonly points: TimelinePoint[] = [];
  private t0Ns = 0n;
  private timer: NodeJS.Timeout | undefined;
  private snapshots: LoadSnapshots = async () => [];
  private lastTotal = 0;
  private lastT = 0;
  private busy = false;
  /** The newest server sample since the last point, if any; samples of a server that went are dropped. */
  private sample: { cpuPct: number; rssBytes: number } | undefined;
  private serverEpoch = 0;

  /** Starts the clock (t = 0 now) and the half-second points. */
  start(snapshots: LoadSnapshots, server: SampleSource): void {
    this.t0Ns = process.hrtime.bigint();
    this.snapshots = snapshots;
    this.watch(server);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  /** Seconds from the start to an hrtime instant. */
  secondsAt(ns: bigint): number {
    return round2(Number(ns - this.t0Ns) / 1e9);
  }

  /** The server began to go at `atNs`: its samples stop counting. */
  markDown(_atNs: bigint): void {
    this.serverEpoch++;
    this.sample = undefined;
  }

  /** A new server listens: its samples count from now. */
  markUp(_atNs: bigint, server: SampleSource): void {
    this.watch(server);
  }

  private watch(server: SampleSource): void {
    const epoch = ++this.serverEpoch;
    server.handle('sample', (m) => {
      if (epoch === this.serverEpoch) this.sample = { cpuPct: Math.round(m.cpuPct * 10) / 10, rssBytes: m.rssBytes };
    });
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = await this.snapshots();
      const t = this.secondsAt(process.hrtime.bigint());
      const total = now.reduce((a, x) => a + x.delivered, 0);
      const dt = t - this.lastT;
      this.points.push({
        t,
        connected: now.reduce((a, x) => a + (x.connected ?? 0), 0),
        deliveredPerSec: dt > 0 ? Math.round((total - this.lastTotal) / dt) : 0,
        ...(this.sample && { serverCpuPct: this.sample.cpuPct, serverRssBytes: this.sample.rssBytes }),
      });
      this.sample = undefined;
      this.lastTotal = total;
      this.lastT = t;
    } catch {
      /* a load process gone or busy past the timeout: this point is skipped, the next one spans the gap */
    } finally {
      this.busy = false;
    }
  }

  /** Ends the points. */
  stop(): void {
    clearInterval(this.timer);
  }
}
