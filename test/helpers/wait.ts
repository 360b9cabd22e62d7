/**
 * Waiting in tests: on a state, with a deadline, never on a guess of how long something takes.
 * `sleep` is for pacing what a test does (a sender's rhythm), not for letting something happen.
 */
import { readFileSync } from 'node:fs';

/** Resolves after `ms`: pacing only (see the file comment). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond` holds (it may be async), polling every `everyMs`; fails naming `what` after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Resolves after `turns` full turns of the event loop, each with a poll phase: a socket that is
 * being read has had its waiting bytes read by then. For checks that something did not happen.
 */
export async function loopTurns(turns = 2): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** The kernel's queues of one TCP connection on this host, by its two ports (IPv4 and IPv6). */
export interface TcpQueues {
  /** Bytes sent and not yet acknowledged by the peer. */
  tx: number;
  /** Bytes received and not yet read by the process. */
  rx: number;
}

/** The queues of the connection from `localPort` to `remotePort`, from /proc/net/tcp{,6}; undefined when there is none. */
export function tcpQueues(localPort: number, remotePort: number): TcpQueues | undefined {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      const local = Number.parseInt(f[1]!.split(':')[1]!, 16);
      const remote = Number.parseInt(f[2]!.split(':')[1]!, 16);
      if (local !== localPort || remote !== remotePort) continue;
      const [tx, rx] = f[4]!.split(':').map((h) => Number.parseInt(h, 16));
      return { tx: tx!, rx: rx! };
    }
  }
  return undefined;
}
