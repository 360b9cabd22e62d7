/**
 * One transport's run inside a scenario: a server process, one or more load
 * processes, the time series they report, and clean-up whatever happens. The
 * session is the only place that starts child processes, so every one of them
 * is tracked, and a run's parameters (the WebSocket load client) reach every
 * scenario alike.
 */
import type { FixedLoadResult } from './fixed-load.ts';
import type { TimePoint, TransportName } from '../metrics/results.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { HeaderProfile } from '../clients/contract.ts';
import { loadClientFor, transport as describe, type WsLoadClient } from '../transports/index.ts';
import type { ClientModule, TransportDescriptor } from '../transports/descriptor.ts';
import { Child, type Calls, type Events } from './child.ts';
import { prepareChildren } from './bundle.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { accepts, freePort } from '../servers/ports.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NGINX_BIN, nginxConfig } from '../path/nginx.ts';
import { treeUsage, type TreeUsage } from '../metrics/process.ts';
import { labCertificate, type RunPath, type TlsMaterial } from '../path/route.ts';
import { Agent, request } from 'undici';
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

/** The nginx child of a session, and where its files are. */
interface ProxyChild {
  proc: ChildProcess;
  dir: string;
  port: number;
  /** Its tree's CPU when the measured phase began. */
  cpuAtMeasure: number;
  stderr: string;
}

/** What the proxy cost during the measured phase (a row's `extra.proxy`). */
export interface ProxyTotals {
  /** CPU of nginx's master and workers during the phase, ms. */
  cpuMs: number;
  /** Their resident memory at the end, and its peak, bytes. */
  rssBytes: number;
  rssPeakBytes: number;
  processes: number;
}

