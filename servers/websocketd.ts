/**
 * The `websocketd` peer row: Debian's websocketd (Go, gorilla/websocket), which runs one
 * program per connection and turns lines into messages. The program here is `cat`: every
 * message comes back as it went, the cheapest honest echo there is, and each connection's
 * memory includes its `cat`. websocketd has no shared publisher, so this row serves echo and
 * idle connections only (the registry says so; scenarios that publish give n/a).
 *
 * Measured as a program of its own: CPU and memory are websocketd's and its programs', read
 * from /proc (`processes`); socket bytes are the kernel's tcp_info of the connections open at
 * the time (metrics/tcp-info.ts). A small `sh` watchdog between this process and websocketd
 * ends websocketd when this process goes, however it goes (its stdin pipe closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { accepts, freePort } from './ports.ts';
import type { ServerCounters, ServerOptions, TransportServer } from './contract.ts';
import { withDefaults } from './base.ts';
import { Hub } from './hub.ts';
import { tcpPortBytes } from '../metrics/tcp-info.ts';
import { websocketdPath } from './peer-install.ts';

/** The program websocketd runs per connection: an echo of every line. */
const ECHO_PROGRAM = '/bin/cat';

/** Resolves once something accepts connections on host:port, or rejects after `ms`. */
async function accepting(host: string, port: number, ms: number, exited: () => string | undefined): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const why = exited();
    if (why) throw new Error(why);
    if (await accepts(port, host)) return;
    if (Date.now() > end) throw new Error(`websocketd did not accept connections on ${host}:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The pid of websocketd under the watchdog shell (its only child), once started. */
function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** websocketd running `cat` per connection, on the lab's server interface. */
export function createWebsocketdServer(options?: ServerOptions): TransportServer {
  const opts = withDefaults(options);
  const hub = new Hub(opts.history, opts.historyBytes);
  let watchdog: ChildProcess | undefined;
  let websocketd: number | undefined;
  let port = 0;
  let stderr = '';
  let exited: string | undefined;
  let seen = 0;

  function counters(): ServerCounters {
    const tcp = port ? tcpPortBytes(port) : { open: 0, bytesRead: 0, bytesWritten: 0 };
    // websocketd counts nothing itself: connections are the ones open now (and the most seen).
    seen = Math.max(seen, tcp.open);
    return {
      connections: seen,
      connectionsOpen: tcp.open,
      requests: seen,
      emptyResponses: 0,
      bytesRead: tcp.bytesRead,
      bytesWritten: tcp.bytesWritten,
      errors: 0,
      messagesIn: 0,
      subscribers: tcp.open,
      lastSeq: hub.lastSeq,
    };
  }

  return {
    transport: 'websocketd',
    hub,
    publish: (data, to) => hub.publish(data, to),
    useBackplane() {
      throw new Error('websocketd runs its own server program: it cannot run on the Redis backplane');
    },
    processes: () => {
      websocketd ??= watchdog?.pid !== undefined ? childOf(watchdog.pid) : undefined;
      return websocketd !== undefined ? [websocketd] : [];
    },
    async listen(p = 0, host = '127.0.0.1') {
      port = p || (await freePort(host));
      const args = [`--port=${port}`, `--address=${host}`, '--loglevel=error', ECHO_PROGRAM];
      // The shell starts websocketd, then waits on its stdin: when this process ends, the pipe
      // closes, `read` returns and websocketd is ended with it.
      watchdog = spawn('sh', ['-c', '"$0" "$@" & w=$!; read _ || true; kill $w 2>/dev/null; wait $w', websocketdPath(), ...args], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      watchdog.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      watchdog.once('exit', (code, signal) => {
        exited = `websocketd exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`;
      });
      watchdog.once('error', (e) => {
        exited = `websocketd could not start: ${e.message}`;
      });
      await accepting(host, port, 10_000, () => exited);
      return port;
    },
    async close() {
      const w = watchdog;
      if (!w || exited) return;
      const gone = new Promise<void>((r) => w.once('exit', () => r()));
      w.stdin?.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
      if (!exited) w.kill('SIGKILL');
    },
    counters,
  };
}
