/** The helper peer: a separate process that can stop answering pings, for the heartbeat panel. */
import type { DemoContext } from './context.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DemoError } from './page-http.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = dirname(HERE);

/** The running helper peer process, if any, and what it reports. */
export class HelperPeer {
  private peer: ChildProcess | undefined;

  constructor(private readonly ctx: DemoContext) {}

  /** Starts the peer against the page's `/peer` endpoint, killing one already running. */
  start(): void {
    const { tls, urlHost, pagePort, inspector } = this.ctx;
    this.stop();
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'peer.ts'), `${tls ? 'wss' : 'ws'}://${urlHost}:${pagePort}/peer`], {
      cwd: REPO,
      env: { ...process.env, ...(tls && { DEMO_PEER_CA: tls.cert }) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.peer = child;
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        inspector.inspect('peer', { side: 'peer', ...(JSON.parse(line) as object), at: Date.now() });
      } catch {
        // not one of its reports
      }
    });
    child.once('exit', () => {
      if (this.peer === child) this.peer = undefined;
    });
  }

  /** Tells the running peer to answer pings or to ignore them; 409 when none runs. */
  answer(answer: boolean): void {
    if (!this.peer?.stdin?.writable) throw new DemoError(409, 'the helper peer is not running');
    this.peer.stdin.write(answer ? 'answer\n' : 'ignore\n');
  }

  /** Kills the peer if it runs. */
  stop(): void {
    if (this.peer && this.peer.exitCode === null) this.peer.kill('SIGKILL');
  }
}
