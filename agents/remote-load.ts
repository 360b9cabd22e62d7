/**
 * The controller's side of a load process on an agent: the same requests, replies and events
 * as a local load child (runner/protocol.ts LoadCalls), carried over the run's Redis instead of
 * IPC. The controller hands the agent its share of the plan in `init` (how many clients, which
 * server URL) and gets back what a local load process returns — the latency histograms encoded,
 * so the run merges them exactly with the others (metrics/latency.ts `mergeEncoded`).
 *
 * `init` names the client instead of carrying its module (agents/wire.ts): the transport's name
 * and the `--ws-client` choice that picks the same client from the agent's registry. Every
 * message is authenticated with the shared secret when there is one (agents/channel.ts), and
 * every reply is checked against its schema before it is believed.
 */
import { randomUUID } from 'node:crypto';
import { redisClient, type RedisClient } from '../cluster/redis.ts';
import type { LoadCalls, LoadEvents } from '../runner/protocol.ts';
import type { LoadAgents } from '../runner/session.ts';
import type { ClientModule } from '../transports/descriptor.ts';
import { loadClientFor, transport, WS_LOAD_CLIENTS, type WsLoadClient } from '../transports/index.ts';
import { agentStream, channelKey, type ChannelKey, encode, follow, inStream, openEntry, outStream, redisNowMs, StreamWriter } from './channel.ts';
import { offsetToRedis } from './clock.ts';
import { replySchema, requestSchema, type WireInit } from './wire.ts';

/** The run's load agents listening on `redisUrl` (bench --agents): each load process a session asks for opens on one of them. */
export function loadAgents(redisUrl: string, names: readonly string[], secret?: string): LoadAgents {
  return { names, open: (name, label) => RemoteLoad.open(redisUrl, name, label, secret) };
}

type Reply = { type: string; error?: string } & Record<string, unknown>;

/** How long an agent has to greet a load it was announced: it is running, on this Redis, with this secret. */
const HELLO_WITHIN_MS = 30_000;
/** The largest reply read (a `finish` with 200,000 raw samples is about 3 MB). */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

const sameClient = (a: ClientModule, b: ClientModule): boolean =>
  a.module === b.module && a.export === b.export && JSON.stringify(a.options ?? {}) === JSON.stringify(b.options ?? {});

/**
 * The `--ws-client` choice under which the agent's registry gives `client` for `name`: how a
 * client travels by name. Throws when no choice does (a client the registry does not name).
 */
function clientChoice(name: string, client: ClientModule): WsLoadClient {
  const d = transport(name);
  for (const c of WS_LOAD_CLIENTS) {
    try {
      if (sameClient(loadClientFor(d, c), client)) return c;
    } catch {
      /* no transport has that role here */
    }
  }
  throw new Error(`the load client ${client.export} of ${client.module} is none the registry gives "${name}": an agent loads only what its registry names`);
}

/** `init` as it travels to an agent: the client by name, this clock's offset for the agent's correction. */
function wireInit(req: LoadCalls['init']['req'], controllerOffsetNs: bigint): WireInit {
  const { client, clockOffsetNs: _, ...rest } = req;
  return { type: 'init', ...rest, wsClient: clientChoice(req.transport, client), controllerOffsetNs: String(controllerOffsetNs) };
}

/** A load process on an agent, spoken to as a local one is. */
export class RemoteLoad {
  private readonly waiters: { type: string; resolve: (m: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private readonly listeners = new Map<string, (m: Reply) => void>();
  private closed = false;
  private reading: Promise<void> = Promise.resolve();
  /** This (the controller's) clock against Redis's, sent with `init` so the agent can match it. */
  private controllerOffsetNs = 0n;
  private readonly requests: StreamWriter;
  private expected = 1;
  private hello: ((nonce: string) => void) | undefined;
  private refused = 0;

  private constructor(
    readonly label: string,
    private readonly id: string,
    private readonly key: ChannelKey,
    private readonly writer: RedisClient,
    private readonly reader: RedisClient,
  ) {
    this.requests = new StreamWriter(writer, inStream(id), key);
  }

  /**
   * Asks agent `agent` (listening on `redisUrl`) for a load process, authenticating every message
   * with `secret` (none: unauthenticated, which only an agent started with `--insecure` accepts).
   * Resolves once the agent has greeted it.
   */
  static async open(redisUrl: string, agent: string, label: string, secret?: string): Promise<RemoteLoad> {
    const writer = redisClient(redisUrl);
    const reader = redisClient(redisUrl);
    await Promise.all([writer.connect(), reader.connect()]);
    const r = new RemoteLoad(label, randomUUID(), channelKey(secret), writer, reader);
    r.controllerOffsetNs = (await offsetToRedis(writer)).offsetNs;
    const greeted = new Promise<string>((resolve) => {
      r.hello = resolve;
    });
    // Reading starts before the announcement: nothing the agent says can be missed.
    r.reading = follow(
      reader,
      outStream(r.id),
      '0-0',
      (e) => r.receive(e),
      () => r.closed,
    ).catch((e: Error) => r.failAll(e));
    const announce = new StreamWriter(writer, agentStream(agent), r.key);
    await announce.put({ type: 'load', load: r.id, label: label.slice(0, 200), at: await redisNowMs(writer) });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${label}: agent ${agent} did not answer within ${HELLO_WITHIN_MS / 1000} s (is it running, on this Redis, with the same secret?)`)),
        HELLO_WITHIN_MS,
      );
    });
    try {
      r.requests.context = await Promise.race([greeted, late]);
    } catch (e) {
      await r.kill();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return r;
  }

  private receive(e: { id: string; fields: Record<string, string> }): void {
    const r = openEntry(e, { stream: outStream(this.id), key: this.key, context: '', schema: replySchema, maxBytes: MAX_REPLY_BYTES, expected: this.expected });
    if (!r.ok) {
      // Someone else wrote to this load's stream: refused, said (a few times), and the load goes on.
      if (++this.refused <= 5) process.stderr.write(`${this.label}: refused entry ${e.id} from the agent's stream: ${r.why}\n`);
      return;
    }
    this.expected++;
    const m = r.message as Reply;
    if (m.type === 'hello') {
      this.hello?.(m['nonce'] as string);
      this.hello = undefined;
      return;
    }
    this.dispatch(m);
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

  /** Sends a request and waits for its reply; `init` travels with its client named (wireInit). */
  async ask<K extends keyof LoadCalls & string>(request: { type: K } & LoadCalls[K]['req'], timeoutMs: number): Promise<{ type: K } & LoadCalls[K]['reply']> {
    const body = request.type === 'init' ? wireInit(request as unknown as LoadCalls['init']['req'], this.controllerOffsetNs) : request;
    // Checked here as the agent will check it: a request it would refuse fails now, with the reason.
    const valid = requestSchema.safeParse(JSON.parse(encode(body)));
    if (!valid.success) throw new Error(`${this.label}: "${request.type}" is not a request an agent accepts: ${valid.error.issues[0]?.message ?? ''}`);
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for the reply to "${request.type}"`));
      }, timeoutMs);
      this.waiters.push({ type: request.type, resolve, reject, timer });
    });
    // The reply may come (a refusal, say) before the write's own promise settles: it is awaited below, not lost.
    reply.catch(() => {});
    await this.requests.put(body);
    return (await reply) as unknown as { type: K } & LoadCalls[K]['reply'];
  }

  /** Ends the remote load process and this side's connections. */
  async kill(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.requests.context || !this.key) await this.requests.put({ type: 'exit' });
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
