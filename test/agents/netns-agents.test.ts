/**
 * Two load agents in two network namespaces against a server in a third, each namespace a host
 * of its own joined by veth pairs this test creates and removes (root needed). The controller
 * (this process) reaches Redis and the server over a third veth pair and hands each agent its
 * share of the load through Redis. What comes back is merged as a run merges load processes,
 * and the merged p99 must equal the p99 of the union of the agents' raw samples. Both sides hold
 * the shared secret (every message authenticated) and each agent may send traffic only to the
 * server's address. Where network namespaces cannot be created the test says so and runs the
 * agents on loopback instead.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RemoteLoad } from '../../agents/remote-load.ts';
import { type LabRedis, startRedis } from '../../cluster/redis.ts';
import { histogramOf, mergeEncoded } from '../../metrics/latency.ts';
import { encodePayload } from '../../metrics/payload.ts';
import { transport } from '../../transports/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TAG = `agents-${process.pid % 100000}`;
const NS = { srv: `${TAG}srv`, a1: `${TAG}a1`, a2: `${TAG}a2` };
const REDIS_PORT = 6390;
/** The agents' shared secret, given them through the environment as an operator would. */
const SECRET = randomBytes(24).toString('hex');
const SERVER_PORT = 8090;

/** Where everything is reached: from this process, and from each agent. */
interface Layout {
  /** Why namespaces are not used, or '' when they are. */
  fallback: string;
  redisFromHere: string;
  serverFromHere: string;
  agents: { name: string; wrap: string[]; redis: string; server: string }[];
  serverWrap: string[];
  bind: string;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Creates the three namespaces and the veth pairs between them; throws when the kernel or rights do not allow it. */
function makeNamespaces(): Layout {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns);
  for (const ns of Object.values(NS)) ip('-n', ns, 'link', 'set', 'lo', 'up');
  // This process ↔ the server's host.
  ip('link', 'add', `${TAG}r`, 'type', 'veth', 'peer', 'name', `${TAG}s0`, 'netns', NS.srv);
  ip('addr', 'add', '10.213.0.1/30', 'dev', `${TAG}r`);
  ip('link', 'set', `${TAG}r`, 'up');
  ip('-n', NS.srv, 'addr', 'add', '10.213.0.2/30', 'dev', `${TAG}s0`);
  ip('-n', NS.srv, 'link', 'set', `${TAG}s0`, 'up');
  // The server's host ↔ each agent's host.
  for (const [i, ns] of [NS.a1, NS.a2].entries()) {
    const k = i + 1;
    ip('-n', NS.srv, 'link', 'add', `${TAG}s${k}`, 'type', 'veth', 'peer', 'name', `${TAG}x${k}`, 'netns', ns);
    ip('-n', NS.srv, 'addr', 'add', `10.213.${k}.1/30`, 'dev', `${TAG}s${k}`);
    ip('-n', NS.srv, 'link', 'set', `${TAG}s${k}`, 'up');
    ip('-n', ns, 'addr', 'add', `10.213.${k}.2/30`, 'dev', `${TAG}x${k}`);
    ip('-n', ns, 'link', 'set', `${TAG}x${k}`, 'up');
  }
  const exec = (ns: string) => ['ip', 'netns', 'exec', ns];
  return {
    fallback: '',
    redisFromHere: `redis://10.213.0.2:${REDIS_PORT}`,
    serverFromHere: `http://10.213.0.2:${SERVER_PORT}`,
    agents: [1, 2].map((k) => ({
      name: `a${k}`,
      wrap: exec(k === 1 ? NS.a1 : NS.a2),
      redis: `redis://10.213.${k}.1:${REDIS_PORT}`,
      server: `http://10.213.${k}.1:${SERVER_PORT}`,
    })),
    serverWrap: exec(NS.srv),
    bind: '0.0.0.0',
  };
}

function removeNamespaces(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* not created */
    }
  }
  try {
    ip('link', 'del', `${TAG}r`);
  } catch {
    /* gone with its peer's namespace */
  }
}

function loopback(reason: string): Layout {
  return {
    fallback: reason,
    redisFromHere: `redis://127.0.0.1:${REDIS_PORT}`,
    serverFromHere: `http://127.0.0.1:${SERVER_PORT}`,
    agents: [1, 2].map((k) => ({ name: `a${k}`, wrap: [], redis: `redis://127.0.0.1:${REDIS_PORT}`, server: `http://127.0.0.1:${SERVER_PORT}` })),
    serverWrap: [],
    bind: '127.0.0.1',
  };
}

let layout: Layout;
let redis: LabRedis | undefined;
const procs: ChildProcess[] = [];
let why = '';

