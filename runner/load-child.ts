/**
 * A load process: N clients of one transport. It stamps every delivery with
 * its receive time, records corrected and uncorrected latency, and counts
 * duplicates and losses. Driven over IPC, in one of three modes:
 *   subscribe  the server publishes; each client owes every message (push, fan-out, overhead)
 *   echo       clients send at a constant rate; each message owes one echo to its sender
 *   ping-pong  closed loop: each client keeps K messages in flight, sending the next as soon
 *              as an echo returns (1 × 1 is classic ping-pong; 50 × 16 a pipelined echo)
 */
import type { TransportName } from '../metrics/results.ts';
import { createClientFor } from '../clients/index.ts';
import type { HeaderProfile, TransportClient } from '../clients/contract.ts';
import { LatencyRecorder } from '../metrics/latency.ts';
import { decodePayload, encodePayload } from '../metrics/payload.ts';
import { ProcessSampler } from '../metrics/process.ts';
import { installChildGuards, type Msg } from './child.ts';
import { runSchedule } from './schedule.ts';

installChildGuards();

/** A growable bitmap of sequence numbers seen. */
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
    const end = Math.min(last, this.bits.length * 8 - 1);
    for (let s = first; s <= end; s++) if (this.bits[s >> 3]! & (1 << (s & 7))) n++;
    return n;
  }
}

const recorder = new LatencyRecorder();
const sampler = new ProcessSampler();
const clients: TransportClient[] = [];
const seen: Seen[] = [];
const echoSeen = new Seen();
const errors: string[] = [];
let mode: 'subscribe' | 'echo' = 'subscribe';
let delivered = 0;
let foreign = 0;
/** Deliveries of messages numbered below this are warm-up: neither recorded nor counted. */
let fromSeq = 1;
let progress: NodeJS.Timeout | undefined;
/** Echo mode: messages sent, not sent because the client backlog was full, failed sends. */
let sent = 0;
let notSent = 0;
let sendErrors = 0;
/** Ping-pong: who waits for which echo. */
const awaiting = new Map<number, () => void>();
const reply = (m: Msg) => process.send!(m);

function noteError(e: Error): void {
  if (errors.length < 5) errors.push(e.message);
}

async function startAll(m: Msg): Promise<void> {
  const transport = m['transport'] as TransportName;
  const count = Number(m['clients']);
  const prefix = String(m['idPrefix'] ?? 'c');
  const concurrency = Number(m['concurrency'] ?? 50);
  if (m['mode'] === 'echo') mode = 'echo';
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
            delivered++;
            return;
          }
          if (st.seq < fromSeq) return;
          delivered++;
          if (mode === 'echo') echoSeen.mark(st.seq);
          else s.mark(st.seq);
          recorder.record(recvNs, st.intendedNs, st.actualNs);
          if (awaiting.size) {
            const wake = awaiting.get(st.seq);
            if (wake) {
              awaiting.delete(st.seq);
              wake();
            }
          }
        },
        onError: noteError,
      }),
    );
  }
  for (let i = 0; i < clients.length; i += concurrency) {
    await Promise.all(clients.slice(i, i + concurrency).map((c) => c.start()));
  }
}

/** Echo mode, open loop: every client sends at `ratePerClient`, stamped with its intended time. */
async function sendLoad(m: Msg): Promise<Msg> {
  const size = Number(m['size']);
  const maxInflight = Number(m['maxInflight'] ?? 256);
  const inflight = new Array<number>(clients.length).fill(0);
  const r = await runSchedule(
    Number(m['ratePerClient']) * clients.length,
    Number(m['durationMs']),
    (seq, intendedNs) => {
      const i = (seq - 1) % clients.length;
      if (inflight[i]! >= maxInflight) {
        notSent++;
        return;
      }
      inflight[i]!++;
      if (seq >= fromSeq) sent++;
      clients[i]!
        .send(encodePayload(seq, intendedNs, process.hrtime.bigint(), size))
        .catch((e: Error) => {
          sendErrors++;
          noteError(e);
        })
        .finally(() => inflight[i]!--);
    },
    Number(m['firstSeq'] ?? 1),
  );
  return { type: 'sent', first: r.first, last: r.last, sent, notSent, sendErrors, maxLateMs: r.maxLateMs };
}

/** Closed loop for `durationMs`: every client keeps `inFlight` messages out, each sent when an echo returns. */
async function pingPong(m: Msg): Promise<Msg> {
  const size = Number(m['size']);
  const inFlight = Number(m['inFlight'] ?? 1);
  const end = performance.now() + Number(m['durationMs']);
  let next = 0;
  const loop = async (client: TransportClient): Promise<void> => {
    while (performance.now() < end) {
      const seq = ++next;
      const echoed = new Promise<void>((resolve, reject) => {
        awaiting.set(seq, resolve);
        setTimeout(() => reject(new Error(`no echo of message ${seq} within 10 s`)), 10_000).unref();
      });
      const now = process.hrtime.bigint();
      sent++;
      await client.send(encodePayload(seq, now, now, size));
      await echoed;
    }
  };
  await Promise.all(clients.flatMap((c) => Array.from({ length: inFlight }, () => loop(c))));
  return { type: 'ponged', first: 1, last: next, sent };
}

process.on('message', async (m: Msg) => {
  switch (m.type) {
    case 'init':
      await startAll(m);
      reply({ type: 'ready', clients: clients.length });
      break;
    case 'measure':
      // A new measured phase: what came before (warm-up, an earlier step) is forgotten.
      fromSeq = Number(m['fromSeq'] ?? 1);
      recorder.reset();
      delivered = 0;
      for (const x of seen) x.dups = 0;
      echoSeen.dups = 0;
      sampler.start();
      clearInterval(progress);
      progress = setInterval(() => reply({ type: 'progress', delivered, ...sampler.interval() }), Number(m['everyMs'] ?? 500));
      reply({ type: 'measuring' });
      break;
    case 'send':
      reply(await sendLoad(m));
      break;
    case 'ping-pong':
      reply(await pingPong(m));
      break;
    case 'snapshot':
      reply({ type: 'snapshot', delivered, sent });
      break;
    case 'finish': {
      clearInterval(progress);
      const first = Number(m['first']);
      const last = Number(m['last']);
      const totals = sampler.totals();
      let inRange = 0;
      let dups = 0;
      let owed: number;
      if (mode === 'echo') {
        inRange = echoSeen.countIn(first, last);
        dups = echoSeen.dups;
        owed = sent;
      } else {
        for (const s of seen) {
          inRange += s.countIn(first, last);
          dups += s.dups;
        }
        owed = Math.max(0, last - first + 1) * seen.length;
      }
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
        sent,
        notSent,
        sendErrors,
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
      // Leave at once: polite closes would only add minutes to a long run.
      clearInterval(progress);
      process.exit(0);
  }
});
