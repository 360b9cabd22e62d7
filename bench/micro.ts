/**
 * Micro benchmark: the lab's frame engine against ws 8's own Receiver and Sender, in one run.
 * Parses and encodes binary frames of 6 B, 125 B, 64 KiB and 1 MiB, masked and unmasked, and
 * masks/unmasks 64 KiB. Each task call processes a batch of frames so that per-call timer cost
 * does not swamp small-frame figures; ops/s are frames per second.
 *
 * The `echo` cases run a whole server connection in memory: a masked 64 B frame arrives as
 * one socket chunk (or eight in one chunk), the application echoes it, and the answer goes
 * through the socket's write path (a Duplex that completes every write at once). The engine's
 * `WebSocketConnection` against `ws`'s own `WebSocket` on the same kind of socket: parsing,
 * events, framing and Node's stream machinery, without the kernel.
 *
 *   tsx bench/micro.ts [--time ms] [--json FILE] [--filter substring]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { num, parse, scriptArgs } from '../args.ts';
import { Bench } from 'tinybench';
import { FrameParser, type ParserHandler } from '../protocol/parser.ts';
import { encodeFrame, encodeFrameParts } from '../protocol/frame.ts';
import { mask as engineMask } from '../protocol/mask.ts';
import { Duplex } from 'node:stream';
import { WebSocketConnection } from '../protocol/connection.ts';

const { args, timeMs } = scriptArgs('bench:micro', () => {
  const { values } = parse(process.argv.slice(2), { time: { type: 'string' }, json: { type: 'string' }, filter: { type: 'string' } }, false);
  return { args: values, timeMs: num(values.time, 'time', 300, { min: 10, max: 60_000 }) };
});

// ws does not export its internals through the package "exports" map; load them by file path.
const require = createRequire(import.meta.url);
const wsDir = dirname(require.resolve('ws'));
interface WsReceiver {
  on(event: string, fn: (...a: unknown[]) => void): void;
  _write(chunk: Buffer, encoding: null, cb: (err?: Error) => void): void;
}
type WsReceiverCtor = new (o: { isServer: boolean; maxPayload: number }) => WsReceiver;
interface WsSenderStatic {
  frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
const Receiver = require(join(wsDir, 'lib/receiver.js')) as WsReceiverCtor;
const Sender = require(join(wsDir, 'lib/sender.js')) as WsSenderStatic;
const wsBufferUtil = require(join(wsDir, 'lib/buffer-util.js')) as {
  mask(source: Buffer, key: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buf: Buffer, key: Buffer): void;
};
let bufferutilInstalled = true;
try {
  require.resolve('bufferutil');
} catch {
  bufferutilInstalled = false;
}

const MAX = 100 * 1024 * 1024;
const SIZES: Array<[string, number]> = [
  ['6 B', 6],
  ['125 B', 125],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
];
/** Frames per task call: enough work per call that timer overhead stays small. */
const batchFor = (size: number): number => (size <= 125 ? 2000 : size <= 65536 ? 16 : 2);

interface Case {
  name: string;
  op: 'parse' | 'encode' | 'mask' | 'unmask' | 'echo';
  bytes: number;
  batch: number;
  engine: () => void;
  ws: () => void;
}

const cases: Case[] = [];
let sink = 0;

for (const [label, size] of SIZES) {
  for (const masked of [true, false]) {
    const payload = Buffer.alloc(size, 0x61);
    const frame = encodeFrame(payload, { opcode: 2, mask: masked });
    const batch = batchFor(size);
    const handler: ParserHandler = {
      onMessage: (d) => (sink += d.length),
      onPing: () => {},
      onPong: () => {},
      onClose: () => {},
      onError: (e) => {
        throw e;
      },
    };
    // masked frames come from clients, so the server role parses them (and vice versa).
    const parser = new FrameParser({ role: masked ? 'server' : 'client', maxMessageBytes: MAX }, handler);
    const receiver = new Receiver({ isServer: masked, maxPayload: MAX });
    receiver.on('message', (d) => (sink += (d as Buffer).length));
    receiver.on('error', (e) => {
      throw e;
    });
    const noop = (): void => {};
    cases.push({
      name: `parse ${label} ${masked ? 'masked' : 'unmasked'}`,
      op: 'parse',
      bytes: frame.length,
      batch,
      engine: () => {
        for (let i = 0; i < batch; i++) parser.push(frame);
      },
      ws: () => {
        for (let i = 0; i < batch; i++) receiver._write(frame, null, noop);
      },
    });
    const wsOptions = { fin: true, opcode: 2, mask: masked, readOnly: true, rsv1: false };
    cases.push({
      name: `encode ${label} ${masked ? 'masked' : 'unmasked'}`,
      op: 'encode',
      bytes: frame.length,
      batch,
      engine: masked
        ? () => {
            for (let i = 0; i < batch; i++) sink += encodeFrame(payload, { opcode: 2, mask: true }).length;
          }
        : () => {
            for (let i = 0; i < batch; i++) sink += encodeFrameParts(payload, { opcode: 2 }).length;
          },
      ws: () => {
        for (let i = 0; i < batch; i++) sink += Sender.frame(payload, wsOptions).length;
      },
    });
  }
}

{
  const size = 64 * 1024;
  const data = Buffer.alloc(size, 0x5a);
  const out = Buffer.alloc(size);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const batch = 16;
  cases.push({
    name: 'mask 64 KiB (copy)',
    op: 'mask',
    bytes: size,
    batch,
    engine: () => {
      for (let i = 0; i < batch; i++) {
        out.set(data);
        engineMask(out, key);
      }
    },
    ws: () => {
      for (let i = 0; i < batch; i++) wsBufferUtil.mask(data, key, out, 0, size);
    },
  });
  cases.push({
    name: 'unmask 64 KiB (in place)',
    op: 'unmask',
    bytes: size,
    batch,
    engine: () => {
      for (let i = 0; i < batch; i++) engineMask(data, key);
    },
    ws: () => {
      for (let i = 0; i < batch; i++) wsBufferUtil.unmask(data, key);
    },
  });
}

