/**
 * The runner's side of dead-peer's lone client (peer-child.ts): its protocol, and the verbs the
 * scenario uses. The session starts and ends the process with the others (`Session.fork`).
 */
import type { ClientModule } from '../../transports/descriptor.ts';
import type { Child } from '../../runner/child.ts';
import type { Session } from '../../runner/session.ts';

const PEER_CHILD = import.meta.resolve('./peer-child.ts');

/** The dead-peer child: one client alone in its process, to be frozen. */
export type PeerCalls = {
  init: { req: { client: ClientModule; baseUrl: string; pollIntervalMs: number; ca?: string }; reply: { pid: number } };
};

/** One client alone in its own process, so that it can be frozen (SIGSTOP) while the server watches. */
export class Peer {
  private constructor(private readonly child: Child<PeerCalls>) {}

  /** Forks the process now, before the server starts, so that the two start up side by side. */
  static async fork(s: Session): Promise<Peer> {
    return new Peer(await s.fork<PeerCalls>('peer', PEER_CHILD));
  }

  /** Connects the peer's client to the session's server (its URL, its load client, its certificate) and subscribes. */
  async subscribe(s: Session, pollIntervalMs: number): Promise<void> {
    await this.child.ask({ type: 'init', client: s.loadClient, baseUrl: s.baseUrl, pollIntervalMs, ...(s.ca !== undefined && { ca: s.ca }) }, 30_000);
  }

  /** The process id, to send it signals. */
  get pid(): number {
    return this.child.proc.pid!;
  }

  /** Whether the process has ended. */
  get gone(): boolean {
    return this.child.gone;
  }
}
