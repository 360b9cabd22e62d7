/**
 * Child processes of a run. Servers and load clients always run in their own
 * processes, started through tsx and spoken to over IPC (advanced
 * serialization, so bigints and buffers cross as they are). A child that dies
 * is reported with its exit status and the tail of its stderr.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TSX = import.meta.resolve('tsx');

/** A message over IPC: a `type` and whatever fields it carries. */
export interface Msg {
  type: string;
  [k: string]: unknown;
}

/** A failure of a child process, with what it printed last. */
export class ChildError extends Error {}

export class Child {
  readonly proc: ChildProcess;
  private stderrTail = '';
  private readonly queue: Msg[] = [];
  private readonly waiters: { type: string; resolve: (m: Msg) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private exited: string | undefined;
  /** Handlers for messages nobody waits for (progress, samples). */
  readonly listeners = new Map<string, (m: Msg) => void>();

  constructor(
    readonly label: string,
    modulePath: string,
    extraArgs: string[] = [],
    nodeFlags: string[] = [],
  ) {
    this.proc = fork(modulePath.startsWith('file:') ? fileURLToPath(modulePath) : modulePath, extraArgs, {
      execArgv: ['--import', TSX, ...nodeFlags],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
    this.proc.on('message', (m: Msg) => {
      const l = this.listeners.get(m.type);
      if (l) return l(m);
      const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'fatal');
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w!.timer);
        if (m.type === 'fatal' && w!.type !== 'fatal') w!.reject(new ChildError(`${this.label}: ${String(m['error'])}`));
        else w!.resolve(m);
      } else this.queue.push(m);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = `${this.label} process exited (${signal ?? `code ${code}`})${this.tail()}`;
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new ChildError(this.exited));
      }
    });
  }

  private tail(): string {
    const lines = this.stderrTail.trim().split('\n').filter(Boolean).slice(-6).join(' | ');
    return lines ? `; stderr: ${lines}` : '';
  }

  /** Sends a message; fails if the child is gone. */
  send(m: Msg): void {
    if (this.exited || !this.proc.connected) throw new ChildError(this.exited ?? `${this.label} process is not connected`);
    this.proc.send(m);
  }

  /** Waits for the next message of a type (a `fatal` message rejects). */
  wait(type: string, timeoutMs: number): Promise<Msg> {
    const i = this.queue.findIndex((m) => m.type === type || m.type === 'fatal');
    if (i >= 0) {
      const [m] = this.queue.splice(i, 1);
      return m!.type === 'fatal' && type !== 'fatal' ? Promise.reject(new ChildError(`${this.label}: ${String(m!['error'])}`)) : Promise.resolve(m!);
    }
    if (this.exited) return Promise.reject(new ChildError(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new ChildError(`${this.label}: timed out after ${timeoutMs} ms waiting for "${type}"${this.tail()}`));
      }, timeoutMs);
      this.waiters.push({ type, resolve, reject, timer });
    });
  }

  /** Sends a request and waits for its answer. */
  async ask(m: Msg, answer: string, timeoutMs: number): Promise<Msg> {
    const p = this.wait(answer, timeoutMs);
    this.send(m);
    return p;
  }

  /** Ends the child: a polite exit request, then SIGKILL after `graceMs`. */
  async kill(graceMs = 1500): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    try {
      if (this.proc.connected) this.proc.send({ type: 'exit' });
    } catch {
      /* already closing */
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
}

/** In a child: reports an uncaught failure to the parent as a value, then exits. */
export function installChildGuards(): void {
  const fatal = (e: unknown) => {
    const error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${e instanceof Error ? (e.stack ?? error) : error}\n`);
    if (process.connected) process.send!({ type: 'fatal', error }, () => process.exit(1));
    else process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.on('disconnect', () => process.exit(0));
}
