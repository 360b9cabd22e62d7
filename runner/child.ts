/**
 * Child processes of a run. Servers and load clients always run in their own
 * processes, started from the run's bundle of child programs (runner/bundle.ts)
 * or through tsx, and spoken to over IPC (advanced serialization, so bigints and
 * buffers cross as they are). A child that dies is reported with its exit
 * status and the tail of its stderr.
 *
 * Each kind of child has a protocol (runner/protocol.ts): for every request
 * type the fields it carries and the fields of its reply, which comes back
 * under the same type; plus the events it sends unasked.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundledProgram } from './bundle.ts';

const TSX = import.meta.resolve('tsx');

/** A child protocol's calls: per request type, the request's fields and the reply's. */
export type Calls = Record<string, { req: object; reply: object }>;
/** A protocol's unasked messages: per type, its fields. */
export type Events = Record<string, object>;

/** One request of a protocol as it travels: its type and its fields. */
type RequestOf<C extends Calls> = { [K in keyof C & string]: { type: K } & C[K]['req'] }[keyof C & string];
/** The reply to a request of type K. */
type ReplyOf<C extends Calls, K extends keyof C & string> = { type: K } & C[K]['reply'];
/** One event of a protocol as it travels. */
type EventOf<E extends Events> = { [K in keyof E & string]: { type: K } & E[K] }[keyof E & string];

/** What a child sends when it fails: the runner turns it into a ChildError. */
interface Fatal {
  type: 'fatal';
  error: string;
}

/** Every message a child of this protocol may send. */
type FromChild<C extends Calls, E extends Events> = { [K in keyof C & string]: ReplyOf<C, K> }[keyof C & string] | EventOf<E> | Fatal;

/** A failure of a child process, with what it printed last. */
class ChildError extends Error {}

/** A child process spoken to by its protocol: typed requests, their replies, its events. */
export class Child<C extends Calls, E extends Events = Record<never, never>> {
  readonly proc: ChildProcess;
  private stderrTail = '';
  private readonly queue: FromChild<C, E>[] = [];
  private readonly waiters: { type: string; resolve: (m: FromChild<C, E>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private exited: string | undefined;
  /** Handlers for the events nobody waits for (progress, samples). */
  private readonly listeners = new Map<string, (m: EventOf<E>) => void>();

  constructor(
    readonly label: string,
    modulePath: string,
    nodeFlags: string[] = [],
  ) {
    // From the run's bundle when it has the program (runner/bundle.ts), else through tsx; a child
    // through tsx must not think itself bundled because its parent is.
    const bundled = modulePath.startsWith('file:') ? bundledProgram(modulePath) : undefined;
    const { LAB_CHILD_BUNDLE: _, ...env } = process.env;
    this.proc = fork(bundled?.file ?? (modulePath.startsWith('file:') ? fileURLToPath(modulePath) : modulePath), [], {
      execArgv: bundled ? nodeFlags : ['--import', TSX, ...nodeFlags],
      env: { ...env, ...bundled?.env },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
    this.proc.on('message', (m: FromChild<C, E>) => {
      const l = this.listeners.get(m.type);
      if (l) return l(m as EventOf<E>);
      const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'fatal');
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w!.timer);
        if (m.type === 'fatal') w!.reject(new ChildError(`${this.label}: ${(m as Fatal).error}`));
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

  /** Whether the process has ended. */
  get gone(): boolean {
    return this.exited !== undefined || this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /**
   * Makes `fn` the handler of every event of a type: one handler per type, so a second call
   * replaces the first (a new measured phase takes over its events). Until a type has a
   * handler, its events queue as unasked replies would.
   */
  handle<K extends keyof E & string>(type: K, fn: (m: { type: K } & E[K]) => void): void {
    this.listeners.set(type, fn as (m: EventOf<E>) => void);
  }

  /**
   * Sends over the IPC channel. A channel can break while it still reads as connected (the child
   * is on its way out): the write then fails later, with EPIPE. That failure comes to the send's
   * callback, never as an 'error' event nobody listens to, and fails every reply still awaited,
   * since none can come.
   */
  private send(m: RequestOf<C> | { type: 'exit' }): void {
    if (this.exited || !this.proc.connected) throw new ChildError(this.exited ?? `${this.label} process is not connected`);
    this.proc.send(m, undefined, {}, (e: Error | null) => {
      if (e === null) return;
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new ChildError(this.exited ?? `${this.label}: the request "${m.type}" could not be sent: ${e.message}${this.tail()}`));
      }
    });
  }

  /** The next reply of a type (a `fatal` message rejects). */
  private wait<K extends keyof C & string>(type: K, timeoutMs: number): Promise<ReplyOf<C, K>> {
    const i = this.queue.findIndex((m) => m.type === type || m.type === 'fatal');
    if (i >= 0) {
      const [m] = this.queue.splice(i, 1);
      return m!.type === 'fatal' ? Promise.reject(new ChildError(`${this.label}: ${(m as Fatal).error}`)) : Promise.resolve(m as ReplyOf<C, K>);
    }
    if (this.exited) return Promise.reject(new ChildError(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new ChildError(`${this.label}: timed out after ${timeoutMs} ms waiting for the reply to "${type}"${this.tail()}`));
      }, timeoutMs);
      this.waiters.push({ type, resolve: resolve as (m: FromChild<C, E>) => void, reject, timer });
    });
  }

  /** Sends a request and waits for its reply. */
  async ask<K extends keyof C & string>(request: { type: K } & C[K]['req'], timeoutMs: number): Promise<ReplyOf<C, K>> {
    const p = this.wait(request.type, timeoutMs);
    this.send(request as unknown as RequestOf<C>);
    return p;
  }

  /** Ends the child: a polite exit request, then SIGKILL after `graceMs`. */
  async kill(graceMs = 1500): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    try {
      if (this.proc.connected) this.send({ type: 'exit' });
    } catch {
      /* already closing */
    }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
}

/** In a child: reports an uncaught failure to the parent as a value, then exits. */
function installChildGuards(): void {
  const fatal = (e: unknown) => {
    const error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${e instanceof Error ? (e.stack ?? error) : error}\n`);
    if (process.connected) process.send!({ type: 'fatal', error } satisfies Fatal, () => process.exit(1));
    else process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.on('disconnect', () => process.exit(0));
}

/** A child's answer to each request type of its protocol. */
type Handlers<C extends Calls> = { [K in keyof C & string]: (request: { type: K } & C[K]['req']) => C[K]['reply'] | Promise<C[K]['reply']> };

/**
 * The child's side: installs the failure guards, answers each request with its handler
 * (the reply goes back under the request's type) and leaves on `exit` after `onExit`.
 * Returns the function that sends events.
 */
export function serveParent<C extends Calls, E extends Events = Record<never, never>>(
  handlers: Handlers<C>,
  onExit: () => void | Promise<void> = () => {},
): <K extends keyof E & string>(type: K, event: E[K]) => void {
  installChildGuards();
  process.on('message', async (m: RequestOf<C> | { type: 'exit' }) => {
    if (m.type === 'exit') {
      await onExit();
      process.exit(0);
    }
    const handler = handlers[m.type as keyof C & string] as (r: typeof m) => object | Promise<object>;
    const reply = await handler(m);
    process.send!({ ...reply, type: m.type });
  });
  return (type, event) => process.send!({ ...event, type });
}
