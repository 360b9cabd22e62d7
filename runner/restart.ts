/**
 * A session's server taken down and started again on the same port, as a deploy or a crash does
 * it. The server keeps its messages in a log file outside the process (`Session.serverInit.journal`),
 * so the server that comes back has the history and numbering of the one that went, as a service
 * with a durable log has; what the clients do meanwhile is theirs.
 */
import type { LoadCalls, LoadResult, ServerCalls } from './protocol.ts';
import type { Session } from './session.ts';

/** How the server goes: `graceful` says goodbye (WebSocket close 1001, streams and held polls ended), `crash` is SIGKILL. */
export type FailoverMode = 'graceful' | 'crash';

/** The failover modes, in the order a run takes them. */
export const FAILOVER_MODES: readonly FailoverMode[] = ['crash', 'graceful'];

/** When the server went and when its successor listened (`process.hrtime.bigint()`), and the newest message it holds. */
export interface Restarted {
  downAtNs: bigint;
  upAtNs: bigint;
  lastSeq: number;
  /** Graceful only: the server had not finished its goodbye within GOODBYE_MS and was ended anyway. */
  goodbyeCut?: boolean;
}

/** How long a graceful server may take to say goodbye before it is ended anyway, ms (a deploy's drain timeout). */
const GOODBYE_MS = 15_000;

/**
 * Takes the server down (`mode`) and starts it again on its port: at once after a graceful exit,
 * `downMs` after a crash. `onDown` runs as soon as the server began to go, with that instant;
 * the session's server is the new one when this resolves.
 */
export async function restartServer(s: Session, mode: FailoverMode, downMs: number, onDown: (atNs: bigint) => Promise<void>): Promise<Restarted> {
  const old = s.server;
  let goodbyeCut = false;
  const exited = new Promise<void>((r) => {
    if (old.gone) r();
    else old.proc.once('exit', () => r());
  });
  const downAtNs = process.hrtime.bigint();
  if (mode === 'crash') {
    old.proc.kill('SIGKILL');
    await onDown(downAtNs);
    await exited;
    await new Promise((r) => setTimeout(r, downMs));
  } else {
    const closing = old.ask({ type: 'close' }, GOODBYE_MS).then(
      () => false,
      () => true,
    );
    await onDown(downAtNs);
    goodbyeCut = await closing;
    await old.kill();
  }
  s.serverInit = { ...s.serverInit, port: s.port };
  await s.startServer({ spareLoad: false });
  const upAtNs = process.hrtime.bigint();
  const counters = await s.counters();
  return { downAtNs, upAtNs, lastSeq: counters.lastSeq, ...(goodbyeCut && { goodbyeCut }) };
}

/**
 * How long a load process may take to answer during a reconnect storm, ms: with 10,000 clients
 * over two load processes, 5,000 clients reconnecting with no delay keep one busy for tens of
 * seconds.
 */
const STORM_ASK_MS = 120_000;
/** How long the nodes of a clustered server may take to fail over one by one, ms. */
const NODE_FAILOVER_MS = 180_000;
/** How long a request that does no timed work may take outside a storm, ms. */
const QUIET_ASK_MS = 10_000;

/**
 * The verbs of a failover run over a session's processes, each with the timeout that suits it:
 * the load processes are asked with a storm's patience, since they answer while their clients
 * reconnect all at once.
 */
export class FailoverCalls {
  constructor(private readonly s: Session) {}

  /** Each load process's counts so far, asked with a storm's patience, in load order. */
  snapshots(): Promise<LoadCalls['snapshot']['reply'][]> {
    return Promise.all(this.s.loads.map((l) => l.ask({ type: 'snapshot' }, STORM_ASK_MS)));
  }

  /** Tells every load process the server began to go at `atNs`: each client's next working connection is its recovery. */
  async mark(atNs: bigint): Promise<void> {
    await Promise.all(this.s.loads.map((l) => l.ask({ type: 'mark', atNs }, STORM_ASK_MS)));
  }

  /** Every load process records deliveries of messages numbered from `from` on apart from now (the after-recovery latency). */
  async tail(from: number): Promise<void> {
    await Promise.all(this.s.loads.map((l) => l.ask({ type: 'tail', from }, STORM_ASK_MS)));
  }

  /** Per load process, each client's ms from the mark to its first working connection (null: none) and the clients never cut. */
  recovery(): Promise<LoadCalls['recovery']['reply'][]> {
    return Promise.all(this.s.loads.map((l) => l.ask({ type: 'recovery' }, STORM_ASK_MS)));
  }

  /** A clustered server's nodes fail over under its balancer (`rolling` or `node-crash`); resolves with the nodes running after. */
  async nodeFailover(mode: ServerCalls['node-failover']['req']['mode']): Promise<number[]> {
    return (await this.s.server.ask({ type: 'node-failover', mode }, NODE_FAILOVER_MS)).nodePids;
  }

  /** The server that came back starts its measured phase (CPU, RSS and samples from now); the loads keep theirs. */
  async serverMeasure(): Promise<void> {
    await this.s.server.ask({ type: 'measure' }, QUIET_ASK_MS);
  }

  /** Ends every load process's phase for messages first..last, with a storm's patience: at 5,000 clients each the per-client count takes a while. */
  finish(first: number, last: number): Promise<LoadResult[]> {
    return Promise.all(this.s.loads.map((l) => l.ask({ type: 'finish', first, last }, STORM_ASK_MS / 2)));
  }
}