/** A socket stand-in: every write completes at once; `setNoDelay`/`setTimeout` as ws calls them. */
function memorySocket(): Duplex {
  const d = new Duplex({
    read() {},
    write: (_c, _e, cb) => cb(),
    writev: (_c, cb) => cb(),
  });
  return Object.assign(d, { setNoDelay: () => d, setTimeout: () => d });
}

{
  const WsWebSocket = require('ws') as new (
    address: null,
    protocols: undefined,
    options: object,
  ) => {
    setSocket(socket: Duplex, head: Buffer, options: { maxPayload: number; allowSynchronousEvents: boolean }): void;
    on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
    send(data: Buffer, options: { binary: boolean }): void;
  };
  for (const perChunk of [1, 8]) {
    const frame = encodeFrame(Buffer.alloc(64, 0x61), { opcode: 2, mask: true });
    const chunk = Buffer.concat(Array.from({ length: perChunk }, () => frame));
    const batch = Math.max(1, 2000 / perChunk);
    // Each push gets a fresh copy: both parsers unmask in place.
    const copies = Array.from({ length: batch }, () => Buffer.from(chunk));
    const refill = () => {
      for (const c of copies) c.set(chunk);
    };
    const engineSocket = memorySocket();
    const conn = new WebSocketConnection(engineSocket, { role: 'server' });
    conn.on('message', (d: Buffer, isBinary: boolean) => conn.send(d, { binary: isBinary }));
    const wsSocket = memorySocket();
    const ws = new WsWebSocket(null, undefined, {});
    ws.setSocket(wsSocket, Buffer.alloc(0), { maxPayload: MAX, allowSynchronousEvents: true });
    ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
    cases.push({
      name: `echo 64 B, ${perChunk} per chunk`,
      op: 'echo',
      bytes: frame.length,
      batch: batch * perChunk,
      engine: () => {
        refill();
        for (const c of copies) engineSocket.emit('data', c);
      },
      ws: () => {
        refill();
        for (const c of copies) wsSocket.emit('data', c);
      },
    });
  }
}

/** One measured figure: frames (or buffers) per second and payload+header MB/s. */
interface Figure {
  opsPerSec: number;
  mbPerSec: number;
}
interface Row {
  name: string;
  op: Case['op'];
  bytesPerOp: number;
  engine: Figure | null;
  ws: Figure | null;
  ratio: number | null;
  error?: string;
}

if (args.filter) {
  const keep = cases.filter((c) => c.name.includes(args.filter!));
  cases.length = 0;
  cases.push(...keep);
}
const bench = new Bench({ time: timeMs, warmupTime: Math.max(50, timeMs / 5), iterations: 8 });
for (const c of cases) {
  bench.add(`engine ${c.name}`, c.engine);
  bench.add(`ws ${c.name}`, c.ws);
}
const started = Date.now();
await bench.run();

function figure(taskName: string, c: Case): Figure | null {
  const task = bench.tasks.find((t) => t.name === taskName);
  const r = task?.result;
  if (r?.state !== 'completed') return null;
  const opsPerSec = (c.batch * 1000) / r.period;
  return { opsPerSec, mbPerSec: (opsPerSec * c.bytes) / 1e6 };
}

const rows: Row[] = cases.map((c) => {
  const engine = figure(`engine ${c.name}`, c);
  const ws = figure(`ws ${c.name}`, c);
  const row: Row = {
    name: c.name,
    op: c.op,
    bytesPerOp: c.bytes,
    engine,
    ws,
    ratio: engine && ws ? engine.opsPerSec / ws.opsPerSec : null,
  };
  const failed = bench.tasks.find((t) => (t.name === `engine ${c.name}` || t.name === `ws ${c.name}`) && t.result.state === 'errored');
  if (failed && failed.result.state === 'errored') row.error = failed.result.error.message;
  return row;
});

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));
const pad = (s: string, w: number): string => s.padStart(w);
console.log(
  `micro bench — node ${process.version}, ${timeMs} ms per task; ws ${(require(join(wsDir, 'package.json')) as { version: string }).version}` +
    ` (bufferutil ${bufferutilInstalled ? 'INSTALLED' : 'not installed: ws masks in JS'};` +
    ` ws parses through Receiver#_write, its parser core without stream overhead)`,
);
console.log(`${'case'.padEnd(28)}${pad('engine ops/s', 14)}${pad('MB/s', 10)}${pad('ws ops/s', 14)}${pad('MB/s', 10)}${pad('engine/ws', 11)}`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(28)}${pad(r.engine ? fmt(r.engine.opsPerSec) : 'error', 14)}${pad(r.engine ? r.engine.mbPerSec.toFixed(0) : '-', 10)}` +
      `${pad(r.ws ? fmt(r.ws.opsPerSec) : 'error', 14)}${pad(r.ws ? r.ws.mbPerSec.toFixed(0) : '-', 10)}` +
      `${pad(r.ratio !== null ? `${r.ratio.toFixed(2)}x` : '-', 11)}${r.error ? `  (${r.error})` : ''}`,
  );
}
console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s (checksum ${sink % 997})`);

if (args.json) {
  const result = {
    meta: {
      startedAt: new Date(started).toISOString(),
      command: process.argv.join(' '),
      node: process.version,
      timeMsPerTask: timeMs,
      bufferutil: bufferutilInstalled,
    },
    rows,
  };
  writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${args.json}`);
}
