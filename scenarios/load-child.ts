/**
 * A load process: N subscribers of one transport. It stamps every delivery
 * with its receive time, records corrected and uncorrected latency, and counts
 * duplicates and losses per subscriber. Driven over IPC.
 */
import type { TransportName } from '../metrics/results.ts';
import { createClientFor } from '../clients/index.ts';
import type { HeaderProfile, TransportClient } from '../clients/contract.ts';
import { LatencyRecorder } from '../metrics/latency.ts';
import { decodePayload } from '../metrics/payload.ts';
import { ProcessSampler } from '../metrics/process.ts';
import { installChildGuards, type Msg } from './child.ts';

installChildGuards();

/** Per-subscriber record of which sequence numbers arrived. */
class Seen {
  private bits = new Uint8Array(1024);
  unique = 0;
  dups = 0;
  mark(seq: number): void {
    if (seq >= this.bits.length * 8) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (seq >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const byte = seq >> 3;
    const bit = 1 << (seq & 7);
    if (this.bits[byte]! & bit) this.dups++;
    else {
      this.bits[byte]! |= bit;
      this.unique++;
    }
  }
  countIn(first: number, last: number): number {
    let n = 0;
    for (let s = first; s <= last; s++) if (s < this.bits.length * 8 && this.bits[s >> 3]! & (1 << (s & 7))) n++;
    return n;
  }
}

const recorder = new LatencyRecorder();
const sampler = new ProcessSampler();
const clients: TransportClient[] = [];
const seen: Seen[] = [];
const errors: string[] = [];
let delivered = 0;
/** Deliveries of messages numbered below this are warm-up: neither recorded nor counted. */
let fromSeq = 1;
let foreign = 0;
let progress: NodeJS.Timeout | undefined;
const reply = (m: Msg) => process.send!(m);

function noteError(e: Error): void {
  if (errors.length < 5) errors.push(e.message);
}

async function startAll(m: Msg): Promise<void> {
  const transport = m['transport'] as TransportName;
  const count = Number(m['clients']);
  const prefix = String(m['idPrefix'] ?? 'c');
  const concurrency = Number(m['concurrency'] ?? 50);
  for (let i = 0; i < count; i++) {
    const s = new Seen();
    seen.push(s);
    clients.push(
      createClientFor(transport, {
        baseUrl: String(m['baseUrl']),
        clientId: `${prefix}${i}`,
        pollIntervalMs: Number(m['pollIntervalMs'] ?? 1000),
        headers: (m['headers'] as HeaderProfile) ?? 'minimal',
        onMessage: (data, recvNs) => {
          const st = decodePayload(data);
          if (!st) {
            foreign++;
            return;
          }
          if (st.seq < fromSeq) return;
          delivered++;
          s.mark(st.seq);
          recorder.record(recvNs, st.intendedNs, st.actualNs);
        },
        onError: noteError,
      }),
    );
  }
  for (let i = 0; i < clients.length; i += concurrency) {
    await Promise.all(clients.slice(i, i + concurrency).map((c) => c.start()));
  }
}

process.on('message', async (m: Msg) => {
  switch (m.type) {
    case 'init':
      await startAll(m);
      reply({ type: 'ready', clients: clients.length });
      break;
    case 'measure':
      fromSeq = Number(m['fromSeq'] ?? 1);
      sampler.start();
      clearInterval(progress);
      progress = setInterval(() => reply({ type: 'progress', delivered, ...sampler.interval() }), Number(m['everyMs'] ?? 500));
      reply({ type: 'measuring' });
      break;
    case 'finish': {
      clearInterval(progress);
      const first = Number(m['first']);
      const last = Number(m['last']);
      const totals = sampler.totals();
      let inRange = 0;
      let dups = 0;
      for (const s of seen) {
        inRange += s.countIn(first, last);
        dups += s.dups;
      }
      const owed = (last - first + 1) * seen.length;
      let requests = 0;
      let empty = 0;
      for (const c of clients) {
        requests += c.requests;
        empty += c.emptyResponses;
      }
      reply({
        type: 'result',
        histograms: recorder.encode(),
        delivered: inRange,
        received: delivered,
        duplicates: dups,
        lost: owed - inRange,
        owed,
        foreign,
        requests,
        emptyResponses: empty,
        cpuMs: totals.cpuMs,
        wallMs: totals.wallMs,
        cpuPct: totals.cpuPct,
        errors,
      });
      break;
    }
    case 'exit':
      clearInterval(progress);
      await Promise.race([Promise.all(clients.map((c) => c.stop().catch(() => {}))), new Promise((r) => setTimeout(r, 1000))]);
      process.exit(0);
  }
});
