/**
 * Server push to one client as fast as the server can go, in messages per server CPU second:
 * against the raw `node:net` ceiling. The server is a
 * child pinned to one CPU; the client here (pinned to another) is a raw socket that only reads
 * and counts bytes, so it costs the server nothing beyond TCP. The server pushes 64-message
 * rounds, each on its own event-loop turn, and waits for 'drain' when its socket queue is full:
 *
 * - `batched`: the round's 64 sends sit between `cork()` and `uncork()` (one write leaves);
 * - `single`: each send is its own write, as an application that sends one message per event.
 *
 * CPU is the server process's own (`process.cpuUsage`, every thread) over the measured window;
 * the client checks that every byte the server counted arrived.
 *
 *   npm run bench:push -- [--servers net,ws,websocket] [--modes batched,single] [--size 64]
 *                         [--seconds 3] [--warmup 1] [--trials 3] [--cpus 1,0] [--json FILE]
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { list, num, parse, scriptArgs } from '../args.ts';
import { makeKey } from '../protocol/handshake.ts';
import { WebSocketServer } from '../protocol/server.ts';
import type { WebSocketConnection } from '../protocol/connection.ts';
import { tasksetAvailable } from '../runner/cpus.ts';
import { median } from '../runner/repeat.ts';

const SERVERS = ['net', 'ws', 'websocket'] as const;
const MODES = ['batched', 'single'] as const;
type Kind = (typeof SERVERS)[number];
type Mode = (typeof MODES)[number];
/** Sends per round: one round per event-loop turn. */
const ROUND = 64;

const { a } = scriptArgs('bench:push', () => {
  const { values } = parse(
    process.argv.slice(2),
    {
      serve: { type: 'string' },
      mode: { type: 'string' },
      servers: { type: 'string' },
      modes: { type: 'string' },
      size: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      trials: { type: 'string' },
      cpus: { type: 'string' },
      json: { type: 'string' },
    },
    false,
  );
  return {
    a: {
      serve: values.serve as Kind | undefined,
      mode: (values.mode ?? 'batched') as Mode,
      servers: list(values.servers, 'servers', SERVERS, SERVERS),
      modes: list(values.modes, 'modes', MODES, MODES),
      size: num(values.size, 'size', 64, { min: 1, max: 65536, integer: true }),
      seconds: num(values.seconds, 'seconds', 3, { min: 0.2, max: 120 }),
      warmup: num(values.warmup, 'warmup', 1, { min: 0, max: 60 }),
      trials: num(values.trials, 'trials', 3, { min: 1, max: 50, integer: true }),
      cpus: values.cpus ?? '1,0',
      json: values.json,
    },
  };
});

/** What a server pushes through: one send, and the cork pair around a batch. */
interface Pusher {
  send(payload: Buffer): boolean;
  cork(): void;
  uncork(): void;
  /** Calls back once the queue went below the high-water mark again. */
  onDrain(cb: () => void): void;
  /** Half-closes after everything sent; `closed` runs when the socket is gone. */
  end(closed: () => void): void;
}

/** 'drain' and the end of a server whose every byte goes through the socket's stream. */
function viaSocket(socket: Socket): Pick<Pusher, 'onDrain' | 'end'> {
  return {
    onDrain: (cb) => socket.once('drain', cb),
    end: (closed) => {
      socket.end();
      socket.once('close', closed);
    },
  };
}

/** Child mode: one server of `kind`; pushes to its first client for warm-up + seconds, then reports. */
function serve(kind: Kind, mode: Mode): void {
  const payload = Buffer.alloc(a.size, 0x61);
  const start = (p: Pusher): void => {
    let sent = 0;
    let sent0 = 0;
    let cpu0 = process.cpuUsage();
    let t0 = performance.now();
    const began = performance.now();
    let measuring = false;
    const round = (): void => {
      const now = performance.now();
      if (!measuring && now - began >= a.warmup * 1000) {
        measuring = true;
        sent0 = sent;
        cpu0 = process.cpuUsage();
        t0 = now;
      }
      if (measuring && now - t0 >= a.seconds * 1000) {
        const cpu = process.cpuUsage(cpu0);
        const report = { sent: sent - sent0, cpuUs: cpu.user + cpu.system, wallMs: now - t0, total: sent };
        process.stdout.write(`${JSON.stringify(report)}\n`);
        // Exit on its own (not killed), so a `--cpu-prof` run of this child writes its profile.
        p.end(() => process.exit(0));
        return;
      }
      let ok = true;
      if (mode === 'batched') p.cork();
      for (let i = 0; i < ROUND; i++) ok = p.send(payload);
      if (mode === 'batched') p.uncork();
      sent += ROUND;
      if (ok) setImmediate(round);
      else p.onDrain(() => setImmediate(round));
    };
    round();
  };
  if (kind === 'net') {
    const server = createNetServer((socket) => {
      socket.setNoDelay(true);
      start({ send: (b) => socket.write(b), cork: () => socket.cork(), uncork: () => socket.uncork(), ...viaSocket(socket) });
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
    return;
  }
  const http = createHttpServer();
  if (kind === 'ws') {
    const wss = new WsServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws: WsSocket, req: IncomingMessage) => {
      const socket = req.socket;
      start({
        send: (b) => {
          ws.send(b);
          return socket.writableLength < socket.writableHighWaterMark;
        },
        cork: () => socket.cork(),
        uncork: () => socket.uncork(),
        ...viaSocket(socket),
      });
    });
  } else {
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (c: WebSocketConnection) => {
      const socket = c.rawSocket as Socket;
      // The engine may queue below the socket (its handle path): 'drain' and the end go through it.
      const end = (closed: () => void): void => {
        if (c.bufferedAmount > 0) setTimeout(() => end(closed), 1);
        else viaSocket(socket).end(closed);
      };
      start({ send: (b) => c.send(b), cork: () => c.cork(), uncork: () => c.uncork(), onDrain: (cb) => c.once('drain', cb), end });
    });
  }
  http.listen(0, '127.0.0.1', () => process.stdout.write(`${(http.address() as AddressInfo).port}\n`));
}

