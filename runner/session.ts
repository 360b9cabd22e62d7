/**
 * One transport's run inside a scenario: a server process, one or more load
 * processes, the time series they report, and clean-up whatever happens. The
 * session is the only place that starts child processes, so every one of them
 * is tracked, and a run's parameters (the WebSocket load client) reach every
 * scenario alike.
 */
import type { FixedLoadResult } from './fixed-load-result.ts';
import type { TimePoint, TransportName } from '../metrics/results.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { HeaderProfile } from '../clients/contract.ts';
import { loadClientFor, transport as describe, type WsLoadClient } from '../transports/index.ts';
import type { ClientModule, TransportDescriptor } from '../transports/descriptor.ts';
import { Child, type Calls, type Events } from './child.ts';
import { prepareChildren } from './bundle.ts';
import { NginxProcess, type ProxyTotals } from '../path/nginx-process.ts';
import { labCertificate, type RunPath, type TlsMaterial } from '../path/route.ts';
import { LinkHop } from './link.ts';
import { Agent, request } from 'undici';
import { type CpuPlan, pin } from './cpus.ts';
import type { LoadCalls, LoadEvents, LoadMode, LoadResult, ServerCalls, ServerEvents, ServerTotals } from './protocol.ts';
import type { ScheduleResult } from './schedule.ts';

const SERVER_CHILD = import.meta.resolve('./server-child.ts');
/** A clustered row's server child: the cluster primary (the balancer), which starts its own nodes. */
const CLUSTER_CHILD = import.meta.resolve('../cluster/primary-child.ts');
/** Loopback addresses clustered servers listen on besides 127.0.0.1 (each adds ~28,000 ephemeral ports of room). */
const EXTRA_LOOPBACK = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'];
/** Sessions started by this process: each clustered one gets its own keys in Redis. */
let sessionCount = 0;
const LOAD_CHILD = import.meta.resolve('./load-child.ts');

/** How long a child may take to answer a request that does no timed work (counters, a snapshot, the start of a phase). */
const ASK_MS = 10_000;
/**
 * How long past its own duration a timed run (a publishing schedule, a burst of sends) may take
 * to answer: a saturated server or load process finishes its last writes late, never this late.
 */
const RUN_GRACE_MS = 60_000;

/** What the server publishes (`Session.publish`). */
export type PublishSpec = ServerCalls['publish']['req'];
/** What every load process sends (`Session.send`). */
export type SendSpec = LoadCalls['send']['req'];
/** The load processes' sends added up. */
export type SendTotals = LoadCalls['send']['reply'];

/** How a session's load is shaped. */
interface LoadSpec {
  clients: number;
  processes: number;
  pollIntervalMs: number;
  headers: HeaderProfile;
  /** `subscribe` (default): clients owe every published message; `echo`: each owes its own echoes. */
  mode?: LoadMode;
  /** Clients connecting at once per process (default 50). */
  concurrency?: number;
  /** HTTP/2 rows: simulated pages per session (default 1, a session each). */
  streamsPerSession?: number;
}

/** The parameters of a run that every session honours, whatever its scenario. */
export interface RunParams {
  /** Which client drives the rows that deliver by frames. */
  wsClient: WsLoadClient;
  /** CPUs of the server and of the load processes (runner/cpus.ts); absent: not pinned. */
  cpus?: CpuPlan;
  /** The run's Redis (started by the lab for `--nodes`): the backplane of clustered rows, and the agents' channel. */
  redisUrl?: string;
  /** Load agents (`transport-lab agent`): load processes run on them, in turn, instead of here. */
  agents?: LoadAgents;
  /** The address the server listens on (default 127.0.0.1); agents on other hosts need one they can reach. */
  serverHost?: string;
  /** The path between clients and server: nginx in front, TLS, or a server the lab did not start. */
  path?: RunPath;
  /** `--h2c`: the `*-h2` rows in cleartext with prior knowledge (no browser does that) instead of over TLS with ALPN h2. */
  h2c?: boolean;
  /**
   * Fixed-load phases measured so far in this run (runner/fixed-load.ts), by transport, spec and
   * trial: the same phase is measured once per trial, whichever scenario asks first.
   */
  fixedLoads?: Map<string, { result: FixedLoadResult; by: string }>;
  /** The scenario being run, and its trial (from 1): what the fixed-load memo is keyed by. */
  scenario?: string;
  trial?: number;
}

