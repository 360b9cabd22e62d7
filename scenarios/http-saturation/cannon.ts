/**
 * The runner's side of the autocannon process (cannon-child.ts): its protocol, and the one verb
 * the scenario uses. The session starts and ends the process with the others (`Session.fork`).
 */
import type { Child } from '../../runner/child.ts';
import type { Session } from '../../runner/session.ts';

const CANNON_CHILD = import.meta.resolve('./cannon-child.ts');

/** One autocannon run against a URL. */
export interface CannonRun {
  url: string;
  connections: number;
  durationSec: number;
  headers: Record<string, string>;
}

/** What autocannon measured, and its process's CPU. */
export interface CannonResult {
  requests: number;
  durationSec: number;
  requestsPerSecAvg: number;
  latency: { p50: number; p90: number; p99: number; p999: number; mean: number; max: number; min: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  bytesRead: number;
  cpuMs: number;
  wallMs: number;
  cpuPct: number;
}

/** The autocannon child of http-saturation. */
export type CannonCalls = {
  run: { req: CannonRun; reply: CannonResult };
};

/** autocannon in a process of its own, so its CPU is its own and a client-bound run can be told apart. */
export class Cannon {
  private constructor(private readonly child: Child<CannonCalls>) {}

  /** Starts the process (it idles until its first run). */
  static async start(s: Session): Promise<Cannon> {
    return new Cannon(await s.fork<CannonCalls>('autocannon', CANNON_CHILD));
  }

  /** Runs autocannon against `run.url` for `run.durationSec`, and returns what it measured. */
  run(run: CannonRun): Promise<CannonResult> {
    return this.child.ask({ type: 'run', ...run }, run.durationSec * 1000 + 30_000);
  }
}
