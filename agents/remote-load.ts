/**
 * The controller's side of a load process on an agent: the same requests, replies and events
 * as a local load child (runner/protocol.ts LoadCalls), carried over the run's Redis instead of
 * IPC. The controller hands the agent its share of the plan in `init` (how many clients, which
 * server URL) and gets back what a local load process returns — the latency histograms encoded,
 * so the run merges them exactly with the others (metrics/latency.ts `mergeEncoded`).
 */
import { randomUUID } from 'node:crypto';
import { type RedisClient, redisClient } from '../cluster/redis.ts';
import type { LoadCalls, LoadEvents } from '../runner/protocol.ts';
import type { LoadAgents } from '../runner/session.ts';
import { agentStream, follow, inStream, outStream, put } from './channel.ts';
import { offsetToRedis } from './clock.ts';

/** The run's load agents listening on `redisUrl` (bench --agents): each load process a session asks for opens on one of them. */
export function loadAgents(redisUrl: string, names: readonly string[]): LoadAgents {
  return { names, open: (name, label) => RemoteLoad.open(redisUrl, name, label) };
}

type Reply = { type: string; error?: string } & Record<string, unknown>;

/** A load process on an agent, spoken to as a local one is. */
export class RemoteLoad {
  private readonly waiters: { type: string; resolve: (m: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private readonly listeners = new Map<string, (m: Reply) => void>();
  private closed = false;
  private reading: Promise<void> = Promise.resolve();
  /** This (the controller's) clock against Redis's, sent with `init` so the agent can match it. */
  private controllerOffsetNs = 0n;

  private constructor(
    readonly label: string,
    private readonly id: string,
    private readonly writer: RedisClient,
    private readonly reader: RedisClient,
  ) {}

  /** Asks agent `agent` (listening on `redisUrl`) for a load process. */
  static async open(redisUrl: string, agent: string, label: string): Promise<RemoteLoad> {
    const writer = redisClient(redisUrl);
    const reader = redisClient(redisUrl);
    await Promise.all([writer.connect(), reader.connect()]);
    const r = new RemoteLoad(label, randomUUID(), writer, reader);
    r.controllerOffsetNs = (await offsetToRedis(writer)).offsetNs;
    // Reading starts before the announcement: nothing the agent says can be missed.
    r.reading = follow(
      reader,
      outStream(r.id),
      '0-0',
      (m) => r.dispatch(m as Reply),
      () => r.closed,
    ).catch((e: Error) => r.failAll(e));
    await put(writer, agentStream(agent), { load: r.id, label });
    return r;
  }

  private dispatch(m: Reply): void {
    const l = this.listeners.get(m.type);
    if (l) {
      l(m);
      return;
    }
    const i = this.waiters.findIndex((w) => w.type === m.type || m.type === 'fatal');
    if (i < 0) return;
    const [w] = this.waiters.splice(i, 1);
    clearTimeout(w!.timer);
    if (m.type === 'fatal') w!.reject(new Error(`${this.label}: ${m.error ?? 'failed'}`));
    else w!.resolve(m);
  }

  private failAll(e: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`${this.label}: ${e.message}`));
    }
  }

  /** Makes `fn` the handler of every event of a type, as `Child.handle` does (a second call replaces the first). */
  handle<K extends keyof LoadEvents & string>(type: K, fn: (m: { type: K } & LoadEvents[K]) => void): void {
    this.listeners.set(type, fn as unknown as (m: Reply) => void);
  }

  /** Sends a request and waits for its reply; `init` carries this clock's offset for the agent's correction. */
  async ask<K extends keyof LoadCalls & string>(request: { type: K } & LoadCalls[K]['req'], timeoutMs: number): Promise<{ type: K } & LoadCalls[K]['reply']> {
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for the reply to "${request.type}"`));
      }, timeoutMs);
      this.waiters.push({ type: request.type, resolve, reject, timer });
    });
    const body = request.type === 'init' ? { ...request, controllerOffsetNs: this.controllerOffsetNs } : request;
    await put(this.writer, inStream(this.id), body);
    return (await reply) as unknown as { type: K } & LoadCalls[K]['reply'];
  }

  /** Ends the remote load process and this side's connections. */
  async kill(): Promise<void> {
    if (this.closed) return;
    try {
      await put(this.writer, inStream(this.id), { type: 'exit' });
    } catch {
      /* Redis already gone: the agent ends the load when its stream read fails */
    }
    this.closed = true;
    this.failAll(new Error('closed'));
    await this.reading;
    this.writer.destroy();
    this.reader.destroy();
  }
}
