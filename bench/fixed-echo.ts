/**
 * Server CPU per echoed message at a fixed open-loop rate, the figure of PERF.md: a bare echo
 * server (the engine, `ws`, or raw `node:net` as the ceiling) in a child process pinned to one
 * core, a client here pinned to another, N connections, one 64 B message per write (a `ws`
 * client sending one frame per send, as browsers do; raw sockets for `net`, which echoes
 * bytes as they come), server CPU read from /proc/<pid>/stat around the measured window.
 *
 *   npx tsx bench/fixed-echo.ts [--server engine|engine-stream|ws|net|net-onread|net-direct|net-onread-direct]
 *                               [--rate 20000] [--conns 50] [--size 64]
 *                               [--seconds 5] [--warmup 2] [--trials 3] [--cpus 1,0] [--cpu-prof-dir DIR]
 *
 * `--server a,b` runs the servers in turns, trial by trial. Prints one line per trial and the
 * medians (total, user, kernel). Loopback only, bounded in time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, Socket as NetSocket, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../protocol/server.ts';
import type { WebSocketConnection } from '../protocol/connection.ts';
import { processCpuMs, processCpuTimes } from '../metrics/process.ts';
import { median } from '../runner/repeat.ts';

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
    'cpu-prof-dir': { type: 'string' },
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
  if (kind.startsWith('net-')) {
    serveBelowStream(kind);
    return;
  }
  const http = createServer();
  if (kind === 'ws') {
    const wss = new WsServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  } else {
    const wss = new WebSocketServer({ server: http, socketIo: kind === 'engine-stream' ? 'stream' : 'handle' });
    wss.on('connection', (c: WebSocketConnection) => c.on('message', (d: Buffer, isBinary: boolean) => c.send(d, { binary: isBinary })));
  }
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${(http.address() as AddressInfo).port}\n`));
}

/**
 * The raw echo below Node's stream layer, to see what that layer costs per message:
 * - `net-onread`: the accepted socket's handle re-wrapped in a `net.Socket` with `onread`, so each
 *   read lands in one reused buffer and calls back, without a Buffer, a Readable push or a
 *   'data' event; writes still go through `socket.write`;
 * - `net-direct`: 'data' events as `net`, but each write goes straight to the handle
 *   (`writeBuffer` with a WriteWrap), without Writable.write and its after-write tick;
 * - `net-onread-direct`: both.
 * Harness only: no backpressure, a write the kernel did not take at once keeps its buffer.
 */
function serveBelowStream(kind: string): void {
  const onread = kind.includes('onread');
  const direct = kind.includes('direct');
  // process.binding is deprecated, but it is the only way user code reaches WriteWrap.
  const sw = (process as unknown as { binding(name: string): Record<string, unknown> }).binding('stream_wrap') as {
    WriteWrap: new () => Record<string, unknown>;
    streamBaseState: Int32Array;
    kLastWriteWasAsync: number;
  };
  type Handle = { writeBuffer(req: object, b: Uint8Array): number };
  // A write that completes synchronously never binds its request object, so one spare serves them all.
  let spare = new sw.WriteWrap();
  const onComplete = (): void => {};
  const writeDirect = (handle: Handle, b: Buffer): void => {
    const req = spare;
    req.handle = handle;
    req.oncomplete = onComplete;
    const err = handle.writeBuffer(req, b);
    if (err !== 0) throw new Error(`write failed: ${err}`);
    if (sw.streamBaseState[sw.kLastWriteWasAsync] !== 0) {
      req.buffer = b;
      spare = new sw.WriteWrap();
    }
  };
  const server = createNetServer({ pauseOnConnect: onread }, (accepted) => {
    let socket: Socket = accepted;
    if (onread) {
      const internal = accepted as unknown as { _handle: unknown };
      const handle = internal._handle;
      internal._handle = null;
      const buffer = Buffer.allocUnsafe(64 * 1024);
      socket = new NetSocket({
        handle,
        onread: {
          buffer,
          callback: (n: number): boolean => {
            // The read buffer is reused: what leaves must be a copy.
            const out = Buffer.allocUnsafe(n);
            buffer.copy(out, 0, 0, n);
            if (direct) writeDirect((socket as unknown as { _handle: Handle })._handle, out);
            else socket.write(out);
            // false would pause the socket; reading goes on.
            return true;
          },
        },
      } as ConstructorParameters<typeof NetSocket>[0]);
      socket.once('close', () => accepted.destroy());
    } else {
      socket.on('data', (d: Buffer) => writeDirect((socket as unknown as { _handle: Handle })._handle, d));
    }
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
}

/** utime + stime of a process, in seconds. */
const cpuSeconds = (pid: number): number => processCpuMs(pid) / 1000;

/** System time alone, in seconds: the kernel's share (syscalls, loopback TCP), which no JS change removes. */
const sysSeconds = (pid: number): number => processCpuTimes(pid).systemMs / 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function trial(server: string): Promise<{ usPerMsg: number; sysUsPerMsg: number; sent: number; echoed: number; lateMs: number }> {
  const [serverCpu, clientCpu] = (a.cpus ?? '1,0').split(',');
  const self = fileURLToPath(import.meta.url);
  const prof = a['cpu-prof-dir'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', a['cpu-prof-dir']];
  const child = spawn('taskset', ['-c', serverCpu!, process.execPath, ...prof, '--import', 'tsx', self, '--serve', server], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  spawnSync('taskset', ['-cp', clientCpu!, String(process.pid)], { stdio: 'ignore' });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const conns = Number(a.conns);
  const size = Number(a.size);
  const sockets: Array<{ send(b: Buffer): void; terminate(): void }> = [];
  let echoed = 0;
  for (let i = 0; i < conns; i++) {
    if (server.startsWith('net')) {
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
  let sys0 = 0;
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
        sys0 = sysSeconds(child.pid!);
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
  const sys = sysSeconds(child.pid!) - sys0;
  const n = echoed - echoed0;
  for (const s of sockets) s.terminate();
  child.kill();
  return { usPerMsg: (cpu / n) * 1e6, sysUsPerMsg: (sys / n) * 1e6, sent: sent - sent0, echoed: n, lateMs };
}

if (a.serve !== undefined) {
  serve(a.serve);
} else {
  // Several servers take turns, trial by trial (A B A B …): the machine drifts, and a comparison
  // of neighbours holds where one of runs minutes apart does not.
  const servers = a.server!.split(',');
  const results = new Map<string, Array<{ total: number; kernel: number }>>(servers.map((s) => [s, []]));
  for (let t = 0; t < Number(a.trials); t++) {
    for (const server of servers) {
      const r = await trial(server);
      results.get(server)!.push({ total: r.usPerMsg, kernel: r.sysUsPerMsg });
      console.log(
        `${server} trial ${t + 1}: ${r.usPerMsg.toFixed(1)} µs server CPU per message, ${r.sysUsPerMsg.toFixed(1)} of it in the kernel (${r.echoed} echoed of ${r.sent} sent in the window, client late by up to ${r.lateMs.toFixed(0)} ms)`,
      );
    }
  }
  for (const [server, rs] of results) {
    console.log(
      `${server}: median ${median(rs.map((r) => r.total)).toFixed(1)} µs per message (user ${median(rs.map((r) => r.total - r.kernel)).toFixed(1)}, kernel ${median(rs.map((r) => r.kernel)).toFixed(1)}) at ${a.rate} msg/s over ${a.conns} connections, ${a.size} B`,
    );
  }
  process.exit(0);
}
