/**
 * Server CPU per echoed message at a fixed open-loop rate, outside the lab's runner: none of its
 * load child or clients. The server runs in a child process pinned to one CPU; this process is
 * the client, pinned to another: plain `ws` clients, one frame per `send` as browsers do (raw
 * sockets for the `net` servers, which echo bytes as they come), an open-loop rate spread over
 * the connections, every echo counted. Server CPU (and its kernel share) comes from
 * /proc/<pid>/stat over the measured window; each server's figure is the median of its trials.
 * The load's own CPU per echo (this process's, over the same window) is printed beside it: a load
 * that costs as much as the server could not saturate it.
 *
 * Two kinds of server:
 * - by default, the lab's own `run.ts serve <transport>` (`--servers websocket,ws`): an
 *   independent check of the lab's `fixedCpuUsPerMessage`;
 * - with `--bare`, bare echo servers with nothing of the lab around them (bench/bare-echo.ts):
 *   `engine`, `engine-stream` (the engine on Node's streams), `ws`, and raw `node:net` as the
 *   ceiling: `net`, and `net-onread`, `net-direct`, `net-onread-direct` below the stream layer.
 *
 *   npm run bench:fixed -- [--servers websocket,ws] [--bare] [--rate 10000] [--connections 50]
 *                          [--size 64] [--seconds 10] [--warmup 2] [--trials 5]
 *                          [--server-cpu 1] [--client-cpu 0] [--cpu-prof-dir DIR] [--json FILE]
 *
 * Several servers take turns, trial by trial. Loopback only, bounded in time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../servers/ports.ts';
import { num, parse, scriptArgs, UsageError } from '../args.ts';
import { processCpuTimes } from '../metrics/process.ts';
import { tasksetAvailable } from '../runner/cpus.ts';
import { pairedRatio } from '../report-model/trials.ts';
import { median } from '../runner/repeat.ts';
import { BARE_SERVERS, type BareServer, isRawTcp } from './bare-echo.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const { args, bare, servers, rate, connections, size, seconds, warmup, trials } = scriptArgs('bench:fixed', () => {
  const { values: args } = parse(
    process.argv.slice(2),
    {
      servers: { type: 'string' },
      bare: { type: 'boolean' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      size: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      trials: { type: 'string' },
      'server-cpu': { type: 'string' },
      'client-cpu': { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      json: { type: 'string' },
    },
    false,
  );
  const bare = args.bare === true;
  const servers = (args.servers ?? (bare ? 'engine,ws' : 'websocket,ws')).split(',').filter(Boolean);
  for (const s of servers) {
    if (bare && !(BARE_SERVERS as readonly string[]).includes(s))
      throw new UsageError(`--servers: "${s}" is not a bare server (with --bare: ${BARE_SERVERS.join(', ')})`);
    if (!bare && !/^[a-z][a-z0-9-]*$/.test(s)) throw new UsageError(`--servers: "${s}" is not a transport name`);
  }
  return {
    args,
    bare,
    servers,
    rate: num(args.rate, 'rate', 10_000, { min: 1 }),
    connections: Math.round(num(args.connections, 'connections', 50, { min: 1 })),
    size: Math.round(num(args.size, 'size', 64, { min: 1 })),
    seconds: num(args.seconds, 'seconds', 10, { min: 0.1 }),
    warmup: num(args.warmup, 'warmup', 2, { min: 0 }),
    trials: Math.round(num(args.trials, 'trials', 5, { min: 1 })),
  };
});
const serverCpu = args['server-cpu'] ?? '1';
const clientCpu = args['client-cpu'] ?? '0';
const profile = args['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(args['cpu-prof-dir'])];

const pinned = tasksetAvailable();

/** Spawns a node program on the server's CPU. */
function spawnServer(program: string[]): ChildProcess {
  const node = [process.execPath, ...profile, '--import', 'tsx', ...program];
  const [cmd, ...rest] = pinned ? ['taskset', '-c', serverCpu, ...node] : node;
  return spawn(cmd!, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves once the child's stdout shows `ready` (which returns what it read, or undefined to wait on); rejects when it exits or takes 30 s. */
function awaitReady<T>(child: ChildProcess, name: string, ready: (out: string) => T | undefined): Promise<T> {
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise<T>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const r = ready(out);
      if (r !== undefined) resolve(r);
    });
    child.once('exit', (code) => reject(new Error(`the ${name} server exited (${code}): ${err.trim().split('\n').pop() ?? ''}`)));
    setTimeout(() => reject(new Error(`the ${name} server did not start within 30 s`)), 30_000).unref();
  });
}