/** A server child as the session speaks to it. */
type ServerChild = Child<ServerCalls, ServerEvents>;
/** A load process as the session speaks to it: a local child, or one on an agent (agents/remote-load.ts). */
export type LoadChild = Pick<Child<LoadCalls, LoadEvents>, 'ask' | 'handle' | 'kill' | 'label'>;

/**
 * Load processes on other hosts, as the run was given them (agents/remote-load.ts `loadAgents`):
 * the session asks for one per load process, the agents in turn, and speaks to it as to a local one.
 */
export interface LoadAgents {
  /** The agents' names, in the order they take load processes. */
  readonly names: readonly string[];
  /** A load process on agent `name`. */
  open(name: string, label: string): Promise<LoadChild>;
}

/**
 * Node flags of every server process the lab starts, the same for every server. V8's memory
 * reducer runs full collections 8 s after a process's last one whenever it allocates little:
 * for a server started a second before its measured window, that lands inside the window in some
 * trials and not in others, and only for the servers lean enough to qualify (the engine's; see
 * docs/ARCHITECTURE.md for what it did to the figures). A server that has run for hours meets it
 * once per natural full collection; without it, every server is measured in that steady state.
 */
const SERVER_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/**
 * The Node flags every server process of a run starts with, as `meta.serverNodeFlags` records
 * them: the lab's own, then those of `LAB_SERVER_NODE_FLAGS` (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to see where a server's time goes; NODE_OPTIONS refuses those). A
 * scenario may add its own for its servers (connections: `--expose-gc`).
 */
