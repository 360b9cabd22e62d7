/**
 * What the link emulator itself costs: its process's CPU per forwarded message, and its share of
 * a core when every named profile's link is kept full. The relay runs as in a bench run, a child
 * of its own (runner/link-child.ts); its CPU is read from /proc like a load process's.
 *
 * - messages: `--clients` connections through rtt=100ms, each sending 64-byte messages that a
 *   sink server reads, `--rate` messages/s in all, for `--seconds`;
 * - pipelined: `--clients` connections through 4g, each keeping 16 64-byte messages in flight
 *   to an echo server and sending one more as each comes back (the echo-pipelined scenario's
 *   load, where the relay once took 27 % of a core), for `--seconds`;
 * - uplink: per profile in `--uplink` (default 3g), one connection sending requests of
 *   `--request-bytes` (800: a poll's headers) at rising rates around up ÷ (8 × bytes), 1 s a
 *   step, and the queue the relay measured in front of the uplink: the rate at which it grows,
 *   measured, beside the arithmetic;
 * - profiles: per named profile, one connection whose server writes as fast as the link takes
 *   it (the relay then paces the whole down rate), for `--seconds`.
 *
 *   npm run bench:link -- [--clients 50] [--rate 5000] [--seconds 5] [--profiles 4g,3g,...]
 *                         [--uplink 3g,...] [--request-bytes 800]
 */
import net from 'node:net';
import { list, num, parse, scriptArgs } from '../args.ts';
import { LINK_PROFILES, LOOPBACK, describeLink, linkNamed, parseLinkParams, customLinkName } from '../path/links.ts';
import { LinkHop } from '../runner/link.ts';
import { treeUsage } from '../metrics/process.ts';

const NAMES = LINK_PROFILES.filter((l) => l.name !== LOOPBACK).map((l) => l.name);

const a = scriptArgs('bench:link', () => {
  const { values } = parse(
    process.argv.slice(2),
    {
      clients: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      profiles: { type: 'string' },
      uplink: { type: 'string' },
      'request-bytes': { type: 'string' },
    },
    false,
  );
  return {
    clients: num(values.clients, 'clients', 50, { min: 1, max: 2000, integer: true }),
    rate: num(values.rate, 'rate', 5000, { min: 1, max: 200_000 }),
    seconds: num(values.seconds, 'seconds', 5, { min: 1, max: 120 }),
    profiles: list(values.profiles, 'profiles', NAMES, NAMES),
    uplink: list(values.uplink, 'uplink', NAMES, ['3g']),
    requestBytes: num(values['request-bytes'], 'request-bytes', 800, { min: 64, max: 65_536, integer: true }),
  };
});

async function listen(onConnection: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const s = net.createServer({ noDelay: true }, onConnection);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(c));
    c.once('error', reject);
  });

const cpuOf = (h: LinkHop) => treeUsage(h.child.proc.pid!).cpuMs;

/**
 * Waits `settleMs`, then measures for `--seconds`: the wall time, the relay's CPU and how far
 * `count` moved meanwhile.
 */
async function measureWindow(h: LinkHop, settleMs: number, count: () => number): Promise<{ wall: number; cpuMs: number; n: number }> {
  await new Promise((r) => setTimeout(r, settleMs));
  const n0 = count();
  const cpu0 = cpuOf(h);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, a.seconds * 1000));
  return { wall: performance.now() - t0, cpuMs: cpuOf(h) - cpu0, n: count() - n0 };
}

async function messages(): Promise<void> {
  let received = 0;
  const sink = await listen((s) => s.on('data', (b: Buffer) => (received += b.length)));
  const link = linkNamed(customLinkName(parseLinkParams('rtt=100ms')))!;
  const h = await LinkHop.start(link, [{ host: '127.0.0.1', port: sink.port }], (c) => c);
  const clients = await Promise.all(Array.from({ length: a.clients }, () => connect(h.port)));
  const msg = Buffer.alloc(64, 1);
  const tick = 10;
  const perTick = (a.rate * tick) / 1000;
  let owed = 0;
  let sent = 0;
  let k = 0;
  const cpu0 = cpuOf(h);
  const t0 = performance.now();
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--, sent++) clients[k++ % clients.length]!.write(msg);
  }, tick);
  await new Promise((r) => setTimeout(r, a.seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 300));
  const cpuMs = cpuOf(h) - cpu0;
  const wall = performance.now() - t0;
  console.log(
    `messages: ${a.clients} connections through rtt=100ms, ${sent} × 64 B in ${(wall / 1000).toFixed(1)} s (${Math.round(sent / (wall / 1000))}/s), ${received / 64} arrived`,
  );
  console.log(
    `  relay CPU ${cpuMs.toFixed(0)} ms = ${((cpuMs * 1000) / sent).toFixed(2)} µs per forwarded message, ${((cpuMs / wall) * 100).toFixed(1)} % of a core`,
  );
  for (const c of clients) c.destroy();
  await h.child.kill(1000);
  sink.close();
}

