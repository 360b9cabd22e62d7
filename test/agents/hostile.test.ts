/**
 * A load agent under attack from someone who can write to its Redis, on 127.0.0.1: the forged
 * `init` that made an agent import a `data:` module, and every other entry a hostile writer can
 * make — no MAC or a wrong one, malformed, oversized, an unknown request type, a replay — written
 * with a plain Redis client while the real controller's load runs. Each is refused and logged in
 * one line, no code runs, and the controller's figures are exactly those owed. One agent holds
 * the shared secret, one runs `--insecure` (its schema and positions still stand).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serialize } from 'node:v8';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { redactArgs } from '../../agents/cli.ts';
import { agentStream, encode, inStream, outStream } from '../../agents/channel.ts';
import { RemoteLoad } from '../../agents/remote-load.ts';
import { RedisBackplane } from '../../cluster/redis-backplane.ts';
import { type LabRedis, redisClient, type RedisClient, startRedis } from '../../cluster/redis.ts';
import { Hub } from '../../servers/hub.ts';
import { histogramOf, mergeEncoded } from '../../metrics/latency.ts';
import { encodePayload } from '../../metrics/payload.ts';
import { importable, ownModule } from '../../transports/bundled.ts';
import { registerTransport, transport } from '../../transports/index.ts';
import { selfSignedCertificate } from '../protocol/self-signed.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = randomBytes(24).toString('hex');
/** What the attacks' modules would create if they ran. */
const DIR = mkdtempSync(path.join(tmpdir(), 'agents-hostile-'));
const MARK_DATA = path.join(DIR, 'ran-data-module');
const MARK_FILE = path.join(DIR, 'ran-foreign-file');
const EVIL_FILE = path.join(DIR, 'evil.mjs');
const DATA_MODULE = `data:text/javascript,import{writeFileSync}from'node:fs';writeFileSync(${JSON.stringify(MARK_DATA)},'x');export class X{}`;

/** A lab process started by this file, with everything it printed so far. */
interface Lab {
  proc: ChildProcess;
  out: () => string;
}
const labs: Lab[] = [];

/** Starts `run.ts …` with `env` added, resolving once its output matches `ready`. */
function startLab(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<Lab> {
  const { LAB_AGENT_SECRET: _, ...base } = process.env;
  const proc = spawn(process.execPath, ['--import', 'tsx', `${ROOT}run.ts`, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...base, ...env },
  });
  let seen = '';
  const lab = { proc, out: () => seen };
  labs.push(lab);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${seen.slice(-500)}`)), 90_000);
    const look = (b: Buffer) => {
      seen += b.toString();
      if (ready.test(seen)) {
        clearTimeout(timer);
        resolve(lab);
      }
    };
    proc.stdout!.on('data', look);
    proc.stderr!.on('data', look);
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${seen.slice(-500)}`)));
  });
}

let redis: LabRedis | undefined;
let why = '';
let baseUrl = '';
let writer: RedisClient;
let secure: Lab;
let insecure: Lab;

