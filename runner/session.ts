/**
 * One transport's run inside a scenario: a server process, one or more load
 * processes, the time series they report, and clean-up whatever happens. The
 * session is the only place that starts child processes, so every one of them
 * is tracked, and a run's parameters (the WebSocket load client) reach every
 * scenario alike.
 */
import type { TimePoint, TransportName } from '../metrics/results.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { HeaderProfile } from '../clients/contract.ts';
import { loadClientFor, transport as describe, type WsLoadClient } from '../transports/index.ts';
import type { ClientModule, TransportDescriptor } from '../transports/descriptor.ts';
import { Child, type Calls, type Events } from './child.ts';
import { type CpuPlan, pin } from './cpus.ts';
import type { CannonCalls, LoadCalls, LoadEvents, LoadMode, PeerCalls, ServerCalls, ServerEvents } from './protocol.ts';

const SERVER_CHILD = import.meta.resolve('./server-child.ts');
/** A clustered row's server child: the cluster primary (the balancer), which starts its own nodes. */
const CLUSTER_CHILD = import.meta.resolve('../cluster/primary-child.ts');
/** Loopback addresses clustered servers listen on besides 127.0.0.1 (each adds ~28,000 ephemeral ports of room). */
const EXTRA_LOOPBACK = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'];
/** Sessions started by this process: each clustered one gets its own keys in Redis. */
let sessionCount = 0;
const LOAD_CHILD = import.meta.resolve('./load-child.ts');

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
}

/** The parameters of a run that every session honours, whatever its scenario. */
export interface RunParams {
  /** Which client drives the rows that deliver by frames. */
  wsClient: WsLoadClient;
  /** CPUs of the server and of the load processes (runner/cpus.ts); absent: not pinned. */
  cpus?: CpuPlan;
  /** The run's Redis (started by the lab for `--nodes`): the backplane of clustered rows, and the agents' channel. */
  redisUrl?: string;
  /** Load agents (`transport-lab agent`) listening on `redisUrl`: load processes run on them, in turn, instead of here. */
  agents?: string[];
  /** The address the server listens on (default 127.0.0.1); agents on other hosts need one they can reach. */
  serverHost?: string;
}

/** A server child as the session speaks to it. */
type ServerChild = Child<ServerCalls, ServerEvents>;
/** A load process as the session speaks to it: a local child, or one on an agent (agents/remote-load.ts). */
type LoadChild = Pick<Child<LoadCalls, LoadEvents>, 'ask' | 'on' | 'kill' | 'label'>;

