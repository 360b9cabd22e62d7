/**
 * Server CPU per echoed message at a fixed open-loop rate, the figure of PERF.md: a bare echo
 * server (the engine, `ws`, or raw `node:net` as the ceiling) in a child process pinned to one
 * core, a client here pinned to another, N connections, one 64 B message per write (a `ws`
 * client sending one frame per send, as browsers do; raw sockets for `net`, which echoes
 * bytes as they come), server CPU read from /proc/<pid>/stat around the measured window.
 *
 *   npx tsx bench/fixed-echo.ts [--server engine|ws|net] [--rate 20000] [--conns 50] [--size 64]
 *                               [--seconds 5] [--warmup 2] [--trials 3] [--cpus 1,0]
 *
 * Prints one line per trial and the median. Loopback only, bounded in time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../protocol/server.ts';
import type { WebSocketConnection } from '../protocol/connection.ts';
import { processCpuMs } from '../metrics/process.ts';

const { values: a } = parseArgs({
  options: {
    serve: { type: 'string' },
    server: { type: 'string', default: 'engine' },
    rate: { type: 'string', default: '20000' },
    conns: { type: 'string', default: '50' },
    size: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    trials: { type: 'string', default: '3' },
    cpus: { type: 'string', default: '1,0' },
  },
});

/** Child mode: a bare echo server; prints its port. */
function serve(kind: string): void {
  // Exit (not die) on SIGTERM, so a `--cpu-prof` run of this child writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  if (kind === 'net') {
    // The ceiling: what one read and one write per message cost in Node, with no framing at all.
    const server = createNetServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
    return;
  }
  const http = createServer();
  if (kind === 'ws') {
    const wss = new WsServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  } else {
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (c: WebSocketConnection) => c.on('message', (d: Buffer, isBinary: boolean) => c.send(d, { binary: isBinary })));
  }
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${(http.address() as AddressInfo).port}\n`));
}

/** utime + stime of a process, in seconds. */
const cpuSeconds = (pid: number): number => processCpuMs(pid) / 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function trial(): Promise<{ usPerMsg: number; sent: number; echoed: number; lateMs: number }> {
  const [serverCpu, clientCpu] = (a.cpus ?? '1,0').split(',');
  const self = fileURLToPath(import.meta.url);
  const child = spawn('taskset', ['-c', serverCpu!, process.execPath, '--import', 'tsx', self, '--serve', a.server!], { stdio: ['ignore', 'pipe', 'inherit'] });
  spawnSync('taskset', ['-cp', clientCpu!, String(process.pid)], { stdio: 'ignore' });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const conns = Number(a.conns);
  const size = Number(a.size);
  const sockets: Array<{ send(b: Buffer): void; terminate(): void }> = [];
  let echoed = 0;
  for (let i = 0; i < conns; i++) {
    if (a.server === 'net') {
      const s: Socket = netConnect(port, '127.0.0.1');
      s.setNoDelay(true);
      let bytes = 0;
      s.on('data', (d: Buffer) => {
        bytes += d.length;
        while (bytes >= size) {
          bytes -= size;
          echoed++;
        }
      });
      await new Promise((r) => s.once('connect', r));
      sockets.push({ send: (b) => s.write(b), terminate: () => s.destroy() });
      continue;
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    ws.on('message', () => echoed++);
    await new Promise((r) => ws.once('open', r));
    sockets.push({ send: (b) => ws.send(b, { binary: true }), terminate: () => ws.terminate() });
  }
  const payload = Buffer.alloc(size, 0x61);
  const rate = Number(a.rate);
  const start = performance.now();
  const end = start + (Number(a.warmup) + Number(a.seconds)) * 1000;
  let sent = 0;
  let lateMs = 0;
  let cpu0 = 0;
  let sent0 = 0;
  let echoed0 = 0;
  let measuring = false;
  // Open loop: every millisecond, send what the schedule owes, one frame per send, round robin.
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (!measuring && now - start >= Number(a.warmup) * 1000) {
        measuring = true;
        cpu0 = cpuSeconds(child.pid!);
        sent0 = sent;
        echoed0 = echoed;
      }
      const owed = Math.floor(((now - start) / 1000) * rate) - sent;
      if (owed * 1000 > rate) lateMs = Math.max(lateMs, (owed / rate) * 1000);
      for (let i = 0; i < owed; i++) sockets[sent++ % conns]!.send(payload);
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await sleep(200);
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const n = echoed - echoed0;
  for (const s of sockets) s.terminate();
  child.kill();
  return { usPerMsg: (cpu / n) * 1e6, sent: sent - sent0, echoed: n, lateMs };
}

if (a.serve !== undefined) {
  serve(a.serve);
} else {
  const results: number[] = [];
  for (let t = 0; t < Number(a.trials); t++) {
    const r = await trial();
    results.push(r.usPerMsg);
    console.log(
      `${a.server} trial ${t + 1}: ${r.usPerMsg.toFixed(1)} µs server CPU per message (${r.echoed} echoed of ${r.sent} sent in the window, client late by up to ${r.lateMs.toFixed(0)} ms)`,
    );
  }
  results.sort((x, y) => x - y);
  console.log(
    `${a.server}: median ${results[Math.floor(results.length / 2)]!.toFixed(1)} µs per message at ${a.rate} msg/s over ${a.conns} connections, ${a.size} B`,
  );
  process.exit(0);
}