/** Starts the server of one trial: `run.ts serve <transport>` on a free port, or a bare echo server, which picks its own. */
async function startServer(name: string): Promise<{ child: ChildProcess; port: number }> {
  if (bare) {
    const child = spawnServer(['bench/bare-echo.ts', name]);
    const port = await awaitReady(child, name, (out) => (/^\d+\n/.test(out) ? Number.parseInt(out, 10) : undefined));
    return { child, port };
  }
  const port = await freePort();
  const child = spawnServer(['run.ts', 'serve', name, '--port', String(port), '--heartbeat', '0']);
  await awaitReady(child, name, (out) => (out.includes('listening') ? true : undefined));
  return { child, port };
}

/** One connection of the load: send one message, end. */
interface Sender {
  send(b: Buffer): void;
  end(): void;
}

/** Opens the load's connections: raw sockets that count echoed bytes for a `net` server, `ws` clients otherwise. */
async function openConnections(name: string, port: number, onEcho: () => void): Promise<Sender[]> {
  if (bare && isRawTcp(name as BareServer)) {
    return Promise.all(
      Array.from({ length: connections }, async () => {
        const s: Socket = netConnect(port, '127.0.0.1');
        s.setNoDelay(true);
        // The raw echo gives bytes back as they come: a message is echoed once `size` more bytes are back.
        let bytes = 0;
        s.on('data', (d: Buffer) => {
          bytes += d.length;
          for (; bytes >= size; bytes -= size) onEcho();
        });
        await new Promise<void>((resolve, reject) => {
          s.once('connect', resolve);
          s.once('error', reject);
        });
        return { send: (b) => void s.write(b), end: () => s.destroy() };
      }),
    );
  }
  return Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/?client=h${i}`, { perMessageDeflate: false });
      ws.on('message', onEcho);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return { send: (b) => ws.send(b, { binary: bare }), end: () => ws.terminate() };
    }),
  );
}

/** What one trial measured. */
interface Trial {
  /** Server CPU µs per echoed message in the window, and the kernel's part of it. */
  cpuUsPerMessage: number;
  kernelUsPerMessage: number;
  /** This process's (the load's) CPU µs per echoed message over the same window. */
  loadCpuUsPerMessage: number;
  echoes: number;
  /** Server CPU, percent of one core. */
  serverCpuPct: number;
  sentPerSec: number;
  /** How far the client's sending fell behind its schedule at worst, ms. */
  lateMs: number;
}

/** One trial: fresh server, `connections` clients, warm-up, then the measured window. */
async function trial(name: string): Promise<Trial> {
  const { child: server, port } = await startServer(name);
  let senders: Sender[] = [];
  try {
    let echoes = 0;
    senders = await openConnections(name, port, () => void echoes++);
    // The lab's served transports read text; the bare servers echo whatever comes.
    const payload = Buffer.alloc(size, 0x78);
    // Open loop: each millisecond tick sends what the schedule owes by now, round robin, one frame per send.
    let sent = 0;
    let lateMs = 0;
    const t0 = performance.now();
    const timer = setInterval(() => {
      const owed = Math.floor(((performance.now() - t0) / 1000) * rate) - sent;
      if (owed * 1000 > rate) lateMs = Math.max(lateMs, (owed / rate) * 1000);
      for (let i = 0; i < owed; i++) senders[sent++ % connections]!.send(payload);
    }, 1);
    await new Promise((r) => setTimeout(r, warmup * 1000));
    const pid = server.pid!;
    const cpu0 = processCpuTimes(pid);
    // This process is the load: its own CPU over the same window, beside the server's.
    const load0 = process.cpuUsage();
    const echoes0 = echoes;
    const sent0 = sent;
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu1 = processCpuTimes(pid);
    const load = process.cpuUsage(load0);
    const got = echoes - echoes0;
    const wall = performance.now() - w0;
    const sentInWindow = sent - sent0;
    clearInterval(timer);
    const cpuMs = cpu1.userMs + cpu1.systemMs - cpu0.userMs - cpu0.systemMs;
    return {
      cpuUsPerMessage: got > 0 ? (cpuMs * 1000) / got : Number.NaN,
      kernelUsPerMessage: got > 0 ? ((cpu1.systemMs - cpu0.systemMs) * 1000) / got : Number.NaN,
      loadCpuUsPerMessage: got > 0 ? (load.user + load.system) / got : Number.NaN,
      echoes: got,
      serverCpuPct: (cpuMs / wall) * 100,
      sentPerSec: (sentInWindow / wall) * 1000,
      lateMs,
    };
  } finally {
    for (const s of senders) s.end();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
  }
}

if (pinned) execFileSync('taskset', ['-a', '-c', '-p', clientCpu, String(process.pid)], { stdio: 'ignore' });
console.log(
  `fixed load: ${rate} msg/s over ${connections} connections, ${size} B, ${seconds} s after ${warmup} s warm-up, ${trials} trial(s), ${bare ? 'bare echo servers' : 'served by run.ts serve'}; ` +
    (pinned ? `server on CPU ${serverCpu}, client on CPU ${clientCpu}` : 'taskset not available: not pinned'),
);
const out: Record<
  string,
  { trials: number[]; median: number; min: number; max: number; kernelMedian: number; serverCpuPct: number; loadTrials: number[]; loadMedian: number }
> = {};
// Servers alternate trial by trial so a slow stretch of the machine hits both alike.
const perServer = new Map<string, Trial[]>(servers.map((s) => [s, []]));
for (let k = 0; k < trials; k++) {
  for (const s of servers) {
    const r = await trial(s);
    perServer.get(s)!.push(r);
    console.log(
      `  ${s} trial ${k + 1}: ${r.cpuUsPerMessage.toFixed(2)} µs/msg, ${r.kernelUsPerMessage.toFixed(2)} of it in the kernel, load ${r.loadCpuUsPerMessage.toFixed(2)} µs/msg (${r.echoes} echoes, server CPU ${r.serverCpuPct.toFixed(1)}%, sent ${Math.round(r.sentPerSec)} msg/s, client late by up to ${r.lateMs.toFixed(0)} ms)`,
    );
  }
}
for (const [s, rs] of perServer) {
  const xs = rs.map((r) => r.cpuUsPerMessage);
  const kernel = median(rs.map((r) => r.kernelUsPerMessage));
  const user = median(rs.map((r) => r.cpuUsPerMessage - r.kernelUsPerMessage));
  const ls = rs.map((r) => r.loadCpuUsPerMessage);
  out[s] = {
    trials: xs,
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    kernelMedian: kernel,
    serverCpuPct: median(rs.map((r) => r.serverCpuPct)),
    loadTrials: ls,
    loadMedian: median(ls),
  };
  console.log(
    `${s}: median ${median(xs).toFixed(2)} µs/msg (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}; user ${user.toFixed(2)}, kernel ${kernel.toFixed(2)}); ` +
      `load median ${median(ls).toFixed(2)} µs/msg (${Math.min(...ls).toFixed(2)}–${Math.max(...ls).toFixed(2)}), ${(median(ls) / median(xs)).toFixed(2)}× the server's`,
  );
}
if (servers.length === 2) {
  const [a, b] = servers as [string, string];
  console.log(`${a}/${b}: ${(out[a]!.median / out[b]!.median).toFixed(2)}× the server CPU per message`);
  // Trial k of both ran back to back: their ratio pair by pair, as the lab's findings take it.
  const p = pairedRatio(out[a]!.trials, out[b]!.trials);
  if (p) console.log(`${a}/${b} trial by trial: ${p.low.toFixed(2)}–${p.high.toFixed(2)}× (95 % interval over ${p.pairs} pairs)`);
}
if (args.json) writeFileSync(args.json, `${JSON.stringify({ rate, connections, size, seconds, warmup, pinned, bare, servers: out }, null, 2)}\n`);
