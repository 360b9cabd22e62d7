/**
 * The runner's side of connect's client process (connect-child.ts): the verbs the scenario uses,
 * each with its timeout. The session starts and ends the process with the others (`Session.fork`).
 */
import type { Child } from '../../runner/child.ts';
import type { Session } from '../../runner/session.ts';
import type { ConnectCalls } from './connect-child.ts';

const CONNECT_CHILD = import.meta.resolve('./connect-child.ts');

/** How long past a client's own timeout the process may take to answer, ms. */
const ANSWER_GRACE_MS = 5000;

/** How the probe's clients behave: the poll interval and header profile of the run. */
export interface ProbeSpec {
  pollIntervalMs: number;
  headers: ConnectCalls['measure']['req']['headers'];
}

/** Fresh clients of the session's transport, in a process of their own on the load's CPUs. */
export class ConnectProbe {
  private constructor(
    private readonly child: Child<ConnectCalls>,
    private readonly s: Session,
    private readonly spec: ProbeSpec,
  ) {}

  /** Starts the process; its clients reach the session's server (its URL, load client and certificate). */
  static async start(s: Session, spec: ProbeSpec): Promise<ConnectProbe> {
    return new ConnectProbe(await s.fork<ConnectCalls>('connect', CONNECT_CHILD), s, spec);
  }

  private where() {
    const s = this.s;
    return { client: s.loadClient, baseUrl: s.baseUrl, ...this.spec, ...(s.ca !== undefined && { ca: s.ca }) };
  }

  /** Times `count` fresh clients one after another; a client without a message within `timeoutMs` is an error, not a time. */
  measure(count: number, timeoutMs: number): Promise<ConnectCalls['measure']['reply']> {
    // Each client may take its whole timeout, plus a second to close; the process a little more to answer.
    return this.child.ask({ type: 'measure', ...this.where(), count, timeoutMs }, count * (timeoutMs + 1000) + 2 * ANSWER_GRACE_MS);
  }

  /** Starts one client and keeps it, once its first message has come. */
  async hold(timeoutMs: number): Promise<void> {
    await this.child.ask({ type: 'hold', ...this.where(), timeoutMs }, timeoutMs + ANSWER_GRACE_MS);
  }

  /** The held client's wait from `afterNs` (monotonic) to its first message sent after it, ms. */
  next(afterNs: number, timeoutMs: number): Promise<ConnectCalls['next']['reply']> {
    return this.child.ask({ type: 'next', afterNs, timeoutMs }, timeoutMs + ANSWER_GRACE_MS);
  }
}