async function pipelined(): Promise<void> {
  const echo = await listen((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const link = linkNamed('4g')!;
  const h = await LinkHop.start(link, [{ host: '127.0.0.1', port: echo.port }], (c) => c);
  const clients = await Promise.all(Array.from({ length: a.clients }, () => connect(h.port)));
  const msg = Buffer.alloc(64, 3);
  let echoed = 0;
  let running = true;
  for (const c of clients) {
    let pending = 0;
    c.on('data', (b: Buffer) => {
      pending += b.length;
      for (; pending >= 64; pending -= 64) {
        echoed++;
        if (running) c.write(msg);
      }
    });
    for (let i = 0; i < 16; i++) c.write(msg);
  }
  // Past the handshake's RTT and the first round trips.
  const { wall, cpuMs, n } = await measureWindow(h, link.params.rttMs * 3 + 500, () => echoed);
  running = false;
  console.log(
    `pipelined: ${a.clients} connections × 16 in flight through 4g, ${n} echoes in ${(wall / 1000).toFixed(1)} s (${Math.round(n / (wall / 1000))}/s; each crosses the relay twice)`,
  );
  console.log(
    `  relay CPU ${cpuMs.toFixed(0)} ms = ${((cpuMs * 1000) / (2 * n)).toFixed(2)} µs per forwarded message, ${((cpuMs / wall) * 100).toFixed(1)} % of a core`,
  );
  for (const c of clients) c.destroy();
  await h.child.kill(1000);
  echo.close();
}

/** The rate at which requests of one size fill a profile's uplink: predicted, and measured as the step whose requests meet a growing queue. */
async function uplink(name: string): Promise<void> {
  const link = linkNamed(name)!;
  const predicted = link.params.upBps / (8 * a.requestBytes);
  const sink = await listen((s) => {
    s.on('error', () => {});
    s.resume();
  });
  const h = await LinkHop.start(link, [{ host: '127.0.0.1', port: sink.port }], (c) => c);
  const c = await connect(h.port);
  await new Promise((r) => setTimeout(r, link.params.rttMs + 200));
  const request = Buffer.alloc(a.requestBytes, 4);
  const steps: string[] = [];
  let grewAt: number | undefined;
  for (const f of [0.5, 0.8, 0.95, 1.05, 1.25, 2]) {
    const rate = predicted * f;
    await h.mark();
    // Paced by the clock, not by timer ticks, which run late on a busy machine.
    const t0 = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      for (const due = ((performance.now() - t0) * rate) / 1000; sent < due; sent++) c.write(request);
    }, 2);
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(timer);
    const actual = sent / ((performance.now() - t0) / 1000);
    const q = (await h.totals(1, 0)).queueUp;
    steps.push(`${actual.toFixed(0)}/s: mean ${q.meanBytes.toFixed(0)} B, peak ${q.peakBytes} B`);
    // Two whole requests waiting in front of the link: requests come faster than it serialises them.
    if (q.peakBytes >= 2 * a.requestBytes) {
      grewAt = actual;
      break;
    }
    // Let what is queued drain before the next step.
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(
    `uplink ${name} (${(link.params.upBps / 1000).toFixed(0)} kbit/s), ${a.requestBytes} B requests on one connection: predicted to fill it at ${predicted.toFixed(0)}/s; measured ${
      grewAt === undefined ? 'no growth up to twice that' : `the queue grew at ${grewAt.toFixed(0)}/s`
    } (${steps.join('; ')})`,
  );
  c.destroy();
  await h.child.kill(1000);
  sink.close();
}

async function profile(name: string): Promise<void> {
  const link = linkNamed(name)!;
  const chunk = Buffer.alloc(16 * 1024, 2);
  const source = await listen((s) => {
    const pump = () => {
      while (s.writable && s.write(chunk));
    };
    s.on('drain', pump);
    s.on('error', () => {});
    pump();
  });
  const h = await LinkHop.start(link, [{ host: '127.0.0.1', port: source.port }], (c) => c);
  const c = await connect(h.port);
  let got = 0;
  c.on('data', (b: Buffer) => (got += b.length));
  // Past the handshake's RTT, the first propagation and the sender's start (its socket buffers grow) before measuring.
  const { wall, cpuMs, n: bytes } = await measureWindow(h, link.params.rttMs * 3 + 1000, () => got);
  const bps = (bytes * 8) / (wall / 1000);
  console.log(
    `${name.padEnd(10)} ${describeLink(link.params).padEnd(54)} carried ${(bps / 1e6).toFixed(3)} Mbit/s (set ${(link.params.downBps / 1e6).toFixed(3)}), relay ${((cpuMs / wall) * 100).toFixed(1)} % of a core`,
  );
  c.destroy();
  await h.child.kill(1000);
  source.close();
}

console.log('link emulator cost (figures from a shared machine vary with its load)');
await messages();
await pipelined();
for (const name of a.uplink) await uplink(name);
for (const name of a.profiles) await profile(name);
