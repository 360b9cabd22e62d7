/**
 * A session's server taken down and started again on the same port, as a deploy or a crash does
 * it. The server keeps its messages in a log file outside the process (`Session.serverInit.journal`),
 * so the server that comes back has the history and numbering of the one that went, as a service
 * with a durable log has; what the clients do meanwhile is theirs.
 */
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
  const { counters } = await s.server.ask({ type: 'counters' }, 10_000);
  return { downAtNs, upAtNs, lastSeq: counters.lastSeq, ...(goodbyeCut && { goodbyeCut }) };
}
