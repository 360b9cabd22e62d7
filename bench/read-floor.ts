/**
 * The floor of a Node load process's cost per delivery in push: a writer child sends `size` bytes
 * to each of N sockets per publish, one write per socket (as a server pushes one frame to each
 * subscriber), and this process reads them with a 'data' handler that only counts bytes: no frame
 * parse, no stamp, no histogram. Whatever a load client adds, it cannot cost less than this reader,
 * and the writer is the least a server pays for the same deliveries. Both sides' CPU (user and
 * kernel, every thread) over the measured window; the writer pinned to one CPU, the reader to
 * another. Loopback only, bounded in time.
 *
 *   npx tsx bench/read-floor.ts [--rate 50] [--connections 50] [--size 66] [--seconds 5]
 *                               [--warmup 1] [--trials 3] [--cpus 1,0]
 */
import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { num, parse, scriptArgs } from '../args.ts';
import { tasksetAvailable } from '../runner/cpus.ts';
import { median } from '../runner/repeat.ts';

type Go = { type: 'go'; rate: number; seconds: number; size: number };
type Done = { type: 'done'; cpuUs: number; writes: number };

/** The writer: one write of `size` bytes per socket per publish, `rate` publishes a second, on 1 ms timer ticks. */
function serve(): void {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    s.setNoDelay(true);
    sockets.push(s);
  });
  server.listen(0, '127.0.0.1', () => process.send!({ type: 'port', port: (server.address() as AddressInfo).port }));
  process.on('message', (m: Go) => {
    const payload = Buffer.alloc(m.size, 0x78);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const total = Math.round(m.rate * m.seconds);
    let sent = 0;
    let writes = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * m.rate));
      for (; sent < due; sent++)
        for (const s of sockets) {
          s.write(payload);
          writes++;
        }
      if (sent < total) return void setTimeout(tick, 1);
      const cpu = process.cpuUsage(cpu0);
      process.send!({ type: 'done', cpuUs: cpu.user + cpu.system, writes } satisfies Done);
    };
    tick();
  });
  process.on('disconnect', () => process.exit(0));
}

/** The flags, each checked (a bad one is a one-line error naming it). */
function readArgs() {
  return scriptArgs('read-floor', () => {
    const { values } = parse(
      process.argv.slice(2),
      {
        rate: { type: 'string' },
        connections: { type: 'string' },
        size: { type: 'string' },
        seconds: { type: 'string' },
        warmup: { type: 'string' },
        trials: { type: 'string' },
        cpus: { type: 'string' },
      },
      false,
    );
    const cpus = (values.cpus ?? '1,0').split(',');
    if (cpus.length !== 2 || cpus.some((c) => !/^\d+$/.test(c))) throw new Error(`--cpus: expected "<writer>,<reader>", got "${values.cpus}"`);
    return {
      rate: num(values.rate, 'rate', 50, { min: 1, max: 100_000 }),
      connections: num(values.connections, 'connections', 50, { min: 1, max: 10_000, integer: true }),
      size: num(values.size, 'size', 66, { min: 1, max: 1 << 20, integer: true }),
      seconds: num(values.seconds, 'seconds', 5, { min: 0.5, max: 600 }),
      warmup: num(values.warmup, 'warmup', 1, { min: 0, max: 60 }),
      trials: num(values.trials, 'trials', 3, { min: 1, max: 50, integer: true }),
      cpus: cpus.map(Number) as [number, number],
    };
  });
}

async function main(): Promise<void> {
  const a = readArgs();
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pin = tasksetAvailable();
  if (pin) {
    execFileSync('taskset', ['-a', '-c', '-p', String(a.cpus[0]), String(child.pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-c', '-p', String(a.cpus[1]), String(process.pid)], { stdio: 'ignore' });
  }
  const next = <T>(type: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
    });
  try {
    const { port } = await next<{ port: number }>('port');
    let bytes = 0;
    const sockets: Socket[] = [];
    for (let i = 0; i < a.connections; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      await new Promise((r) => s.once('connect', r));
      sockets.push(s);
    }
    const run = async (seconds: number) => {
      const before = bytes;
      const cpu0 = process.cpuUsage();
      child.send({ type: 'go', rate: a.rate, seconds, size: a.size } satisfies Go);
      const done = await next<Done>('done');
      // The last writes' bytes are on their way: wait until every one has been read.
      const owed = before + done.writes * a.size;
      for (let i = 0; i < 200 && bytes < owed; i++) await new Promise((r) => setTimeout(r, 5));
      const cpu = process.cpuUsage(cpu0);
      return { deliveries: (bytes - before) / a.size, writerUs: done.cpuUs, readerUs: cpu.user + cpu.system };
    };
    if (a.warmup > 0) await run(a.warmup);
    const rows: { writer: number; reader: number }[] = [];
    console.log(
      `${a.connections} sockets, ${a.rate} publishes/s (${a.rate * a.connections} deliveries/s), ${a.size} B per write, ${a.seconds} s per trial${pin ? `, writer on CPU ${a.cpus[0]}, reader on CPU ${a.cpus[1]}` : ', not pinned'}`,
    );
    for (let k = 1; k <= a.trials; k++) {
      const r = await run(a.seconds);
      const writer = r.writerUs / r.deliveries;
      const reader = r.readerUs / r.deliveries;
      rows.push({ writer, reader });
      console.log(
        `trial ${k}: ${r.deliveries} deliveries; writer ${writer.toFixed(2)} µs, reader ${reader.toFixed(2)} µs per delivery (${(reader / writer).toFixed(2)}×)`,
      );
    }
    const w = median(rows.map((r) => r.writer));
    const rd = median(rows.map((r) => r.reader));
    const ratios = rows.map((r) => r.reader / r.writer);
    console.log(
      `median: writer ${w.toFixed(2)} µs, reader ${rd.toFixed(2)} µs per delivery; reader/writer ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    );
    for (const s of sockets) s.destroy();
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) serve();
else await main();
