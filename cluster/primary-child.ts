/**
 * The server child of a clustered row (`--nodes N`): node's cluster primary with N worker
 * nodes. The primary is the balancer: it owns the listening socket, accepts, and hands each
 * connection to the next node round-robin (SCHED_RR), so no proxy hop sits in the data path and
 * no extra process competes for the two cores; a WebSocket, an SSE stream and a poll are all
 * just connections to it. Any node can serve any request because all shared state (the message
 * numbering and history) lives in Redis (cluster/redis-backplane.ts).
 *
 * It speaks the server child's protocol (runner/protocol.ts), so every scenario drives it as it
 * drives one server: counters are summed over the nodes, CPU is the nodes' plus the primary's,
 * and the totals add each node's share and Redis's CPU. The bench's publisher appends to the
 * Redis stream from here, as a `POST /publish` on any node would.
 */
import cluster, { type Worker } from 'node:cluster';
import { ProcessSampler } from '../metrics/process.ts';
import { encodePayload } from '../metrics/payload.ts';
import { plainText } from '../metrics/plain-payload.ts';
import { ownProgram } from '../transports/bundled.ts';
import { serveParent } from '../runner/child.ts';
import type { ClusterTotals, ServerCalls, ServerEvents, ServerTotals } from '../runner/protocol.ts';
import { runSchedule } from '../runner/schedule.ts';
import type { ServerCounters } from '../servers/contract.ts';
import { DEFAULT_HISTORY } from '../servers/hub.ts';
import { redisCpuMs } from './redis.ts';
import { RedisPublisher } from './redis-backplane.ts';
import type { NodeReply, NodeRequest } from './wire.ts';

/** The node program: from the bundle when this primary runs from one, else the source through tsx as the primary does. */
const NODE = ownProgram(import.meta.resolve('./node.ts'));

/** A node as the primary tracks it. */
interface NodeProc {
  worker: Worker;
  pid: number;
  alive: boolean;
  /** Resolves when the node's module has run and it listens for requests. */
  ready: Promise<void>;
}

/** Requests sent without their id, each of them typed by what comes back. */
type Ask = NodeRequest extends infer R ? (R extends { type: infer T } ? Omit<Extract<NodeRequest, { type: T }>, 'id'> : never) : never;

const nodes: NodeProc[] = [];
const sampler = new ProcessSampler();
let publisher: RedisPublisher | undefined;
let sampling: NodeJS.Timeout | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: NodeReply) => void; reject: (e: Error) => void }>();
/** Redis CPU and the time it was read, at the start of the measured phase. */
let redisStart = { cpuMs: 0, at: 0 };