const pinned = a.serve === undefined && tasksetAvailable();

/** Bytes one message takes on the wire from this server. */
function wireBytes(kind: Kind): number {
  if (kind === 'net') return a.size;
  return a.size + (a.size < 126 ? 2 : 4);
}

/** One trial: a fresh server child; resolves with its report once the client saw every byte. */
async function trial(kind: Kind, mode: Mode): Promise<{ perCoreSec: number; cpuPct: number; sent: number }> {
  const [serverCpu] = a.cpus.split(',');
  const self = fileURLToPath(import.meta.url);
  const node = [
    process.execPath,
    '--import',
    'tsx',
    self,
    '--serve',
    kind,
    '--mode',
    mode,
    '--size',
    String(a.size),
    '--seconds',
    String(a.seconds),
    '--warmup',
    String(a.warmup),
  ];
  const [cmd, ...args] = pinned ? ['taskset', '-c', serverCpu!, ...node] : node;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffered = '';
  let wake: (() => void) | undefined;
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
    wake?.();
  });
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((r) => (wake = r));
    return lines.shift()!;
  };
  try {
    const port = Number(await nextLine());
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let received = 0;
    let headEnd = kind === 'net' ? 0 : -1;
    let head = '';
    socket.on('data', (d: Buffer) => {
      if (headEnd < 0) {
        head += d.toString('latin1');
        const at = head.indexOf('\r\n\r\n');
        if (at < 0) return;
        headEnd = at + 4;
        received += Buffer.byteLength(head, 'latin1') - headEnd;
        return;
      }
      received += d.length;
    });
    if (kind !== 'net') {
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${makeKey()}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    }
    const report = JSON.parse(await nextLine()) as { sent: number; cpuUs: number; wallMs: number; total: number };
    await new Promise<void>((r) => (socket.readableEnded ? r() : socket.once('end', () => r())));
    if (received !== report.total * wireBytes(kind)) throw new Error(`${kind} ${mode}: received ${received} bytes, expected ${report.total * wireBytes(kind)}`);
    socket.destroy();
    return { perCoreSec: report.sent / (report.cpuUs / 1e6), cpuPct: (report.cpuUs / 1000 / report.wallMs) * 100, sent: report.sent };
  } finally {
    child.kill();
  }
}

if (a.serve !== undefined) {
  serve(a.serve, a.mode);
} else {
  const [serverCpu, clientCpu] = a.cpus.split(',');
  if (pinned) execFileSync('taskset', ['-a', '-cp', clientCpu!, String(process.pid)], { stdio: 'ignore' });
  const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
  console.log(
    `push to one client: ${a.size} B, rounds of ${ROUND} sends per event-loop turn, ${a.seconds} s after ${a.warmup} s, ${a.trials} trial(s); ` +
      (pinned ? `server on CPU ${serverCpu}, client on CPU ${clientCpu}` : 'taskset not available: not pinned'),
  );
  const out: Record<string, Record<string, { trials: number[]; median: number; min: number; max: number }>> = {};
  for (const mode of a.modes) {
    const per = new Map<Kind, number[]>(a.servers.map((s) => [s, []]));
    // Servers alternate trial by trial so a slow stretch of the machine hits all alike.
    for (let k = 0; k < a.trials; k++) {
      for (const s of a.servers) {
        const r = await trial(s, mode);
        per.get(s)!.push(r.perCoreSec);
        console.log(`  ${mode} ${s} trial ${k + 1}: ${fmt(r.perCoreSec)} msg per server core-second (server CPU ${r.cpuPct.toFixed(0)}%, ${r.sent} sent)`);
      }
    }
    out[mode] = {};
    const net = per.has('net') ? median(per.get('net')!) : undefined;
    for (const [s, xs] of per) {
      const m = median(xs);
      out[mode][s] = { trials: xs, median: m, min: Math.min(...xs), max: Math.max(...xs) };
      console.log(
        `${mode} ${s}: median ${fmt(m)} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})${net !== undefined && s !== 'net' ? `, ${(m / net).toFixed(2)} of net` : ''}`,
      );
    }
  }
  if (a.json) writeFileSync(a.json, `${JSON.stringify({ size: a.size, round: ROUND, seconds: a.seconds, results: out }, null, 2)}\n`);
}