/** Every child of every session alive now, so an interrupted run can kill them all. */
export const liveChildren = new Set<{ kill(graceMs?: number): Promise<void> }>();

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
  private readonly delivered = new Map<LoadChild, number>();
  private lastDelivered = 0;
  private lastT = 0;
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

  /** Starts the server process and waits for its port. */
  async startServer(nodeFlags: string[] = []): Promise<void> {
    // LAB_SERVER_NODE_FLAGS adds node flags to every server process, e.g. "--cpu-prof
    // --cpu-prof-dir=/tmp/prof" to see where a server's time goes (NODE_OPTIONS refuses those).
    const extra = (process.env['LAB_SERVER_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
    const nodes = this.descriptor.nodes;
    const cluster =
      nodes !== undefined
        ? { nodes, redisUrl: this.needRedis(), prefix: `lab:${process.pid}:${++sessionCount}:${this.transport}`, alsoHosts: EXTRA_LOOPBACK }
        : undefined;
    this.server = this.track(
      new Child<ServerCalls, ServerEvents>(`${this.transport} server`, cluster ? CLUSTER_CHILD : SERVER_CHILD, [...nodeFlags, ...extra]),
      'server',
    );
    const ready = await this.server.ask(
      {
        type: 'init',
        transport: this.transport,
        server: this.descriptor.server,
        options: this.serverOptions,
        ...(cluster && { cluster }),
        ...(this.run.serverHost && { host: this.run.serverHost }),
      },
      // Every node boots through tsx: on a busy machine eight of them take a while.
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

  get baseUrl(): string {
    return `http://${this.hosts[0]}:${this.port}`;
  }

  /** Server counters just before the current load connected: figures count from here, set-up included. */
  baseCounters: ServerCounters | undefined;

  /** The server's counters now. */
  async counters(timeoutMs = 10_000): Promise<ServerCounters> {
    return (await this.server.ask({ type: 'counters' }, timeoutMs)).counters;
  }

  /** Figures count from now on (the next collect subtracts the server counters read here). */
  async rebase(): Promise<void> {
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
    const client = this.loadClient;
    const inits: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const share = Math.floor(spec.clients / n) + (i < spec.clients % n ? 1 : 0);
      const label = `${this.transport} load #${this.loads.length + 1}`;
      const agents = this.run.agents ?? [];
      // With agents the share goes to them in turn; each returns what a local load process would.
      const c: LoadChild = agents.length
        ? await this.remote(agents[this.loads.length % agents.length]!, label)
        : this.track(new Child<LoadCalls, LoadEvents>(label, LOAD_CHILD));
      this.loads.push(c);
      inits.push(
        c.ask(
          {
            type: 'init',
            transport: this.transport,
            client,
            // Load processes take the server's addresses in turn (one address pair has ~28,000 ephemeral ports).
            baseUrl: `http://${this.hosts[this.loads.length % this.hosts.length]}:${this.port}`,
            clients: share,
            idPrefix: idPrefix(i),
            pollIntervalMs: spec.pollIntervalMs,
            headers: spec.headers,
            mode: spec.mode ?? 'subscribe',
            // Many processes connecting at once share about 200 handshakes in flight between them.
            ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : n > 8 && { concurrency: Math.max(5, Math.floor(200 / n)) }),
          },
          // The processes connect side by side to one server: the time goes with the clients of all of them.
          60_000 + Math.max(share * 50, spec.clients * 20),
        ),
      );
    }
    await Promise.all(inits);
  }

  private async remote(agent: string, label: string): Promise<LoadChild> {
    const { RemoteLoad } = await import('../agents/remote-load.ts');
    const r = await RemoteLoad.open(this.needRedis(), agent, `${label} on agent ${agent}`);
    liveChildren.add(r);
    return r;
  }

  /** Starts one client alone in its own process (`module`: the peer program), subscribed to the server. */
  async startPeer(module: string, pollIntervalMs: number): Promise<Child<PeerCalls>> {
    const peer = this.other(new Child<PeerCalls>(`${this.transport} peer`, module), 500);
    await peer.ask({ type: 'init', client: this.loadClient, baseUrl: this.baseUrl, pollIntervalMs }, 30_000);
    return peer;
  }

  /** Starts the autocannon process (`module`: its program). */
  startCannon(module: string): Child<CannonCalls> {
    return this.other(new Child<CannonCalls>(`${this.transport} autocannon`, module), 500);
  }

  private other<C extends Calls>(c: Child<C>, graceMs: number): Child<C> {
    this.track(c);
    this.others.push({ child: c as unknown as Child<Calls, Events>, graceMs });
    return c;
  }

  /** Begins the measured phase in every process and starts collecting the series. */
  async measure(fromSeq = 1): Promise<void> {
    this.t0 = performance.now();
    this.lastT = 0;
    this.server.on('sample', (m) => {
      const t = (performance.now() - this.t0) / 1000;
      this.point(t).serverCpuPct = round1(m.cpuPct);
      this.point(t).serverRssBytes = m.rssBytes;
    });
    for (const l of this.loads) {
      this.delivered.set(l, 0);
      l.on('progress', (m) => {
        this.delivered.set(l, m.delivered);
        this.onProgress();
      });
    }
    await Promise.all([this.server.ask({ type: 'measure' }, 10_000), ...this.loads.map((l) => l.ask({ type: 'measure', fromSeq }, 10_000))]);
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
  totalDelivered(): number {
    let n = 0;
    for (const v of this.delivered.values()) n += v;
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
    this.delivered.clear();
    this.series.length = 0;
    this.lastDelivered = 0;
  }

  /** Waits until the load processes' progress reports reach `target` deliveries, or `ms` pass. */
  async drain(target: number, ms: number, signal?: AbortSignal): Promise<void> {
    const end = Date.now() + ms;
    while (this.totalDelivered() < target && Date.now() < end && !signal?.aborted) await new Promise((r) => setTimeout(r, 50));
  }

  /** Kills every process of the session. */
  async close(): Promise<void> {
    await Promise.all([this.server?.kill(), ...this.loads.map((l) => l.kill()), ...this.others.map((o) => o.child.kill(o.graceMs))]);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
