/**
 * The server process of a run: one transport server on 127.0.0.1, a
 * constant-rate publisher, and CPU/RSS sampling. Driven over IPC.
 */
import { ProcessSampler, ProcessTreeSampler } from '../metrics/process.ts';
import type { TransportServer } from '../servers/contract.ts';
import { serverFrom } from '../transports/load.ts';
import { serveParent } from './child.ts';
import type { ServerCalls, ServerEvents } from './protocol.ts';
import { plainText } from '../metrics/plain-payload.ts';
import { runSchedule } from './schedule.ts';
import { encodePayload } from '../metrics/payload.ts';
import { openSync, readFileSync, writeSync } from 'node:fs';
import type { Hub, HubMessage } from '../servers/hub.ts';

/**
 * Fault injection for the lab's own tests, from LAB_FAULT=<transport>:<fault>:
 *   crash             the server process exits (code 3) mid-run
 *   stall=MS@AFTER    the event loop is blocked for MS ms, AFTER ms into publishing
 *   delay=MS          every message leaves MS ms after it was stamped
 * They prove that the runner survives a crash and that latency correction works.
 */
interface Fault {
  kind: 'crash' | 'stall' | 'delay';
  ms: number;
  afterMs: number;
}

function faultFor(transport: string): Fault | undefined {
  for (const spec of (process.env['LAB_FAULT'] ?? '').split(',')) {
    const m = /^([\w-]+):(crash|stall|delay)(?:=(\d+)(?:@(\d+))?)?$/.exec(spec.trim());
    if (m && m[1] === transport) return { kind: m[2] as Fault['kind'], ms: Number(m[3] ?? 0), afterMs: Number(m[4] ?? 0) };
  }
  return undefined;
}

/** Blocks this process's event loop, as a long GC pause or a synchronous job would. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
/**
 * A message log that outlives the process, as a deployed service keeps one outside its memory:
 * what the file holds is read back into the hub (history and numbering go on), and every new
 * message is appended before any subscriber is told (this listener is the hub's first), with a
 * synchronous write, so a SIGKILL cannot leave a client holding a number the log lacks.
 */
function keepJournal(hub: Hub, file: string): void {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* no log yet: the first server of the run */
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = JSON.parse(line) as HubMessage;
    hub.ingest(m);
  }
  const fd = openSync(file, 'a');
  hub.subscribe((m) => void writeSync(fd, `${JSON.stringify(m)}\n`));
}

/** This process's CPU and memory; for a server that is a program of its own, that program's (its `processes`). */
let sampler: ProcessSampler | ProcessTreeSampler = new ProcessSampler();
let server: TransportServer | undefined;
/** The registry name the runner gave: faults are chosen by it. */
let transport = '';
let sampling: NodeJS.Timeout | undefined;

const running = (): TransportServer => {
  if (!server) throw new Error('the server child got a request before init');
  return server;
};

const emit = serveParent<ServerCalls, ServerEvents>(
  {
    async init(m) {
      transport = m.transport;
      server = await serverFrom(m.server, m.options);
      if (m.journal !== undefined) keepJournal(server.hub, m.journal);
      const port = await server.listen(m.port ?? 0, m.host ?? '127.0.0.1');
      const own = server;
      if (own.processes) sampler = new ProcessTreeSampler(() => own.processes?.() ?? []);
      return { port, pid: process.pid, lastSeq: server.hub.lastSeq };
    },
    async close() {
      clearInterval(sampling);
      await running().close();
      return {};
    },
    'node-failover'() {
      throw new Error('one server process has no nodes to fail over: node failover needs a clustered row (--nodes)');
    },
    measure(m) {
      // Start of the measured phase: CPU and RSS from here, samples every `everyMs`.
      sampler.start();
      clearInterval(sampling);
      sampling = setInterval(() => emit('sample', { ...sampler.interval(), at: process.hrtime.bigint() }), m.everyMs ?? 500);
      return {};
    },
    async publish(m) {
      const hub = running().hub;
      const fault = faultFor(transport);
      if (fault?.kind === 'crash') setTimeout(() => process.exit(3), 100);
      if (fault?.kind === 'stall') setTimeout(() => busyWait(fault.ms), fault.afterMs);
      const send = (text: string) => (fault?.kind === 'delay' ? setTimeout(() => hub.publish(text), fault.ms) : hub.publish(text));
      const r = await runSchedule(
        m.rate,
        m.durationMs,
        m.plain
          ? // Plain payloads (the overhead sweep) carry no stamp, so any size down to 1 byte works.
            () => void hub.publish(plainText(m.size, m.payload ?? 'compressible'))
          : (seq, intendedNs) => {
              send(encodePayload(seq, intendedNs, process.hrtime.bigint(), m.size));
            },
        m.firstSeq ?? 1,
      );
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms + 5));
      return r;
    },
    counters() {
      // A snapshot at any time: the server's counters and this process's memory.
      // A program of its own has no JS heap: its memory is its processes', the heap figure 0.
      if (sampler instanceof ProcessTreeSampler)
        return { counters: running().counters(), rssBytes: sampler.memoryBytes(), heapUsedBytes: 0, cpuMs: sampler.cpuMs(), at: process.hrtime.bigint() };
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        counters: running().counters(),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
        at: process.hrtime.bigint(),
      };
    },
    gc() {
      // Only when started with --expose-gc: settles the heap before a memory reading.
      (globalThis as { gc?: () => void }).gc?.();
      // A program of its own is not this process: no gc of ours settles its memory.
      return { exposed: typeof (globalThis as { gc?: unknown }).gc === 'function' && !(sampler instanceof ProcessTreeSampler) };
    },
    totals() {
      clearInterval(sampling);
      return { process: sampler.totals(), counters: running().counters() };
    },
  },
  // The measurement is over: no closing handshakes to wait for, the clients are going too.
  () => clearInterval(sampling),
);
