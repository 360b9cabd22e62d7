/**
 * An independent check of the lab's "server CPU µs per message at a fixed
 * load": none of the lab's runner, load child or clients. The server is the
 * lab's own `run.ts serve <transport>` pinned to one CPU; this process is the
 * client, pinned to another: plain `ws` clients, one frame per `send`, an
 * open-loop rate spread over the connections, every echo counted. Server CPU
 * comes from /proc/<pid>/stat over the measured window; each server's figure
 * is the median of its trials. The load's own CPU per echo (this process's, over the same window)
 * is printed beside it: a load that costs as much as the server could not saturate it.
 *
 *   npm run bench:fixed -- [--servers websocket,ws] [--rate 10000] [--connections 50]
 *                          [--size 64] [--seconds 10] [--warmup 2] [--trials 5]
 *                          [--server-cpu 1] [--client-cpu 0] [--json FILE]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort } from '../servers/ports.ts';
import path from 'node:path';
import WebSocket from 'ws';
import { num, parse, scriptArgs, UsageError } from '../args.ts';
import { processCpuMs } from '../metrics/process.ts';
import { tasksetAvailable } from '../runner/cpus.ts';
import { pairedRatio } from '../report-model/trials.ts';
import { median } from '../runner/repeat.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const { args, servers, rate, connections, size, seconds, warmup, trials } = scriptArgs('bench:fixed', () => {
  const { values: args } = parse(
    process.argv.slice(2),
    {
      servers: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      size: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      trials: { type: 'string' },
      'server-cpu': { type: 'string' },
      'client-cpu': { type: 'string' },
      json: { type: 'string' },
    },
    false,
  );
  const servers = (args.servers ?? 'websocket,ws').split(',').filter(Boolean);
  for (const s of servers) if (!/^[a-z][a-z0-9-]*$/.test(s)) throw new UsageError(`--servers: "${s}" is not a transport name`);
  return {
    args,
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

const pinned = tasksetAvailable();

/** Starts `run.ts serve <transport>` on its CPU; resolves once it says it listens. */
async function startServer(transport: string, port: number): Promise<ChildProcess> {
  const node = [process.execPath, '--import', 'tsx', 'run.ts', 'serve', transport, '--port', String(port), '--heartbeat', '0'];
  const [cmd, ...rest] = pinned ? ['taskset', '-c', serverCpu, ...node] : node;
  const child = spawn(cmd!, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the ${transport} server exited (${code}): ${err.trim().split('\n').pop() ?? ''}`)));
    setTimeout(() => reject(new Error(`the ${transport} server did not start within 30 s`)), 30_000).unref();
  });
  return child;
}

/** One trial: fresh server, `connections` clients, warm-up, then the measured window. */
async function trial(
  transport: string,
): Promise<{ cpuUsPerMessage: number; loadCpuUsPerMessage: number; echoes: number; serverCpuPct: number; sentPerSec: number }> {
  const port = await freePort();
  const server = await startServer(transport, port);
  const sockets: WebSocket[] = [];
  try {
    await Promise.all(
      Array.from({ length: connections }, (_, i) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/?client=h${i}`, { perMessageDeflate: false });
        sockets.push(ws);
        return new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      }),
    );
    let echoes = 0;
    for (const ws of sockets) ws.on('message', () => void echoes++);
    const payload = 'x'.repeat(size);
    // Open loop: each millisecond tick sends what the schedule owes by now, round robin, one frame per send.
    let sent = 0;
    let next = 0;
    const t0 = performance.now();
    const timer = setInterval(() => {
      const owed = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; sent < owed; sent++) {
        sockets[next]!.send(payload);
        next = (next + 1) % connections;
      }
    }, 1);
    await new Promise((r) => setTimeout(r, warmup * 1000));
    const pid = server.pid!;
    const cpu0 = processCpuMs(pid);
    // This process is the load: its own CPU over the same window, beside the server's.
    const load0 = process.cpuUsage();
    const echoes0 = echoes;
    const sent0 = sent;
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu1 = processCpuMs(pid);
    const load = process.cpuUsage(load0);
    const echoes1 = echoes;
    const wall = performance.now() - w0;
    const sentInWindow = sent - sent0;
    clearInterval(timer);
    const got = echoes1 - echoes0;
    return {
      cpuUsPerMessage: got > 0 ? ((cpu1 - cpu0) * 1000) / got : Number.NaN,
      loadCpuUsPerMessage: got > 0 ? (load.user + load.system) / got : Number.NaN,
      echoes: got,
      serverCpuPct: ((cpu1 - cpu0) / wall) * 100,
      sentPerSec: (sentInWindow / wall) * 1000,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
  }
}

if (pinned) execFileSync('taskset', ['-a', '-c', '-p', clientCpu, String(process.pid)], { stdio: 'ignore' });
console.log(
  `fixed load: ${rate} msg/s over ${connections} connections, ${size} B, ${seconds} s after ${warmup} s warm-up, ${trials} trial(s); ` +
    (pinned ? `server on CPU ${serverCpu}, client on CPU ${clientCpu}` : 'taskset not available: not pinned'),
);
const out: Record<string, { trials: number[]; median: number; min: number; max: number; serverCpuPct: number; loadTrials: number[]; loadMedian: number }> = {};
// Servers alternate trial by trial so a slow stretch of the machine hits both alike.
const perServer = new Map<string, Awaited<ReturnType<typeof trial>>[]>(servers.map((s) => [s, []]));
for (let k = 0; k < trials; k++) {
  for (const s of servers) {
    const r = await trial(s);
    perServer.get(s)!.push(r);
    console.log(
      `  ${s} trial ${k + 1}: ${r.cpuUsPerMessage.toFixed(2)} µs/msg, load ${r.loadCpuUsPerMessage.toFixed(2)} µs/msg (${r.echoes} echoes, server CPU ${r.serverCpuPct.toFixed(1)}%, sent ${Math.round(r.sentPerSec)} msg/s)`,
    );
  }
}
for (const [s, rs] of perServer) {
  const xs = rs.map((r) => r.cpuUsPerMessage);
  const ls = rs.map((r) => r.loadCpuUsPerMessage);
  out[s] = {
    trials: xs,
    median: median(xs),
    min: Math.min(...xs),
    max: Math.max(...xs),
    serverCpuPct: median(rs.map((r) => r.serverCpuPct)),
    loadTrials: ls,
    loadMedian: median(ls),
  };
  console.log(
    `${s}: median ${median(xs).toFixed(2)} µs/msg (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}); ` +
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
if (args.json) writeFileSync(args.json, `${JSON.stringify({ rate, connections, size, seconds, warmup, pinned, servers: out }, null, 2)}\n`);
