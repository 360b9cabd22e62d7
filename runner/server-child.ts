/**
 * The server process of a run: one transport server on 127.0.0.1, a
 * constant-rate publisher, and CPU/RSS sampling. Driven over IPC.
 */
import type { TransportName } from '../metrics/results.ts';
import { ProcessSampler } from '../metrics/process.ts';
import { createServerFor } from '../servers/index.ts';
import type { ServerOptions } from '../servers/contract.ts';
import { installChildGuards, type Msg } from './child.ts';
import { runSchedule } from './schedule.ts';
import { encodePayload } from '../metrics/payload.ts';

installChildGuards();

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

let plain = '';
/** The unstamped payload of a size, made once per size. */
function plainText(size: number): string {
  if (plain.length !== size) plain = 'x'.repeat(size);
  return plain;
}

/** Blocks this process's event loop, as a long GC pause or a synchronous job would. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
const sampler = new ProcessSampler();
let server: ReturnType<typeof createServerFor> | undefined;
let sampling: NodeJS.Timeout | undefined;
const reply = (m: Msg) => process.send!(m);

process.on('message', async (m: Msg) => {
  switch (m.type) {
    case 'init': {
      server = createServerFor(m['transport'] as TransportName, m['options'] as ServerOptions);
      const port = await server.listen(0, '127.0.0.1');
      reply({ type: 'ready', port, pid: process.pid });
      break;
    }
    case 'measure': {
      // Start of the measured phase: CPU and RSS from here, samples every `everyMs`.
      sampler.start();
      const everyMs = Number(m['everyMs'] ?? 500);
      clearInterval(sampling);
      sampling = setInterval(() => reply({ type: 'sample', ...sampler.interval(), at: process.hrtime.bigint() }), everyMs);
      reply({ type: 'measuring' });
      break;
    }
    case 'publish': {
      const hub = server!.hub;
      const size = Number(m['size']);
      const fault = faultFor(server!.transport);
      if (fault?.kind === 'crash') setTimeout(() => process.exit(3), 100);
      if (fault?.kind === 'stall') setTimeout(() => busyWait(fault.ms), fault.afterMs);
      const send = (text: string) => (fault?.kind === 'delay' ? setTimeout(() => hub.publish(text), fault.ms) : hub.publish(text));
      const r = await runSchedule(
        Number(m['rate']),
        Number(m['durationMs']),
        m['plain']
          ? // Plain payloads (the overhead sweep) carry no stamp, so any size down to 1 byte works.
            () => void hub.publish(plainText(size))
          : (seq, intendedNs) => {
              send(encodePayload(seq, intendedNs, process.hrtime.bigint(), size));
            },
        Number(m['firstSeq'] ?? 1),
      );
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms + 5));
      reply({ type: 'published', ...r });
      break;
    }
    case 'counters': {
      // A snapshot at any time: the server's counters and this process's memory.
      const mem = process.memoryUsage();
      reply({ type: 'counters', counters: server!.counters(), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, at: process.hrtime.bigint() });
      break;
    }
    case 'gc': {
      // Only when started with --expose-gc: settles the heap before a memory reading.
      (globalThis as { gc?: () => void }).gc?.();
      reply({ type: 'gc-done', exposed: typeof (globalThis as { gc?: unknown }).gc === 'function' });
      break;
    }
    case 'totals': {
      clearInterval(sampling);
      reply({ type: 'totals', process: sampler.totals(), counters: server!.counters() });
      break;
    }
    case 'exit':
      // The measurement is over: no closing handshakes to wait for, the clients are going too.
      clearInterval(sampling);
      process.exit(0);
  }
});
