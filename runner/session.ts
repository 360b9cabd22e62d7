/**
 * One transport's run inside a scenario: a server process, one or more load
 * processes, the time series they report, and clean-up whatever happens.
 */
import type { TimePoint, TransportName } from '../metrics/results.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { HeaderProfile } from '../clients/contract.ts';
import { Child, type Msg } from './child.ts';

const SERVER_CHILD = import.meta.resolve('./server-child.ts');
const LOAD_CHILD = import.meta.resolve('./load-child.ts');

/** How a session's load is shaped. */
export interface LoadSpec {
  clients: number;
  processes: number;
  pollIntervalMs: number;
  headers: HeaderProfile;
  /** `subscribe` (default): clients owe every published message; `echo`: each owes its own echoes. */
  mode?: 'subscribe' | 'echo';
}

/**
 * Which client drives the WebSocket rows. `own` (default): each transport its own client (the
 * engine's for `websocket`, the ws package's for `ws`). `engine` or `ws`: one client for both
 * rows, so a difference between them is the server's alone.
 */
export type WsLoadClient = 'own' | 'engine' | 'ws';
let wsLoadClient: WsLoadClient = 'own';

/** Sets the WebSocket load client for every session of this run. */
export function setWsLoadClient(v: WsLoadClient): void {
  wsLoadClient = v;
}

/** The client transport that drives `t`'s server. */
function clientTransport(t: TransportName): TransportName {
  if ((t === 'websocket' || t === 'ws') && wsLoadClient !== 'own') return wsLoadClient === 'engine' ? 'websocket' : 'ws';
  return t;
}

/** Every child of every session alive now, so an interrupted run can kill them all. */
export const liveChildren = new Set<Child>();

export class Session {
  server!: Child;
  loads: Child[] = [];
  port = 0;
  /** Samples every 500 ms: server CPU/RSS and deliveries, merged by time. */
  readonly series: TimePoint[] = [];
  private t0 = 0;
  private readonly delivered = new Map<Child, number>();
  private lastDelivered = 0;
  private lastT = 0;

  constructor(
    readonly transport: TransportName,
    readonly serverOptions: ServerOptions,
  ) {}

  private track(c: Child): Child {
    liveChildren.add(c);
    c.proc.once('exit', () => liveChildren.delete(c));
    return c;
  }

  /** Starts the server process and waits for its port. */
  async startServer(nodeFlags: string[] = []): Promise<void> {
    // LAB_SERVER_NODE_FLAGS adds node flags to every server process, e.g. "--cpu-prof
    // --cpu-prof-dir=/tmp/prof" to see where a server's time goes (NODE_OPTIONS refuses those).
    const extra = (process.env['LAB_SERVER_NODE_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
    this.server = this.track(new Child(`${this.transport} server`, SERVER_CHILD, [], [...nodeFlags, ...extra]));
    const ready = await this.server.ask({ type: 'init', transport: this.transport, options: this.serverOptions }, 'ready', 30_000);
    this.port = Number(ready['port']);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Server counters just before the current load connected: figures count from here, set-up included. */
  baseCounters: ServerCounters | undefined;

  /** Figures count from now on (the next collect subtracts the server counters read here). */
  async rebase(): Promise<void> {
    this.baseCounters = (await this.server.ask({ type: 'counters' }, 'counters', 10_000))['counters'] as ServerCounters;
  }

  /** Starts the load processes, clients split evenly, and waits until all subscribed. */
  async startLoad(spec: LoadSpec): Promise<void> {
    await this.rebase();
    const n = Math.max(1, Math.min(spec.processes, spec.clients));
    const inits: Promise<Msg>[] = [];
    for (let i = 0; i < n; i++) {
      const share = Math.floor(spec.clients / n) + (i < spec.clients % n ? 1 : 0);
      const c = this.track(new Child(`${this.transport} load #${i + 1}`, LOAD_CHILD));
      this.loads.push(c);
      inits.push(
        c.ask(
          { type: 'init', transport: clientTransport(this.transport), baseUrl: this.baseUrl, clients: share, idPrefix: `p${i}c`, pollIntervalMs: spec.pollIntervalMs, headers: spec.headers, mode: spec.mode ?? 'subscribe' },
          'ready',
          60_000 + share * 50,
        ),
      );
    }
    await Promise.all(inits);
  }

  /** Begins the measured phase in every process and starts collecting the series. */
  async measure(fromSeq = 1): Promise<void> {
    this.t0 = performance.now();
    this.lastT = 0;
    this.server.listeners.set('sample', (m) => {
      const t = (performance.now() - this.t0) / 1000;
      this.point(t).serverCpuPct = round1(Number(m['cpuPct']));
      this.point(t).serverRssBytes = Number(m['rssBytes']);
    });
    for (const l of this.loads) {
      this.delivered.set(l, 0);
      l.listeners.set('progress', (m) => {
        this.delivered.set(l, Number(m['delivered']));
        this.onProgress();
      });
    }
    await Promise.all([this.server.ask({ type: 'measure' }, 'measuring', 10_000), ...this.loads.map((l) => l.ask({ type: 'measure', fromSeq }, 'measuring', 10_000))]);
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
    await Promise.all([this.server?.kill(), ...this.loads.map((l) => l.kill())]);
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