before(async () => {
  writeFileSync(EVIL_FILE, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(MARK_FILE)}, 'x');\nexport class X {}\n`);
  try {
    redis = await startRedis();
  } catch (e) {
    why = `no redis-server: ${(e as Error).message}`;
    if (process.env['CI'] === 'true') throw e;
    return;
  }
  writer = redisClient(redis.url);
  await writer.connect();
  const server = await startLab(['serve', 'websocket', '--host', '127.0.0.1', '--port', '0'], /listening on http:\/\/127\.0\.0\.1:\d+/);
  baseUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.out())![1]!;
  [secure, insecure] = await Promise.all([
    startLab(['agent', '--redis', redis.url, '--name', 'h1', '--allow-target', '127.0.0.1'], /waiting for loads/, { LAB_AGENT_SECRET: SECRET }),
    startLab(['agent', '--redis', redis.url, '--name', 'h2', '--insecure', '--allow-target', '127.0.0.1'], /waiting for loads/),
  ]);
});

after(async () => {
  for (const l of labs) if (l.proc.exitCode === null) l.proc.kill('SIGKILL');
  writer?.destroy();
  await redis?.stop();
  rmSync(DIR, { recursive: true, force: true });
});

/** Waits until `lab` has logged the refusal of entry `id` of `stream` (at most 10 s); the line. */
async function logged(lab: Lab, stream: string, id: string): Promise<string> {
  const key = `${stream}): refused entry ${id}:`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = lab
      .out()
      .split('\n')
      .find((l) => l.includes(key));
    if (line) return line;
    if (Date.now() > deadline) assert.fail(`no line with ${key} in: ${lab.out().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many lines of `lab`'s output mention `s`. */
const linesWith = (lab: Lab, s: string) =>
  lab
    .out()
    .split('\n')
    .filter((l) => l.includes(s)).length;

/** The entries of a stream, oldest first. */
const entries = async (stream: string) =>
  ((await writer.xRange(stream, '-', '+')) ?? []).flatMap((e) => (e ? [{ id: e.id, fields: (e.message ?? {}) as Record<string, string> }] : []));

/** Redis's clock, ms. */
async function redisMs(): Promise<number> {
  const [s, us] = (await writer.sendCommand(['TIME'])) as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

test('a child imports only the project’s own modules, whoever names them', async () => {
  const own = transport('websocket').client.module;
  assert.equal(ownModule(own), true);
  assert.equal(await importable(own), own);
  for (const url of [DATA_MODULE, pathToFileURL(EVIL_FILE).href, 'https://example.invalid/x.mjs', 'node:child_process', pathToFileURL(ROOT).href])
    await assert.rejects(importable(url), /refused to import .*: a child imports only the project's own modules/, url);
  assert.equal(existsSync(MARK_DATA) || existsSync(MARK_FILE), false);
});

test('an agent without a secret refuses to start, and says why; --insecure starts it', { timeout: 60_000 }, (t) => {
  if (!redis) return t.skip(why);
  const { LAB_AGENT_SECRET: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}run.ts`, 'agent', '--redis', redis.url, '--name', 'nosecret'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /agent needs --secret S \(or LAB_AGENT_SECRET\).*anyone who can write to its Redis could command it \(--insecure runs it so anyway\)/);
  const short = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}run.ts`, 'agent', '--redis', redis.url, '--secret', 'short'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  assert.equal(short.status, 2);
  assert.match(short.stderr, /--secret: the shared secret must have at least 16 characters/);
  const range = spawnSync(
    process.execPath,
    ['--import', 'tsx', `${ROOT}run.ts`, 'agent', '--redis', redis.url, '--insecure', '--allow-target', '10.0.0.0/33'],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  assert.equal(range.status, 2);
  assert.equal(range.stderr, 'transport-lab: --allow-target: "10.0.0.0/33" is not a CIDR range (e.g. 10.0.0.0/24)\n');
  assert.match(insecure.out(), /messages NOT authenticated \(--insecure\)/);
  assert.match(secure.out(), /messages authenticated with the shared secret; targets allowed: 127\.0\.0\.1/);
  assert.equal(secure.out().includes(SECRET), false, 'the secret is never printed');
});

test('the forged init of a data: or foreign file: module runs no code, and the refusal is logged', { timeout: 60_000 }, async (t) => {
  if (!redis) return t.skip(why);
  // As the attack was first made: v8-serialized messages, an announcement, then an init naming a data: module.
  const old = (m: object) => ({ m: serialize(m).toString('base64') });
  const v8Load = randomUUID();
  const v8Ids = [
    await writer.xAdd(agentStream('h1'), '*', old({ load: v8Load, label: 'x' })),
    await writer.xAdd(agentStream('h2'), '*', old({ load: v8Load, label: 'x' })),
  ];
  // The same in the current format, without a MAC: the insecure agent takes the announcement, not the module.
  const forge = async (agent: string, module: string) => {
    const load = randomUUID();
    const a = await writer.xAdd(agentStream(agent), '*', { m: encode({ type: 'load', load, label: 'forged', at: await redisMs() }), n: '0' });
    // Given time to greet, so that the init below reaches a load being served where it is one.
    await new Promise((r) => setTimeout(r, 1500));
    const init = {
      type: 'init',
      transport: 'websocket',
      client: { module, export: 'X' },
      baseUrl,
      clients: 1,
      idPrefix: 'x',
      pollIntervalMs: 1000,
      headers: 'minimal',
      mode: 'subscribe',
    };
    const i = await writer.xAdd(inStream(load), '*', { m: encode(init), n: '1' });
    return { load, announcement: a, init: i };
  };
  const secureData = await forge('h1', DATA_MODULE);
  const insecureData = await forge('h2', DATA_MODULE);
  const insecureFile = await forge('h2', pathToFileURL(EVIL_FILE).href);

  for (const [lab, agent, id] of [
    [secure, 'h1', v8Ids[0]!],
    [insecure, 'h2', v8Ids[1]!],
  ] as const)
    assert.match(await logged(lab, agentStream(agent), id), /malformed \(fields "m"\)/);
  assert.match(await logged(secure, agentStream('h1'), secureData.announcement), /not authenticated \(no MAC; the agent has a secret\)/);
  for (const f of [insecureData, insecureFile]) {
    const line = await logged(insecure, inStream(f.load), f.init);
    assert.match(line, /invalid "init": .*Unrecognized key: "client"/, 'the init is refused for carrying a module');
    // The agent greeted the load it was told of (it runs --insecure), and nothing more.
    const replies = await entries(outStream(f.load));
    assert.deepEqual(
      replies.map((e) => (JSON.parse(e.fields['m']!) as { type: string }).type),
      ['hello'],
    );
  }
  assert.equal((await entries(outStream(secureData.load))).length, 0, 'the agent with a secret served no forged load');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(existsSync(MARK_DATA), false, 'the data: module never ran');
  assert.equal(existsSync(MARK_FILE), false, 'the foreign file: module never ran');
  const refusedBy: [Lab, string, string][] = [
    [secure, agentStream('h1'), v8Ids[0]!],
    [secure, agentStream('h1'), secureData.announcement],
    [insecure, agentStream('h2'), v8Ids[1]!],
    [insecure, inStream(insecureData.load), insecureData.init],
    [insecure, inStream(insecureFile.load), insecureFile.init],
  ];
  for (const [lab, stream, id] of refusedBy) assert.equal(linesWith(lab, `${stream}): refused entry ${id}:`), 1, `${id} logged once`);
});

/** An HMAC as the agent computes it (agents/channel.ts): what a holder of the secret writes. */
const macOf = (context: string, stream: string, n: number, text: string) =>
  createHmac('sha256', SECRET).update(`${context}\n${stream}\n${n}\n`).update(text).digest('hex');

/**
 * Runs the real controller's load on `agent` (6 clients, 120 messages), calling `attack` with the
 * load's id once it measures; returns the init's reply and the finished figures.
 */
async function realLoad(agent: string, secret: string | undefined, attack: (load: string) => Promise<void>, redisUrl = redis!.url) {
  const load = await RemoteLoad.open(redisUrl, agent, `real on ${agent}`, secret);
  try {
    const id = (load as unknown as { id: string }).id;
    const clients = 6;
    const init = await load.ask(
      {
        type: 'init',
        transport: 'websocket',
        client: transport('websocket').client,
        baseUrl,
        clients,
        idPrefix: `${agent}c`,
        pollIntervalMs: 1000,
        headers: 'minimal',
        mode: 'subscribe',
        keepSamples: true,
      },
      30_000,
    );
    await load.ask({ type: 'measure', fromSeq: 1 }, 30_000);
    await attack(id);
    const count = 120;
    for (let seq = 1; seq <= count; seq++) {
      const now = process.hrtime.bigint();
      const r = await fetch(`${baseUrl}/publish`, { method: 'POST', body: encodePayload(seq, now, now, 64) });
      assert.equal(r.status, 202);
    }
    const deadline = Date.now() + 10_000;
    while ((await load.ask({ type: 'snapshot' }, 30_000)).delivered < count * clients && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const result = await load.ask({ type: 'finish', first: 1, last: count }, 30_000);
    return { init, result, owed: count * clients, id };
  } finally {
    await load.kill();
  }
}

/** The figures of a load nothing disturbed: every message owed delivered once, and the histogram holds exactly the raw samples. */
function assertUndisturbed(r: Awaited<ReturnType<typeof realLoad>>): void {
  assert.equal(r.init.clients, 6, 'a replayed init added no clients');
  assert.equal(r.result.delivered, r.owed);
  assert.equal(r.result.owed, r.owed);
  assert.equal(r.result.lost, 0);
  assert.equal(r.result.duplicates, 0);
  assert.equal(r.result.foreign, 0);
  assert.equal(r.result.received, r.owed, 'nothing counted twice, nothing forgotten by a replayed measure');
  const merged = mergeEncoded([r.result.histograms.corrected]);
  const union = histogramOf(r.result.samples!);
  assert.equal(merged.totalCount, r.owed);
  for (const p of [50, 99]) assert.equal(merged.getValueAtPercentile(p), union.getValueAtPercentile(p));
}

/** The line `lab` logged for refused entry `id`. */
const refusal = (lab: Lab, stream: string, id: string) =>
  lab
    .out()
    .split('\n')
    .find((l) => l.includes(`${stream}): refused entry ${id}:`)) ?? '';

test('during the real controller’s load, every hostile entry is refused and logged once, and the figures are those owed', { timeout: 120_000 }, async (t) => {
  if (!redis) return t.skip(why);
  const hostile: { stream: string; id: string; reason: RegExp }[] = [];
  const r = await realLoad('h1', SECRET, async (load) => {
    const stream = inStream(load);
    const real = await entries(stream);
    const next = real.length + 1;
    const add = async (fields: Record<string, string>, reason: RegExp) => hostile.push({ stream, id: await writer.xAdd(stream, '*', fields), reason });
    const finish = encode({ type: 'finish', first: 1, last: 1 });
    await add({ m: finish, n: String(next), mac: 'ab'.repeat(32) }, /wrong MAC/);
    // With the right secret but not the agent's nonce for this load: a message from another conversation.
    await add({ m: finish, n: String(next), mac: macOf('', stream, next, finish) }, /wrong MAC/);
    await add({ m: encode({ type: 'shell', command: 'touch /tmp/x' }), n: String(next) }, /not authenticated/);
    await add({ cmd: 'exit' }, /malformed \(fields "cmd"\)/);
    await add({ m: 'x'.repeat(300_000), n: String(next) }, /oversized \(\d+ bytes, at most 262144\)/);
    // Replays: the init (which would connect more clients) and the measure (which would forget what was counted).
    for (const e of real) await add(e.fields, /replayed \(position \d+ was already served\)/);
    const announced = (await entries(agentStream('h1'))).at(-1)!;
    hostile.push({ stream: agentStream('h1'), id: await writer.xAdd(agentStream('h1'), '*', announced.fields), reason: /replayed announcement/ });
    await logged(secure, hostile.at(-1)!.stream, hostile.at(-1)!.id);
  });
  assertUndisturbed(r);
  assert.equal(hostile.length, 8);
  for (const h of hostile) {
    assert.equal(linesWith(secure, `${h.stream}): refused entry ${h.id}:`), 1, `${h.id} logged once`);
    assert.match(refusal(secure, h.stream, h.id), h.reason);
  }
});

test('an agent run --insecure still refuses what its schema and positions do not allow, and serves the load unchanged', { timeout: 120_000 }, async (t) => {
  if (!redis) return t.skip(why);
  const hostile: { stream: string; id: string; reason: RegExp }[] = [];
  const r = await realLoad('h2', undefined, async (load) => {
    const stream = inStream(load);
    const real = await entries(stream);
    const next = String(real.length + 1);
    const add = async (fields: Record<string, string>, reason: RegExp) => hostile.push({ stream, id: await writer.xAdd(stream, '*', fields), reason });
    await add({ m: encode({ type: 'shell', command: 'touch /tmp/x' }), n: next }, /invalid "shell": type: Invalid discriminator value/);
    await add({ m: '{"type":"finish",', n: next }, /malformed \(not JSON/);
    await add({ m: encode({ type: 'measure', fromSeq: -1 }), n: next }, /invalid "measure": fromSeq/);
    await add(
      {
        m: encode({
          type: 'init',
          transport: 'websocket',
          wsClient: 'own',
          baseUrl,
          clients: 1,
          idPrefix: 'x',
          pollIntervalMs: 1,
          headers: 'minimal',
          mode: 'subscribe',
          client: { module: DATA_MODULE, export: 'X' },
        }),
        n: next,
      },
      /client/,
    );
    await add({ m: 'x'.repeat(300_000), n: next }, /oversized/);
    for (const e of real) await add(e.fields, /replayed/);
    await logged(insecure, hostile.at(-1)!.stream, hostile.at(-1)!.id);
  });
  assertUndisturbed(r);
  for (const h of hostile) {
    assert.equal(linesWith(insecure, `${h.stream}): refused entry ${h.id}:`), 1, `${h.id} logged once`);
    assert.match(refusal(insecure, h.stream, h.id), h.reason);
  }
  assert.equal(existsSync(MARK_DATA), false);
});

test('a transport the agent does not know, and a target it is not allowed, are refused on the out stream', { timeout: 60_000 }, async (t) => {
  if (!redis) return t.skip(why);
  // Known to this process only: the agent's registry is its own.
  registerTransport({ ...transport('websocket'), name: 'only-here' });
  const load = await RemoteLoad.open(redis.url, 'h1', 'refusals', SECRET);
  try {
    const init = {
      type: 'init',
      client: transport('websocket').client,
      clients: 1,
      idPrefix: 'r',
      pollIntervalMs: 1000,
      headers: 'minimal',
      mode: 'subscribe',
    } as const;
    await assert.rejects(load.ask({ ...init, transport: 'only-here', baseUrl }, 30_000), /agent h1 refused init: this agent knows no transport "only-here"/);
    const elsewhere = baseUrl.replace('127.0.0.1', '127.0.0.2');
    await assert.rejects(
      load.ask({ ...init, transport: 'websocket', baseUrl: elsewhere }, 30_000),
      /target 127\.0\.0\.2 is not one this agent may send traffic to \(allowed: 127\.0\.0\.1\)/,
    );
    await assert.rejects(
      load.ask({ ...init, transport: 'websocket', baseUrl: baseUrl.replace('127.0.0.1', 'localhost') }, 30_000),
      /target localhost is not one/,
    );
    // The agent goes on: the same load connects where it may.
    assert.equal((await load.ask({ ...init, transport: 'websocket', baseUrl }, 30_000)).clients, 1);
  } finally {
    await load.kill();
  }
  assert.equal(linesWith(secure, 'refused init: this agent knows no transport "only-here"'), 1);
});

test('a controller with another secret is not answered, and is told so', { timeout: 60_000 }, async (t) => {
  if (!redis) return t.skip(why);
  const wrong = randomBytes(24).toString('hex');
  const before = linesWith(secure, 'wrong MAC');
  await assert.rejects(
    RemoteLoad.open(redis.url, 'h1', 'wrong secret', wrong),
    /agent h1 did not answer within 30 s \(is it running, on this Redis, with the same secret\?\)/,
  );
  assert.equal(linesWith(secure, 'wrong MAC'), before + 1);
});

/** Two server nodes' backplanes on the Redis at `url`: what one publishes, the other's hub holds. */
async function assertNodesShare(url: string): Promise<void> {
  const hubs = [new Hub(), new Hub()];
  const nodes = await Promise.all(hubs.map((h) => RedisBackplane.connect({ url, prefix: 'lab:test:locked' }, h)));
  try {
    await nodes[0]!.publish('through the locked Redis');
    const deadline = Date.now() + 5000;
    while (hubs[1]!.lastSeq < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      hubs[1]!.since(0).messages.map((m) => m.data),
      ['through the locked Redis'],
    );
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
}

/** A load through Redis at `url` (AUTH, TLS) on a fresh agent: the figures, and the agent's output. */
async function loadThrough(url: string, name: string, env: Record<string, string> = {}) {
  // Given LAB_REDIS_URL, the agent takes the URL from there, out of its command line.
  const where = env['LAB_REDIS_URL'] === undefined ? ['--redis', url] : [];
  const agent = await startLab(['agent', ...where, '--name', name, '--allow-target', '127.0.0.1'], /waiting for loads/, {
    LAB_AGENT_SECRET: SECRET,
    ...env,
  });
  const r = await realLoad(name, SECRET, async () => {}, url);
  agent.proc.kill('SIGKILL');
  return { r, out: agent.out() };
}

test('agents, server nodes and the controller work through Redis AUTH, and the password is never logged', { timeout: 120_000 }, async (t) => {
  if (!redis) return t.skip(why);
  const password = randomBytes(12).toString('hex');
  const locked = await startRedis({ password });
  try {
    // A client without the password is answered NOAUTH (a raw socket: node-redis would retry for ever).
    const u = new URL(locked.url);
    const bare = connect(Number(u.port), u.hostname);
    bare.write('PING\r\n');
    const [answer] = (await once(bare, 'data')) as [Buffer];
    bare.destroy();
    assert.match(answer.toString(), /^-NOAUTH/, 'the Redis takes no command without the password');
    const { r, out } = await loadThrough(locked.url, 'auth1', { LAB_REDIS_URL: locked.url });
    assertUndisturbed(r);
    assert.equal(out.includes(password), false, 'the agent did not log the password');
    assert.match(out, /waiting for loads on redis:\/\/…@127\.0\.0\.1:\d+/);
    await assertNodesShare(locked.url);
  } finally {
    await locked.stop();
  }
});

test('agents, server nodes and the controller work through Redis over TLS with AUTH (rediss://)', { timeout: 120_000 }, async (t) => {
  if (!redis) return t.skip(why);
  const tls = await selfSignedCertificate();
  const password = randomBytes(12).toString('hex');
  const ca = path.join(DIR, 'redis-ca.pem');
  writeFileSync(ca, tls.cert);
  let locked: LabRedis;
  try {
    locked = await startRedis({ password, tls });
  } catch (e) {
    return t.skip(`this redis-server does not speak TLS: ${(e as Error).message.split('\n')[0]}`);
  }
  process.env['LAB_REDIS_CA'] = ca;
  try {
    assert.match(locked.url, /^rediss:\/\//);
    const { r } = await loadThrough(locked.url, 'tls1', { LAB_REDIS_CA: ca });
    assertUndisturbed(r);
    await assertNodesShare(locked.url);
  } finally {
    delete process.env['LAB_REDIS_CA'];
    await locked.stop();
  }
});

test('bench speaks to agents only with a secret, and keeps it and Redis passwords out of what it records', { timeout: 60_000 }, () => {
  const { LAB_AGENT_SECRET: _, ...env } = process.env;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', `${ROOT}run.ts`, 'bench', '--agents', 'a1', '--redis', 'redis://127.0.0.1:1', '--out', path.join(DIR, 'out')],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--agents needs --secret S \(or LAB_AGENT_SECRET\): the secret the agents were started with/);
  const recorded = redactArgs(['--agents', 'a1', '--secret', SECRET, '--redis', 'rediss://lab:hunter2hunter2@redis.example:6380', `--secret=${SECRET}`]).join(
    ' ',
  );
  assert.equal(recorded, '--agents a1 --secret … --redis rediss://…@redis.example:6380 --secret=…');
});