export function serverNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...SERVER_NODE_FLAGS, ...(env['LAB_SERVER_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean)];
}

/**
 * Every load process's own flags. A young generation of 32 MiB per semi-space: at hundreds of
 * thousands of messages a second the load's stamps and frames fill V8's default one in well under
 * a millisecond, and the scavenges it then runs took about a tenth of the load's CPU in
 * throughput-up (docs/MEASUREMENTS.md).
 */
const LOAD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/**
 * The Node flags every local load process of a run starts with, as `meta.loadNodeFlags` records
 * them: the load's own, then those of `LAB_LOAD_NODE_FLAGS` (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to see where the load's time goes; a later flag wins), so the load
 * is profiled as the servers are.
 */
export function loadNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...LOAD_NODE_FLAGS, ...(env['LAB_LOAD_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean)];
}

/** Every child of every session alive now, so an interrupted run can kill them all. */
export const liveChildren = new Set<{ kill(graceMs?: number): Promise<void> }>();

/**
 * A verb's promise that a scenario may hold while it does other things (a publish runs under a
 * whole measured phase): a failure of the process behind it is kept for the scenario's `await`,
 * not thrown as an unhandled rejection that ends the bench while the other rows are still to run.
 */
function heldOpen<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** One transport's processes in one scenario run, and their series. */
export class Session {
  server!: ServerChild;
  loads: LoadChild[] = [];
  port = 0;
  /** The registry entry of the transport measured. */
  readonly descriptor: TransportDescriptor;
  /** Samples every 500 ms: server CPU/RSS and deliveries, merged by time. */
  readonly series: TimePoint[] = [];
  private t0 = 0;
  private readonly reported = new Map<LoadChild, number>();
  private lastDelivered = 0;
  private lastT = 0;
  /**
   * A load process forked ahead of need, so that its start-up (node, the client modules)
   * overlaps the server's or the previous step's tear-down instead of following it.
   */
  private spare: Child<LoadCalls, LoadEvents> | undefined;
  /** Children besides the server and the loads (a frozen peer, autocannon), with their grace at close. */
  private readonly others: { child: Child<Calls, Events>; graceMs: number }[] = [];

  constructor(
    readonly transport: TransportName,
    readonly serverOptions: ServerOptions,
    readonly run: RunParams,
  ) {
    this.descriptor = describe(transport);
  }

  private track<C extends Calls, E extends Events>(c: Child<C, E>, side: 'server' | 'load' = 'load'): Child<C, E> {
    liveChildren.add(c);
    const plan = this.run.cpus;
    if (plan && !('off' in plan) && c.proc.pid !== undefined) {
      // Pinned right after the fork: the child has not started measuring anything yet.
      const failed = pin(c.proc.pid, plan[side]);
      if (failed) process.stderr.write(`${failed}\n`);
    }
    c.proc.once('exit', () => liveChildren.delete(c));
    return c;
  }

  /** The client module that drives this transport's server in this run. */
  get loadClient(): ClientModule {
    return loadClientFor(this.descriptor, this.run.wsClient);
  }

  /** The nginx in front of the server, when the run goes through it. */
  proxy: NginxProcess | undefined;

  /** Fields added to the server child's `init`: a fixed port (a server started again where it was) and a message log. */
  serverInit: Pick<ServerCalls['init']['req'], 'port' | 'journal'> = {};

  /** Whether the server is one the lab did not start (`--target`): no server process, no server figures. */
  get external(): boolean {
    return this.run.path?.target !== undefined;
  }

  /**
   * Starts the server process and waits for its port; with `--via nginx`, then nginx in front of
   * it. Against a `--target` there is nothing to start. A load process is forked alongside unless
   * `spareLoad` is false (a scenario whose traffic comes from a peer or autocannon).
   */
  async startServer({ nodeFlags = [], spareLoad = true }: { nodeFlags?: string[]; spareLoad?: boolean } = {}): Promise<void> {
    if (this.descriptor.httpServer === 'h2' && !this.run.h2c && !this.run.path?.tls && this.run.path?.target === undefined) this.h2Tls = await labCertificate();
    const route = this.route;
    if (route?.target !== undefined) return;
    // TLS ends at the listener the clients reach: the server's own, or nginx's when it is in front.
    const serverTls = route?.tls && !route.via ? { tls: route.tls } : {};
    await this.startServerProcess(nodeFlags, serverTls, spareLoad);
    if (route?.via) await NginxProcess.start(route, this.port, (p) => this.trackProxy(p));
    // The link sits where the load connects: in front of nginx when it is there, else of the server's addresses.
    const link = this.descriptor.link;
    if (link) {
      const upstreams = this.proxy ? [{ host: '127.0.0.1', port: this.proxy.port }] : this.hosts.map((host) => ({ host, port: this.port }));
      this.link = await LinkHop.start(link, upstreams, (c) => this.other(c, 1000));
    }
  }

  /** The emulated link in front of the server (`websocket@3g`), when the row has one. */
  link: LinkHop | undefined;

  /** Keeps nginx from its spawn on, so that `close()` ends it even when it failed to start listening. */
  private trackProxy(p: NginxProcess): void {
    this.proxy = p;
    liveChildren.add(p);
    p.proc.once('exit', () => liveChildren.delete(p));
  }

  /** The proxy's cost since the measured phase began, or undefined without a proxy. */
  proxyTotals(): ProxyTotals | undefined {
    return this.proxy?.totals();
  }

  private async startServerProcess(nodeFlags: string[], extraOptions: ServerOptions, spareLoad: boolean): Promise<void> {
    const nodes = this.descriptor.nodes;
    // Bundled once per process (and again if the registry grew), so this and later forks skip tsx.
    await prepareChildren();
    const cluster =
      nodes !== undefined
        ? { nodes, redisUrl: this.needRedis(), prefix: `lab:${process.pid}:${++sessionCount}:${this.transport}`, alsoHosts: EXTRA_LOOPBACK }
        : undefined;
    this.server = this.track(
      new Child<ServerCalls, ServerEvents>(`${this.transport} server`, cluster ? CLUSTER_CHILD : SERVER_CHILD, [...serverNodeFlags(), ...nodeFlags]),
      'server',
    );
    if (spareLoad) this.prepareLoad();
    const ready = await this.server.ask(
      {
        type: 'init',
        transport: this.transport,
        server: this.descriptor.server,
        options: { ...this.serverOptions, ...extraOptions },
        ...this.serverInit,
        ...(cluster && { cluster }),
        ...(this.run.serverHost && { host: this.run.serverHost }),
      },
      // Every node boots its server: on a busy machine eight of them take a while.
      30_000 + (nodes ?? 0) * 10_000,
    );
    this.port = ready.port;
    this.nodePids = ready.nodePids ?? [];
    this.hosts = this.run.serverHost ? [this.run.serverHost] : cluster ? ['127.0.0.1', ...EXTRA_LOOPBACK] : ['127.0.0.1'];
  }

  /** The addresses the server listens on; load processes take them in turn. */
  private hosts = ['127.0.0.1'];

  /** The node processes behind the balancer (clustered rows), in start order. */
  nodePids: number[] = [];

  private needRedis(): string {
    if (!this.run.redisUrl) throw new Error(`${this.transport} runs as nodes on a Redis backplane, and this run has no Redis (bench starts one for --nodes)`);
    return this.run.redisUrl;
  }

  /** An `*-h2` row's certificate when the run itself has none: such a row is over TLS unless `--h2c`. */
  private h2Tls: TlsMaterial | undefined;

  /** The run's path as this session takes it: an `*-h2` row adds TLS to it (see `h2Tls`). */
  private get route(): RunPath | undefined {
    return this.h2Tls ? { ...this.run.path, tls: this.h2Tls } : this.run.path;
  }

  /** The URL the clients reach: the target, nginx, or the server; https when the run is over TLS. */
  get baseUrl(): string {
    const route = this.route;
    if (route?.target !== undefined) return route.target;
    const scheme = route?.tls ? 'https' : 'http';
    if (this.link) return `${scheme}://127.0.0.1:${this.link.port}`;
    return this.proxy ? `${scheme}://127.0.0.1:${this.proxy.port}` : `${scheme}://${this.hosts[0]}:${this.port}`;
  }

  /** The URL the i-th load process connects to: a clustered server's addresses in turn, so that ephemeral ports spread. */
  private loadUrl(i: number): string {
    if (this.proxy || this.link || this.run.path?.target !== undefined) return this.baseUrl;
    return `${this.route?.tls ? 'https' : 'http'}://${this.hosts[i % this.hosts.length]}:${this.port}`;
  }

  /**
   * POSTs a message to the server's `/publish` straight, not through a proxy (its own scheme,
   * trusting the run's certificate): set-up traffic that must not depend on the hop measured.
   */
  async publishDirect(text: string): Promise<{ seq: number }> {
    const route = this.route;
    if (route?.target !== undefined) throw new Error('no publishing into a server the lab did not start (--target)');
    const tls = route?.tls !== undefined && !route.via;
    // An h2 row's server speaks HTTP/2 alone: ALPN picks it.
    const dispatcher = tls ? new Agent({ connect: { ca: route!.tls!.cert }, allowH2: this.descriptor.httpServer === 'h2' }) : undefined;
    try {
      const r = await request(`${tls ? 'https' : 'http'}://127.0.0.1:${this.port}/publish`, {
        method: 'POST',
        body: text,
        headers: { 'content-type': 'text/plain' },
        ...(dispatcher && { dispatcher }),
      });
      const body = await r.body.text();
      if (r.statusCode !== 202) throw new Error(`POST /publish answered ${r.statusCode}: ${body}`);
      return { seq: Number((JSON.parse(body) as { seq: number }).seq) };
    } finally {
      await dispatcher?.close();
    }
  }

  /** The certificate the clients must trust on this run, if it is over TLS. */
  get ca(): string | undefined {
    return this.route?.tls?.cert;
  }

  /** Server counters just before the current load connected: figures count from here, set-up included. */
  baseCounters: ServerCounters | undefined;

  /** The server's counters now. */
  async counters(timeoutMs = ASK_MS): Promise<ServerCounters> {
    if (this.external) throw new Error('a server the lab did not start (--target) has no counters to read');
    return (await this.server.ask({ type: 'counters' }, timeoutMs)).counters;
  }

  /** Figures count from now on (the next collect subtracts the server counters read here). */
  async rebase(): Promise<void> {
    if (this.external) return;
    this.baseCounters = await this.counters();
  }

  /** Starts the load processes, clients split evenly, and waits until all subscribed. */
  async startLoad(spec: LoadSpec): Promise<void> {
    await this.rebase();
    await this.addLoads(spec, (i) => `p${i}c`);
  }

  /**
   * Adds load processes for `spec.clients` more clients, split evenly over `spec.processes`;
   * `idPrefix(i)` names the clients of the i-th new process. Resolves once all subscribed.
   */
  async addLoads(spec: LoadSpec, idPrefix: (i: number) => string): Promise<void> {
    const n = Math.max(1, Math.min(spec.processes, spec.clients));
    const inits: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const share = Math.floor(spec.clients / n) + (i < spec.clients % n ? 1 : 0);
      const agents = this.run.agents?.names ?? [];
      // With agents the share goes to them in turn; each returns what a local load process would.
      const c: LoadChild = agents.length
        ? await this.remote(agents[this.loads.length % agents.length]!, `${this.transport} load #${this.loads.length + 1}`)
        : this.takeLoad();
      this.loads.push(c);
      inits.push(this.initLoad(c, this.loads.length, spec, share, idPrefix(i), n));
    }
    await Promise.all(inits);
  }

  /**
   * Adds `spec.clients` clients beside those already connected, without restarting the load: the
   * processes running take their share (a second `init`), and new ones are forked only when
   * `spec.processes` asks for more than run. Figures count from here. Resolves once all subscribed.
   */
  async growLoads(spec: LoadSpec, idPrefix: (i: number) => string): Promise<void> {
    await this.rebase();
    const have = this.loads.length;
    const k = Math.max(1, have, Math.min(spec.processes, spec.clients));
    const share = (i: number) => Math.floor(spec.clients / k) + (i < spec.clients % k ? 1 : 0);
    const inits: Promise<unknown>[] = [];
    for (let i = 0; i < have; i++) if (share(i) > 0) inits.push(this.initLoad(this.loads[i]!, i + 1, spec, share(i), idPrefix(i), k));
    let rest = 0;
    for (let i = have; i < k; i++) rest += share(i);
    if (rest > 0) inits.push(this.addLoads({ ...spec, clients: rest, processes: k - have }, (i) => idPrefix(have + i)));
    await Promise.all(inits);
  }

  /** Asks load process number `ordinal` (from 1) to connect `share` clients; `processes` connect side by side. */
  private initLoad(c: LoadChild, ordinal: number, spec: LoadSpec, share: number, idPrefix: string, processes: number): Promise<unknown> {
    return c.ask(
      {
        type: 'init',
        transport: this.transport,
        client: this.loadClient,
        // Load processes take the server's addresses in turn (one address pair has ~28,000 ephemeral ports).
        baseUrl: this.loadUrl(ordinal),
        clients: share,
        idPrefix,
        pollIntervalMs: spec.pollIntervalMs,
        headers: spec.headers,
        mode: spec.mode ?? 'subscribe',
        ...(this.ca !== undefined && { ca: this.ca }),
        ...(spec.streamsPerSession !== undefined && spec.streamsPerSession > 1 && { streamsPerSession: spec.streamsPerSession }),
        // Many processes connecting at once share about 200 handshakes in flight between them.
        ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : processes > 8 && { concurrency: Math.max(5, Math.floor(200 / processes)) }),
      },
      // The processes connect side by side to one server: the time goes with the clients of all of them.
      60_000 + Math.max(share * 50, spec.clients * 20),
    );
  }

  /** Forks the spare load process if there is none (it idles until its `init`). */
  private prepareLoad(): void {
    if (this.run.agents?.names.length) return;
    if (!this.spare || this.spare.gone) this.spare = this.track(new Child<LoadCalls, LoadEvents>(`${this.transport} load`, LOAD_CHILD, loadNodeFlags()));
  }

  /** The spare load process, or a new one. */
  private takeLoad(): Child<LoadCalls, LoadEvents> {
    const c = this.spare && !this.spare.gone ? this.spare : this.track(new Child<LoadCalls, LoadEvents>(`${this.transport} load`, LOAD_CHILD, loadNodeFlags()));
    this.spare = undefined;
    return c;
  }

  private async remote(agent: string, label: string): Promise<LoadChild> {
    const r = await this.run.agents!.open(agent, `${label} on agent ${agent}`);
    liveChildren.add(r);
    return r;
  }

  /**
   * Starts a child program of the scenario's own (`module`; `what` names it in messages, e.g.
   * autocannon), tracked like every child and ended with the session after `graceMs`.
   */
  async fork<C extends Calls>(what: string, module: string, graceMs = 500): Promise<Child<C>> {
    await prepareChildren();
    return this.other(new Child<C>(`${this.transport} ${what}`, module), graceMs);
  }

  private other<C extends Calls>(c: Child<C>, graceMs: number): Child<C> {
    this.track(c);
    this.others.push({ child: c as unknown as Child<Calls, Events>, graceMs });
    return c;
  }

  // The verbs scenarios use. Each names what the session asks of its processes and carries the
  // timeout that suits it, so no scenario speaks to a child directly or picks a timeout of its own.

  /**
   * The server publishes `rate` messages/s of `size` bytes to every subscriber for `durationMs`
   * (numbered from `firstSeq`; `plain`: unstamped, of a `payload` kind). Resolves when the
   * schedule ends, with its account (first and last number, lateness).
   */
  publish(spec: PublishSpec): Promise<ScheduleResult> {
    return heldOpen(this.server.ask({ type: 'publish', ...spec }, spec.durationMs + RUN_GRACE_MS));
  }

  /**
   * Every load process's clients send at `ratePerClient` for `durationMs` (echo mode, open loop).
   * Resolves when all have sent, with their accounts added up (numbers first..last over all).
   */
  send(spec: SendSpec): Promise<SendTotals> {
    return heldOpen(this.sendAll(spec));
  }

  private async sendAll(spec: SendSpec): Promise<SendTotals> {
    const each = await Promise.all(this.loads.map((l) => l.ask({ type: 'send', ...spec }, spec.durationMs + RUN_GRACE_MS)));
    return {
      first: Math.min(...each.map((m) => m.first)),
      last: Math.max(...each.map((m) => m.last)),
      sent: sum(each, (m) => m.sent),
      notSent: sum(each, (m) => m.notSent),
      sendErrors: sum(each, (m) => m.sendErrors),
      maxLateMs: Math.max(...each.map((m) => m.maxLateMs)),
    };
  }

  /**
   * Every load process's clients each keep `inFlight` (default 1) messages out for `durationMs`,
   * sending the next when one comes back (closed loop). Resolves with the numbers sent, over all.
   */
  pingPong(spec: { size: number; durationMs: number; inFlight?: number }): Promise<{ first: number; last: number; sent: number }> {
    return heldOpen(
      Promise.all(this.loads.map((l) => l.ask({ type: 'ping-pong', ...spec }, spec.durationMs + RUN_GRACE_MS))).then((each) => ({
        first: Math.min(...each.map((m) => m.first)),
        last: Math.max(...each.map((m) => m.last)),
        sent: sum(each, (m) => m.sent),
      })),
    );
  }

  /**
   * Waits, at most `timeoutMs`, until no open-loop send of any load process is still out;
   * resolves with how many still were when it gave up (0: settled).
   */
  async settle(timeoutMs = 1000): Promise<number> {
    const each = await Promise.all(this.loads.map((l) => l.ask({ type: 'settle', timeoutMs }, timeoutMs + ASK_MS)));
    return sum(each, (m) => m.pending);
  }

  /** Each load process's counts so far (deliveries, sends; with HTTP/2 clients their frames by type), in load order. */
  snapshots(): Promise<LoadCalls['snapshot']['reply'][]> {
    return Promise.all(this.loads.map((l) => l.ask({ type: 'snapshot' }, ASK_MS)));
  }

  /** Deliveries the load processes have counted so far, over all of them. */
  async delivered(): Promise<number> {
    return sum(await this.snapshots(), (m) => m.delivered);
  }

  /** The server's counters with its memory (RSS, V8 heap in use) and CPU time now. */
  async usage(): Promise<{ counters: ServerCounters; rssBytes: number; heapUsedBytes: number; cpuMs: number }> {
    const { counters, rssBytes, heapUsedBytes, cpuMs } = await this.server.ask({ type: 'counters' }, ASK_MS);
    return { counters, rssBytes, heapUsedBytes, cpuMs };
  }

  /** A full garbage collection in the server; false when it was not started with --expose-gc. */
  async collectGarbage(): Promise<boolean> {
    return (await this.server.ask({ type: 'gc' }, ASK_MS)).exposed;
  }

  /** Ends the server's measured phase: its CPU, memory and counters over the phase (a cluster's summed over its nodes). */
  totals(): Promise<ServerTotals> {
    // A clustered server adds up every node's before it answers.
    return this.server.ask({ type: 'totals' }, 60_000);
  }

  /** Ends every load process's measured phase: each one's figures for messages numbered first..last, in load order. */
  finish(first: number, last: number): Promise<LoadResult[]> {
    return Promise.all(this.loads.map((l) => l.ask({ type: 'finish', first, last }, 30_000)));
  }

  /**
   * Tells every load process, before traffic starts, which message is the first counted, so
   * that one arriving before `measure(fromSeq)` reaches the process is not forgotten by it.
   */
  async arm(fromSeq: number): Promise<void> {
    await Promise.all(this.loads.map((l) => l.ask({ type: 'arm', fromSeq }, ASK_MS)));
  }

  /**
   * Begins the measured phase in every process and starts collecting the series; messages
   * numbered from `tailFrom` on are also recorded apart (the row's `extra.endLatencyMs`). With
   * `onSample`, the server's samples go to it instead of the session's series.
   */
  async measure(fromSeq = 1, tailFrom?: number, onSample?: (m: ServerEvents['sample']) => void): Promise<void> {
    this.t0 = performance.now();
    this.lastT = 0;
    this.proxy?.markMeasure();
    await this.link?.mark();
    this.server?.handle(
      'sample',
      onSample ??
        ((m) => {
          const t = (performance.now() - this.t0) / 1000;
          this.point(t).serverCpuPct = round1(m.cpuPct);
          this.point(t).serverRssBytes = m.rssBytes;
        }),
    );
    for (const l of this.loads) {
      this.reported.set(l, 0);
      l.handle('progress', (m) => {
        this.reported.set(l, m.delivered);
        this.onProgress();
      });
    }
    await Promise.all([
      ...(this.server ? [this.server.ask({ type: 'measure' }, ASK_MS)] : []),
      ...this.loads.map((l) => l.ask({ type: 'measure', fromSeq, ...(tailFrom !== undefined && { tailFrom }) }, ASK_MS)),
    ]);
  }

  private onProgress(): void {
    const t = (performance.now() - this.t0) / 1000;
    const total = this.totalDelivered();
    if (t - this.lastT >= 0.4) {
      this.point(t).deliveredPerSec = Math.round((total - this.lastDelivered) / (t - this.lastT));
      this.lastDelivered = total;
      this.lastT = t;
    }
  }

  /** Deliveries counted by the load processes' latest progress reports. */
  private totalDelivered(): number {
    let n = 0;
    for (const v of this.reported.values()) n += v;
    return n;
  }

  /** The series point for time t, rounded to half a second. */
  private point(t: number): TimePoint {
    const key = Math.round(t * 2) / 2;
    let p = this.series.find((x) => x.t === key);
    if (!p) {
      p = { t: key };
      this.series.push(p);
      this.series.sort((a, b) => a.t - b.t);
    }
    return p;
  }

  /** Ends the load processes (the server keeps running, for a next step). */
  async stopLoad(): Promise<void> {
    await Promise.all(this.loads.map((l) => l.kill()));
    this.loads = [];
    // A step usually follows: its load process starts now, while nothing is measured.
    this.prepareLoad();
    this.reported.clear();
    this.series.length = 0;
    this.lastDelivered = 0;
  }

  /**
   * Waits until the load processes hold `target` deliveries, or `ms` pass, or (with `stillMs`)
   * no delivery has come for that long: what a server dropped never arrives. It asks them
   * directly rather than waiting for their half-second progress reports, which would add up to
   * half a second to every step that has already drained.
   */
  async drain(target: number, ms: number, signal?: AbortSignal, stillMs?: number): Promise<void> {
    const end = Date.now() + ms;
    let seen = -1;
    let since = Date.now();
    while (Date.now() < end && !signal?.aborted) {
      const got = await this.delivered();
      if (got >= target) return;
      if (got !== seen) {
        seen = got;
        since = Date.now();
      } else if (stillMs !== undefined && Date.now() - since >= stillMs) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Kills every process of the session. */
  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = undefined;
    await Promise.all([
      this.proxy?.kill(),
      this.server?.kill(),
      spare?.kill(0),
      ...this.loads.map((l) => l.kill()),
      ...this.others.map((o) => o.child.kill(o.graceMs)),
    ]);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