/** Starts `node --import tsx run.ts …` (inside `wrap`), resolving once its stderr/stdout shows `ready`. */
function startLab(wrap: string[], args: string[], ready: RegExp): Promise<ChildProcess> {
  const [cmd, ...rest] = [...wrap, process.execPath, '--import', 'tsx', `${ROOT}run.ts`, ...args];
  const p = spawn(cmd!, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAB_AGENT_SECRET: SECRET } });
  procs.push(p);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${seen.slice(-500)}`)), 90_000);
    const look = (b: Buffer) => {
      seen += b.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        resolve(p);
      }
    };
    p.stdout!.on('data', look);
    p.stderr!.on('data', look);
    p.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${seen.slice(-500)}`)));
  });
}

before(async () => {
  try {
    layout = makeNamespaces();
  } catch (e) {
    removeNamespaces();
    layout = loopback(`network namespaces could not be created (${(e as Error).message.split('\n')[0]}); the agents run on loopback instead`);
  }
  try {
    redis = await startRedis({ host: new URL(layout.redisFromHere).hostname, bind: layout.bind, port: REDIS_PORT, wrap: layout.serverWrap });
  } catch (e) {
    why = `no redis-server: ${(e as Error).message}`;
    if (process.env['CI'] === 'true') throw e;
    return;
  }
  await startLab(layout.serverWrap, ['serve', 'websocket', '--host', layout.bind, '--port', String(SERVER_PORT)], /listening on/);
  await Promise.all(
    layout.agents.map((a) =>
      startLab(a.wrap, ['agent', '--redis', a.redis, '--name', a.name, '--allow-target', new URL(a.server).hostname], /waiting for loads/),
    ),
  );
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await redis?.stop();
  if (!layout.fallback) removeNamespaces();
});

test('two agents in two namespaces: the merged p99 is the p99 of the union of their raw samples', { timeout: 120_000 }, async (t) => {
  if (!redis) return t.skip(why);
  if (layout.fallback) t.diagnostic(layout.fallback);
  const loads = await Promise.all(layout.agents.map((a) => RemoteLoad.open(layout.redisFromHere, a.name, `agent ${a.name}`, SECRET)));
  try {
    const clients = [6, 4];
    await Promise.all(
      loads.map((l, i) =>
        l.ask(
          {
            type: 'init',
            transport: 'websocket',
            client: transport('websocket').client,
            baseUrl: layout.agents[i]!.server,
            clients: clients[i]!,
            idPrefix: `a${i}c`,
            pollIntervalMs: 1000,
            headers: 'minimal',
            mode: 'subscribe',
            keepSamples: true,
          },
          30_000,
        ),
      ),
    );
    await Promise.all(loads.map((l) => l.ask({ type: 'measure', fromSeq: 1 }, 10_000)));
    // Stamped on this host's clock; the agents put their receive times on it with the measured offset.
    const count = 150;
    for (let seq = 1; seq <= count; seq++) {
      const now = process.hrtime.bigint();
      const r = await fetch(`${layout.serverFromHere}/publish`, { method: 'POST', body: encodePayload(seq, now, now, 64) });
      assert.equal(r.status, 202);
      await new Promise((r) => setTimeout(r, 3 + (seq % 7)));
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const snaps = await Promise.all(loads.map((l) => l.ask({ type: 'snapshot' }, 10_000)));
      if (snaps.every((s, i) => s.delivered >= count * clients[i]!) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const results = await Promise.all(loads.map((l) => l.ask({ type: 'finish', first: 1, last: count }, 30_000)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.lost, 0, `agent ${i + 1} lost messages`);
      assert.equal(r.delivered, count * clients[i]!);
      assert.equal(r.samples?.length, r.delivered);
    }
    const merged = mergeEncoded(results.map((r) => r.histograms.corrected));
    const raw = results.flatMap((r) => r.samples!);
    const union = histogramOf(raw);
    assert.equal(merged.totalCount, raw.length);
    for (const p of [50, 90, 99, 99.9])
      assert.equal(merged.getValueAtPercentile(p), union.getValueAtPercentile(p), `p${p} of the merge and of the union differ`);
    // And the raw p99 itself, to the histogram's resolution (3 significant digits).
    const sorted = [...raw].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    const p99 = merged.getValueAtPercentile(99);
    assert.ok(Math.abs(p99 - exact) <= exact * 0.002 + 1, `merged p99 ${p99} ns against the exact ${exact} ns`);
    t.diagnostic(
      `merged p99 ${(p99 / 1e6).toFixed(3)} ms over ${raw.length} deliveries; agents' own p99s ${results.map((r) => (histogramOf(r.samples!).getValueAtPercentile(99) / 1e6).toFixed(3)).join(', ')} ms`,
    );
  } finally {
    await Promise.all(loads.map((l) => l.kill()));
  }
});