/** A server child as the session speaks to it. */
type ServerChild = Child<ServerCalls, ServerEvents>;
/** A load process as the session speaks to it: a local child, or one on an agent (agents/remote-load.ts). */
type LoadChild = Pick<Child<LoadCalls, LoadEvents>, 'ask' | 'on' | 'kill' | 'label'>;

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
  proxy: ProxyChild | undefined;

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
    if (route?.via) this.proxy = await this.startNginx(route);
  }

  private async startNginx(route: RunPath): Promise<ProxyChild> {
    const dir = mkdtempSync(path.join(tmpdir(), 'transport-lab-nginx-'));
    const tls = route.tls ? { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } : undefined;
    if (tls && route.tls) {
      writeFileSync(tls.certFile, route.tls.cert);
      writeFileSync(tls.keyFile, route.tls.key, { mode: 0o600 });
    }
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      nginxConfig({ ...route.via!.proxy, dir, listenPort: port, upstreamPort: this.port, maxBodyBytes: 64 * 1024 * 1024 + 4096, ...(tls && { tls }) }),
    );
    const proc = spawn(NGINX_BIN, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const child: ProxyChild = { proc, dir, port, cpuAtMeasure: 0, stderr: '' };
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (t: string) => {
      child.stderr = (child.stderr + t).slice(-1000);
    });
    const proxyKill = { kill: () => this.stopNginx() };
    liveChildren.add(proxyKill);
    proc.once('exit', () => liveChildren.delete(proxyKill));
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('error', (e) => reject(new Error(`cannot start ${NGINX_BIN} (${e.message}); scripts/ensure-nginx.sh installs it`)));
      proc.once('spawn', () => resolve());
    });
    await spawned;
    const end = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nginx exited at start: ${child.stderr.trim() || `code ${proc.exitCode}`}`);
      if (await accepts(port)) return child;
      if (Date.now() > end) throw new Error(`nginx did not listen on ${port} within 10 s: ${child.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  private async stopNginx(): Promise<void> {
    const p = this.proxy;
    if (!p) return;
    this.proxy = undefined;
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      const gone = new Promise<void>((r) => p.proc.once('exit', () => r()));
      // SIGTERM is nginx's fast shutdown: master and workers go at once.
      p.proc.kill('SIGTERM');
      const t = setTimeout(() => p.proc.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(t);
    }
    rmSync(p.dir, { recursive: true, force: true });
  }

  /** The proxy's cost since the measured phase began, or undefined without a proxy. */
  proxyTotals(): ProxyTotals | undefined {
    const p = this.proxy;
    if (!p?.proc.pid) return undefined;
    const u: TreeUsage = treeUsage(p.proc.pid);
    return { cpuMs: Math.round(u.cpuMs - p.cpuAtMeasure), rssBytes: u.rssBytes, rssPeakBytes: u.rssPeakBytes, processes: u.processes };
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
    return this.proxy ? `${scheme}://127.0.0.1:${this.proxy.port}` : `${scheme}://${this.hosts[0]}:${this.port}`;
  }

  /** The URL the i-th load process connects to: a clustered server's addresses in turn, so that ephemeral ports spread. */
  private loadUrl(i: number): string {
    if (this.proxy || this.run.path?.target !== undefined) return this.baseUrl;
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
  async counters(timeoutMs = 10_000): Promise<ServerCounters> {
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
      const agents = this.run.agents ?? [];
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
        // Many processes connecting at once share about 200 handshakes in flight between them.
        ...(spec.concurrency !== undefined ? { concurrency: spec.concurrency } : processes > 8 && { concurrency: Math.max(5, Math.floor(200 / processes)) }),
      },
      // The processes connect side by side to one server: the time goes with the clients of all of them.
      60_000 + Math.max(share * 50, spec.clients * 20),
    );
  }

  /** Forks the spare load process if there is none (it idles until its `init`). */
  private prepareLoad(): void {
    if (this.run.agents?.length) return;
    if (!this.spare || this.spare.gone) this.spare = this.track(new Child<LoadCalls, LoadEvents>(`${this.transport} load`, LOAD_CHILD));
  }

  /** The spare load process, or a new one. */
  private takeLoad(): Child<LoadCalls, LoadEvents> {
    const c = this.spare && !this.spare.gone ? this.spare : this.track(new Child<LoadCalls, LoadEvents>(`${this.transport} load`, LOAD_CHILD));
    this.spare = undefined;
    return c;
  }

  private async remote(agent: string, label: string): Promise<LoadChild> {
    const { RemoteLoad } = await import('../agents/remote-load.ts');
    const r = await RemoteLoad.open(this.needRedis(), agent, `${label} on agent ${agent}`);
    liveChildren.add(r);
    return r;
  }

  /** The peer process forked ahead by `preparePeer`, with its program. */
  private peerAhead: { module: string; child: Child<PeerCalls> } | undefined;

  /** Forks the peer process now, so that its start-up overlaps the server's (`startPeer` takes it). */
  async preparePeer(module: string): Promise<void> {
    // Forked before the server, so the bundle is made sure of here, not by the server's start.
    await prepareChildren();
    this.peerAhead = { module, child: this.other(new Child<PeerCalls>(`${this.transport} peer`, module), 500) };
  }

  /** Starts one client alone in its own process (`module`: the peer program), subscribed to the server. */
  async startPeer(module: string, pollIntervalMs: number): Promise<Child<PeerCalls>> {
    const ready = this.peerAhead?.module === module && !this.peerAhead.child.gone ? this.peerAhead.child : undefined;
    this.peerAhead = undefined;
    const peer = ready ?? this.other(new Child<PeerCalls>(`${this.transport} peer`, module), 500);
    await peer.ask({ type: 'init', client: this.loadClient, baseUrl: this.baseUrl, pollIntervalMs, ...(this.ca !== undefined && { ca: this.ca }) }, 30_000);
    return peer;
  }

  /** Starts the autocannon process (`module`: its program). */
  async startCannon(module: string): Promise<Child<CannonCalls>> {
    await prepareChildren();
    return this.other(new Child<CannonCalls>(`${this.transport} autocannon`, module), 500);
  }

  private other<C extends Calls>(c: Child<C>, graceMs: number): Child<C> {
    this.track(c);
    this.others.push({ child: c as unknown as Child<Calls, Events>, graceMs });
    return c;
  }

  /**
   * Tells every load process, before traffic starts, which message is the first counted, so
   * that one arriving before `measure(fromSeq)` reaches the process is not forgotten by it.
   */
  async arm(fromSeq: number): Promise<void> {
    await Promise.all(this.loads.map((l) => l.ask({ type: 'arm', fromSeq }, 10_000)));
  }

  /**
   * Begins the measured phase in every process and starts collecting the series; messages
   * numbered from `tailFrom` on are also recorded apart (the row's `extra.endLatencyMs`).
   */
  async measure(fromSeq = 1, tailFrom?: number): Promise<void> {
    this.t0 = performance.now();
    this.lastT = 0;
    if (this.proxy?.proc.pid) this.proxy.cpuAtMeasure = treeUsage(this.proxy.proc.pid).cpuMs;
    this.server?.on('sample', (m) => {
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
    await Promise.all([
      ...(this.server ? [this.server.ask({ type: 'measure' }, 10_000)] : []),
      ...this.loads.map((l) => l.ask({ type: 'measure', fromSeq, ...(tailFrom !== undefined && { tailFrom }) }, 10_000)),
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
    // A step usually follows: its load process starts now, while nothing is measured.
    this.prepareLoad();
    this.delivered.clear();
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
      const now = await Promise.all(this.loads.map((l) => l.ask({ type: 'snapshot' }, 10_000)));
      const got = now.reduce((a, x) => a + x.delivered, 0);
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
      this.stopNginx(),
      this.server?.kill(),
      spare?.kill(0),
      ...this.loads.map((l) => l.kill()),
      ...this.others.map((o) => o.child.kill(o.graceMs)),
    ]);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