function ask<T extends NodeReply['type']>(n: NodeProc, req: Ask, timeoutMs = 10_000): Promise<Extract<NodeReply, { type: T }>> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`node ${n.pid}: no reply to "${req.type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, {
      resolve: (r) => {
        clearTimeout(timer);
        if (r.type === 'error') reject(new Error(`node ${n.pid}: ${r.error}`));
        else resolve(r as Extract<NodeReply, { type: T }>);
      },
      reject: (e) => {
        clearTimeout(timer);
        pending.delete(id);
        reject(e);
      },
    });
    // A node that is leaving has no channel any more: the send's callback fails the ask, where
    // without one the primary would throw.
    n.worker.send({ ...req, id }, undefined, (e: Error | null) => {
      if (e) pending.get(id)?.reject(e);
    });
  });
}

/** Asks every live node; a node that dies meanwhile is left out. */
async function askAll<T extends NodeReply['type']>(req: Ask): Promise<{ node: NodeProc; reply: Extract<NodeReply, { type: T }> }[]> {
  const live = nodes.filter((n) => n.alive);
  const out = await Promise.allSettled(live.map((n) => ask<T>(n, req)));
  return out.flatMap((r, i) => (r.status === 'fulfilled' ? [{ node: live[i]!, reply: r.value }] : []));
}

/** The counters of several nodes as one server's. */
function sumCounters(list: ServerCounters[]): ServerCounters {
  const out: ServerCounters = {
    connections: 0,
    connectionsOpen: 0,
    requests: 0,
    emptyResponses: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
    messagesIn: 0,
    subscribers: 0,
    lastSeq: 0,
  };
  for (const c of list) {
    for (const k of [
      'connections',
      'connectionsOpen',
      'requests',
      'emptyResponses',
      'bytesRead',
      'bytesWritten',
      'errors',
      'messagesIn',
      'subscribers',
    ] as const)
      out[k] += c[k];
    out.lastSeq = Math.max(out.lastSeq, c.lastSeq);
    out.droppedSlowReaders = (out.droppedSlowReaders ?? 0) + (c.droppedSlowReaders ?? 0);
    out.droppedMissedPongs = (out.droppedMissedPongs ?? 0) + (c.droppedMissedPongs ?? 0);
  }
  return out;
}

/**
 * Counters already read from nodes that died since: a killed node's connections and bytes still
 * happened, so the sums stay monotonic and a measured phase's difference stays true.
 */
const lastSeen = new Map<number, ServerCounters>();

async function countersNow(): Promise<{ counters: ServerCounters; rssBytes: number; heapUsedBytes: number; cpuMs: number }> {
  const replies = await askAll<'counters'>({ type: 'counters' });
  for (const r of replies) lastSeen.set(r.node.pid, r.reply.counters);
  const dead = nodes
    .filter((n) => !n.alive)
    .flatMap((n) => {
      const c = lastSeen.get(n.pid);
      return c ? [{ ...c, connectionsOpen: 0, subscribers: 0 }] : [];
    });
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    // The balancer's CPU and the live nodes' (a dead node's stops counting).
    cpuMs: (cpu.user + cpu.system) / 1000 + replies.reduce((a, r) => a + r.reply.cpuMs, 0),
    counters: sumCounters([...replies.map((r) => r.reply.counters), ...dead]),
    rssBytes: mem.rss + replies.reduce((a, r) => a + r.reply.rssBytes, 0),
    heapUsedBytes: mem.heapUsed + replies.reduce((a, r) => a + r.reply.heapUsedBytes, 0),
  };
}

async function redisCpu(): Promise<number> {
  return publisher ? redisCpuMs(await publisher.info('cpu')) : 0;
}

const readiness = new Map<Worker, () => void>();

/** The init every node gets (kept for the nodes a rolling restart starts), and whether a measured phase runs. */
let nodeInit: Extract<Ask, { type: 'init' }> | undefined;
let measuring = false;

/** How long a node that said goodbye may take to leave once disconnected before it is killed, ms. */
const LEAVE_MS = 5000;

/**
 * Ends a node that has shut its listeners: by disconnecting it, not by a signal. A connection the
 * primary was handing it as it shut them may still be in the IPC channel; the disconnect is queued
 * behind it, so the node reads it, refuses it (it no longer listens) and the primary hands it to
 * another node. A SIGTERM (all `worker.kill()` does) ends the node with that
 * connection unread, and the primary then holds it open and unserved for good: a poll that hangs.
 */
async function leave(n: NodeProc): Promise<void> {
  if (n.worker.isDead()) return;
  const gone = new Promise<void>((r) => n.worker.once('exit', () => r()));
  // A node whose channel is already gone (it failed its goodbye) gets the signal instead.
  if (n.worker.isConnected()) n.worker.disconnect();
  else n.worker.process.kill('SIGTERM');
  const cut = setTimeout(() => n.worker.process.kill('SIGKILL'), LEAVE_MS);
  await gone;
  clearTimeout(cut);
}

/** Forks a node; its `ready` resolves once its module listens for requests. */
function forkNode(): NodeProc {
  const worker = cluster.fork();
  const ready = new Promise<void>((resolve) => readiness.set(worker, resolve));
  return { worker, pid: worker.process.pid!, alive: true, ready };
}

cluster.on('message', (w, m: NodeReply) => {
  if (m.type === 'ready') return readiness.get(w)?.();
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  p.resolve(m);
});
cluster.on('exit', (w) => {
  const n = nodes.find((x) => x.worker === w);
  if (n) n.alive = false;
});

const emit = serveParent<ServerCalls, ServerEvents>(
  {
    async init(m) {
      const spec = m.cluster;
      if (!spec) throw new Error('the cluster child needs a cluster spec');
      nodeInit = {
        type: 'init',
        server: m.server,
        options: m.options,
        redisUrl: spec.redisUrl,
        prefix: spec.prefix,
        host: m.host ?? '127.0.0.1',
        alsoHosts: spec.alsoHosts ?? [],
      };
      // Round-robin by the primary on every platform, so the spread over nodes is even and known.
      cluster.schedulingPolicy = cluster.SCHED_RR;
      cluster.setupPrimary({ exec: NODE.file, execArgv: NODE.execArgv, serialization: 'advanced' });
      publisher = await RedisPublisher.connect({ url: spec.redisUrl, prefix: spec.prefix }, m.options.history ?? DEFAULT_HISTORY);
      for (let i = 0; i < spec.nodes; i++) nodes.push(forkNode());
      await Promise.all(nodes.map((n) => n.ready));
      const host = m.host ?? '127.0.0.1';
      const ports = await Promise.all(
        nodes.map((n) =>
          ask<'init'>(
            n,
            { type: 'init', server: m.server, options: m.options, redisUrl: spec.redisUrl, prefix: spec.prefix, host, alsoHosts: spec.alsoHosts ?? [] },
            30_000,
          ),
        ),
      );
      const port = ports[0]!.port;
      if (ports.some((p) => p.port !== port)) throw new Error(`nodes listen on different ports: ${ports.map((p) => p.port).join(', ')}`);
      return { port, pid: process.pid, nodePids: nodes.map((n) => n.pid) };
    },
    async measure(m) {
      measuring = true;
      sampler.start();
      await askAll<'measure'>({ type: 'measure' });
      redisStart = { cpuMs: await redisCpu(), at: performance.now() };
      clearInterval(sampling);
      sampling = setInterval(async () => {
        const own = sampler.interval();
        const parts = await askAll<'interval'>({ type: 'interval' });
        emit('sample', {
          cpuPct: own.cpuPct + parts.reduce((a, p) => a + p.reply.cpuPct, 0),
          rssBytes: own.rssBytes + parts.reduce((a, p) => a + p.reply.rssBytes, 0),
          at: process.hrtime.bigint(),
        });
      }, m.everyMs ?? 500);
      return {};
    },
    async publish(m) {
      const pub = publisher!;
      let failed: Error | undefined;
      const send = (text: string) =>
        void pub.publish(text).catch((e: Error) => {
          failed ??= e;
        });
      const r = await runSchedule(
        m.rate,
        m.durationMs,
        m.plain
          ? () => send(plainText(m.size, m.payload ?? 'compressible'))
          : (seq, intendedNs) => send(encodePayload(seq, intendedNs, process.hrtime.bigint(), m.size)),
        m.firstSeq ?? 1,
      );
      if (failed) throw failed;
      return r;
    },
    async counters() {
      return { ...(await countersNow()), at: process.hrtime.bigint() };
    },
    close() {
      // The cluster as a whole goes down: each node is sent SIGTERM (its connections end with it).
      clearInterval(sampling);
      for (const n of nodes) if (n.alive) n.worker.process.kill('SIGTERM');
      return {};
    },
    async 'node-failover'(m) {
      const live = nodes.filter((n) => n.alive);
      if (live.length === 0) throw new Error('no node is running');
      if (m.mode === 'node-crash') {
        const n = live[0]!;
        const gone = new Promise<void>((r) => n.worker.once('exit', () => r()));
        n.worker.process.kill('SIGKILL');
        await gone;
      } else
        for (const n of live) {
          // One at a time: the node says goodbye and leaves, its successor is up before the next goes.
          await ask<'close'>(n, { type: 'close' }, 60_000).catch(() => undefined);
          // Gone for every other ask from here: its channel closes before its process ends.
          n.alive = false;
          await leave(n);
          const next = forkNode();
          nodes.push(next);
          await next.ready;
          await ask<'init'>(next, nodeInit!, 30_000);
          if (measuring) await ask<'measure'>(next, { type: 'measure' });
        }
      return { nodePids: nodes.filter((n) => n.alive).map((n) => n.pid) };
    },
    async gc() {
      (globalThis as { gc?: () => void }).gc?.();
      await askAll<'gc'>({ type: 'gc' });
      return { exposed: typeof (globalThis as { gc?: unknown }).gc === 'function' };
    },
    async totals(): Promise<ServerTotals> {
      clearInterval(sampling);
      const own = sampler.totals();
      const replies = await askAll<'totals'>({ type: 'totals' });
      const redisMs = (await redisCpu()) - redisStart.cpuMs;
      const wallMs = performance.now() - redisStart.at;
      for (const r of replies) lastSeen.set(r.node.pid, r.reply.counters);
      const byPid = new Map(replies.map((r) => [r.node.pid, r.reply]));
      const cl: ClusterTotals = {
        nodes: nodes.map((n) => {
          const r = byPid.get(n.pid);
          return {
            pid: n.pid,
            cpuMs: r?.process.cpuMs ?? 0,
            cpuPct: r?.process.cpuPct ?? 0,
            rssMaxBytes: r?.process.rssMaxBytes ?? 0,
            connectionsOpen: r?.counters.connectionsOpen ?? 0,
            alive: n.alive && r !== undefined,
          };
        }),
        balancer: { cpuMs: own.cpuMs, cpuPct: own.cpuPct, rssMaxBytes: own.rssMaxBytes },
        redis: { cpuMs: redisMs, cpuPct: wallMs > 0 ? (100 * redisMs) / wallMs : 0 },
      };
      const { counters } = await countersNow();
      return {
        process: {
          cpuMs: own.cpuMs + cl.nodes.reduce((a, n) => a + n.cpuMs, 0),
          wallMs: own.wallMs,
          cpuPct: own.cpuPct + cl.nodes.reduce((a, n) => a + n.cpuPct, 0),
          rssMaxBytes: own.rssMaxBytes + cl.nodes.reduce((a, n) => a + n.rssMaxBytes, 0),
        },
        counters,
        cluster: cl,
      };
    },
  },
  () => {
    clearInterval(sampling);
    publisher?.close();
    for (const n of nodes) if (n.alive) n.worker.process.kill('SIGKILL');
  },
);
