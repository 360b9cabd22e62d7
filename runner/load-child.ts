/**
 * A load process: N clients of one transport. It stamps every delivery with
 * its receive time, records corrected and uncorrected latency, and counts
 * duplicates and losses. Driven over IPC, in one of three modes:
 *   subscribe  the server publishes; each client owes every message (push, fan-out, overhead)
 *   echo       clients send at a constant rate; each message owes one echo to its sender
 *   ping-pong  closed loop: each client keeps K messages in flight, sending the next as soon
 *              as an echo returns (1 × 1 is classic ping-pong; 50 × 16 a pipelined echo)
 */
import type { TransportClient } from '../clients/contract.ts';
import { encodeHistogram, LatencyRecorder } from '../metrics/latency.ts';
import { decodePayload, decodePayloadBytes, encodePayload, PayloadWriter, type Stamp } from '../metrics/payload.ts';
import { ProcessSampler } from '../metrics/process.ts';
import { clientSocketBytes, countClientSockets } from '../metrics/client-wire.ts';
import { clientFrom } from '../transports/load.ts';
import { h2FrameCounts } from '../clients/h2-frames.ts';
import { serveParent } from './child.ts';
import type { LoadCalls, LoadEvents, LoadMode } from './protocol.ts';
import { runSchedule } from './schedule.ts';

type Req<K extends keyof LoadCalls> = { type: K } & LoadCalls[K]['req'];

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
/** Deliveries of messages numbered from `tailFrom` on, recorded apart: the end of a ramp step, where a backlog shows. */
const tail = new LatencyRecorder();
let tailFrom = Number.POSITIVE_INFINITY;
/** The stamp of the message being handled: one object, refilled for every delivery. */
const st: Stamp = { seq: 0, intendedNs: 0, lateNs: 0 };
const sampler = new ProcessSampler();
const clients: TransportClient[] = [];
const seen: Seen[] = [];
const echoSeen = new Seen();
/** Open-loop sends by sequence number: the echoes owed are those sent within the measured range, warm-up excluded. */
const sentSeen = new Seen();
let openLoop = false;
const errors: string[] = [];
let mode: LoadMode = 'subscribe';
let delivered = 0;
let foreign = 0;
/** Deliveries of messages numbered below this are warm-up: neither recorded nor counted. */
let fromSeq = 1;
/** The `fromSeq` of an `arm` not yet followed by its `measure`: that measure keeps what was recorded since. */
let armed: number | undefined;
let progress: NodeJS.Timeout | undefined;
/** Echo mode: messages sent, not sent because the client backlog was full, failed sends. */
let sent = 0;
let notSent = 0;
let sendErrors = 0;
/** Added to receive times: puts an agent's clock on the publisher's (0 on the run's own host). */
let clockOffsetNs = 0n;
/** Raw corrected latencies, ns, when the run asked for them. */
let samples: number[] | undefined;
const MAX_SAMPLES = 200_000;
/** Per client: whether its latest word was a working connection (1) or an error (0); and how many are 1. */
let up = new Uint8Array(0);
let connected = 0;
/** Since `mark`: when the server went away (hrtime ns), and per client ms to its first working connection after (NaN: not yet). */
let markNs: bigint | undefined;
let backAfter = new Float64Array(0);
/** Per client: whether its connection failed or ended since `mark` (one that never did kept its connection). */
let cut = new Uint8Array(0);

/** A client's connection works: counted as connected, and as back when the server had gone away. */
function onUp(i: number): void {
  if (up[i] === 0) {
    up[i] = 1;
    connected++;
  }
  if (markNs !== undefined && Number.isNaN(backAfter[i])) backAfter[i] = Number(process.hrtime.bigint() - markNs) / 1e6;
}

/** A client's connection (or its last request) failed or ended. */
function onDown(i: number): void {
  if (markNs !== undefined) cut[i] = 1;
  if (up[i] === 1) {
    up[i] = 0;
    connected--;
  }
}

/** Grows a typed array to `n` entries, keeping what it holds. */
function grown<T extends Uint8Array | Float64Array>(a: T, n: number, fill: number): T {
  if (a.length >= n) return a;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.fill(fill);
  b.set(a);
  return b;
}

/** How long a closed loop waits for an echo before it fails, ms. */
const ECHO_TIMEOUT_MS = 10_000;
/** One message of a closed loop: its client, and when it last left (`performance.now()`); it is sent again as its echo returns. */
interface Slot {
  client: TransportClient;
  at: number;
}
/** Ping-pong: the echoes awaited, oldest first, by sequence number. */
const awaiting = new Map<number, Slot>();
/** Ping-pong: what an awaited echo sets off (the loop's next send). */
let echoed: (slot: Slot) => void = () => {};

function noteError(e: Error): void {
  if (errors.length < 5) errors.push(e.message);
}

async function startAll(m: Req<'init'>): Promise<void> {
  countClientSockets();
  const create = await clientFrom(m.client);
  const concurrency = m.concurrency ?? 50;
  mode = m.mode;
  clockOffsetNs = m.clockOffsetNs ?? 0n;
  if (m.keepSamples) samples = [];
  // A later `init` adds clients to those already connected: only the new ones are started.
  const firstNew = clients.length;
  up = grown(up, firstNew + m.clients, 0);
  backAfter = grown(backAfter, firstNew + m.clients, Number.NaN);
  cut = grown(cut, firstNew + m.clients, 0);
  for (let i = 0; i < m.clients; i++) {
    const index = firstNew + i;
    const s = new Seen();
    seen.push(s);
    clients.push(
      create({
        baseUrl: m.baseUrl,
        clientId: `${m.idPrefix}${i}`,
        pollIntervalMs: m.pollIntervalMs,
        headers: m.headers,
        ...(m.ca !== undefined && { ca: m.ca }),
        ...(m.streamsPerSession !== undefined && { streamsPerSession: m.streamsPerSession }),
        onMessage: (data, recvAt) => accept(decodePayload(data, st), s, recvAt),
        onMessageBytes: (data, recvAt) => accept(decodePayloadBytes(data, st), s, recvAt),
        onError: (e) => {
          noteError(e);
          onDown(index);
        },
        onConnected: () => onUp(index),
        onDropped: () => onDown(index),
      }),
    );
  }
  // A sliding window of `concurrency` starts: a slow handshake holds up one slot, not a whole batch.
  let next = firstNew;
  const slot = async () => {
    while (next < clients.length) await startWithRetry(clients[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length - firstNew) }, slot));
}

/** One delivery to a client whose seen-set is `s`, its stamp (when `stamped`) in `st`. */
function accept(stamped: boolean, s: Seen, recvAt: bigint): void {
  if (!stamped) {
    foreign++;
    delivered++;
    return;
  }
  if (st.seq < fromSeq) return;
  // Only an agent on another host has an offset: spare the hot path a BigInt allocation otherwise.
  const recvNs = Number(clockOffsetNs === 0n ? recvAt : recvAt + clockOffsetNs);
  delivered++;
  if (mode === 'echo') echoSeen.mark(st.seq);
  else s.mark(st.seq);
  recorder.record(recvNs, st.intendedNs, st.lateNs);
  if (st.seq >= tailFrom) tail.record(recvNs, st.intendedNs, st.lateNs);
  if (samples && samples.length < MAX_SAMPLES) samples.push(recvNs - st.intendedNs);
  if (awaiting.size) {
    const w = awaiting.get(st.seq);
    if (w) {
      awaiting.delete(st.seq);
      echoed(w);
    }
  }
}

/** Connect attempts per client: a handshake that times out while tens of thousands connect at once is tried again. */
const START_ATTEMPTS = 5;

async function startWithRetry(c: TransportClient): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await c.start();
      return;
    } catch (e) {
      if (attempt >= START_ATTEMPTS) throw e;
      noteError(e as Error);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** The payload bytes of `sendNow` sends, one buffer for every message (the client copies them into its frame). */
const writer = new PayloadWriter();

/** The payload size of the latest open-loop phase, for backlogs counted in bytes. */
let lastSendSize = 64;

/** Open-loop sends not yet settled, over every `send` request (a step's tail may outlive its request). */
let sendsOut = 0;

/** A client frame's header at most (14 bytes: 64-bit length and mask), for backlogs counted in bytes. */
const FRAME_HEADER_MAX = 14;

/** Bytes clients that send at once hold unsent. */
function bufferedBytes(): number {
  let n = 0;
  for (const c of clients) n += c.bufferedBytes ?? 0;
  return n;
}

/** Resolves when no open-loop send is out (nor held by a client), or after `timeoutMs`, with what is still out. */
async function settle(m: Req<'settle'>): Promise<LoadCalls['settle']['reply']> {
  const end = performance.now() + m.timeoutMs;
  while ((sendsOut > 0 || bufferedBytes() > 0) && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  return { pending: sendsOut + (bufferedBytes() > 0 ? Math.max(1, Math.round(bufferedBytes() / (lastSendSize + FRAME_HEADER_MAX))) : 0) };
}

/** Echo mode, open loop: every client sends at `ratePerClient`, stamped with its intended time. */
async function sendLoad(m: Req<'send'>): Promise<LoadCalls['send']['reply']> {
  const size = m.size;
  lastSendSize = size;
  const maxInflight = m.maxInflight ?? 256;
  const gather = m.gather === true;
  // Gathering, a client's backlog is what it held when the tick began: the frames of this tick
  // wait for its end by design, and a late timer's catch-up is sent, not counted as held back.
  const tickBase = new Float64Array(clients.length);
  const tickOf = new Uint32Array(clients.length);
  let tick = 0;
  let tickOpen = false;
  const endTick = (): void => {
    tickOpen = false;
  };
  const backlog = (i: number, c: TransportClient): number => {
    if (!gather) return c.bufferedBytes ?? 0;
    if (!tickOpen) {
      tickOpen = true;
      tick++;
      process.nextTick(endTick);
    }
    if (tickOf[i] !== tick) {
      tickOf[i] = tick;
      tickBase[i] = c.bufferedBytes ?? 0;
    }
    return tickBase[i]!;
  };
  const inflight = new Array<number>(clients.length).fill(0);
  // A message due a whole phase ago is not sent: a sender that far behind cannot keep the rate,
  // and working off its backlog one send at a time would only stretch the phase without end.
  const hopelessNs = BigInt(Math.round(m.durationMs)) * 1_000_000n;
  const r = await runSchedule(
    m.ratePerClient * clients.length,
    m.durationMs,
    (seq, intendedNs) => {
      const i = (seq - 1) % clients.length;
      const c = clients[i]!;
      const now = process.hrtime.bigint();
      if (now - intendedNs > hopelessNs) {
        notSent++;
        return;
      }
      // A client that sends at once holds its backlog as bytes: `maxInflight` frames' worth.
      if (inflight[i]! >= maxInflight || backlog(i, c) >= maxInflight * (size + FRAME_HEADER_MAX)) {
        notSent++;
        return;
      }
      openLoop = true;
      sentSeen.mark(seq);
      if (seq >= fromSeq) sent++;
      if (c.sendNow !== undefined) {
        // Handed to the socket at once: no promise; its backlog is the client's buffered bytes,
        // and the payload's bytes come from one buffer.
        try {
          c.sendNow(writer.encode(seq, intendedNs, now, size), gather);
        } catch (e) {
          sendErrors++;
          noteError(e as Error);
        }
        return;
      }
      inflight[i]!++;
      sendsOut++;
      c.send(encodePayload(seq, intendedNs, now, size))
        .catch((e: Error) => {
          sendErrors++;
          noteError(e);
        })
        .finally(() => {
          inflight[i]!--;
          sendsOut--;
        });
    },
    m.firstSeq ?? 1,
  );
  return { first: r.first, last: r.last, sent, notSent, sendErrors, maxLateMs: r.maxLateMs };
}

/**
 * Closed loop for `durationMs`: every client keeps `inFlight` messages out, each sent again when
 * its echo returns, straight from the echo's delivery: no promise or timer per message.
 */
function pingPong(m: Req<'ping-pong'>): Promise<LoadCalls['ping-pong']['reply']> {
  const size = m.size;
  const inFlight = m.inFlight ?? 1;
  const end = performance.now() + m.durationMs;
  const timeoutMs = m.echoTimeoutMs ?? ECHO_TIMEOUT_MS;
  let next = 0;
  return new Promise((resolve, reject) => {
    /** Slots whose last echo has not come back since the loop's end. */
    let active = 0;
    let over = false;
    const stop = (e?: Error): void => {
      if (over) return;
      over = true;
      clearInterval(watchdog);
      echoed = () => {};
      // Every echo still awaited ends with the loop: none outlives it to set off a send or be judged overdue in the next.
      awaiting.clear();
      if (e) reject(e);
      else resolve({ first: 1, last: next, sent });
    };
    const fire = (slot: Slot): void => {
      const at = performance.now();
      if (over) return;
      if (at >= end) {
        if (--active === 0) stop();
        return;
      }
      const seq = ++next;
      slot.at = at;
      awaiting.set(seq, slot);
      const now = process.hrtime.bigint();
      sent++;
      const c = slot.client;
      // Gathered: the sends that echoes of one read set off leave in one write per connection.
      if (c.sendNow === undefined) c.send(encodePayload(seq, now, now, size)).catch(stop);
      else {
        try {
          c.sendNow(writer.encode(seq, now, now, size), true);
        } catch (e) {
          stop(e as Error);
        }
      }
    };
    // One watchdog fails the echo that is overdue, looking from the oldest awaited. A 10 s timer per
    // message kept hundreds of thousands alive at 40,000 round trips a second: a 140 MB heap whose
    // full collections stopped the loop for 280 ms.
    const watchdog = setInterval(
      () => {
        const now = performance.now();
        for (const [seq, w] of awaiting) {
          if (now - w.at < timeoutMs) break;
          awaiting.delete(seq);
          stop(new Error(`no echo of message ${seq} within ${timeoutMs / 1000} s`));
          return;
        }
      },
      Math.min(500, timeoutMs / 4),
    );
    echoed = fire;
    for (const client of clients) {
      for (let k = 0; k < inFlight; k++) {
        active++;
        fire({ client, at: 0 });
      }
    }
    if (active === 0) stop();
  });
}

function finish(m: Req<'finish'>): LoadCalls['finish']['reply'] {
  clearInterval(progress);
  const { first, last } = m;
  const totals = sampler.totals();
  const bytes = clientSocketBytes();
  let inRange = 0;
  let dups = 0;
  let owed: number;
  let clientsLosing = 0;
  if (mode === 'echo') {
    inRange = echoSeen.countIn(first, last);
    dups = echoSeen.dups;
    // Sends made before the measured phase began were counted while fromSeq was still 1.
    owed = openLoop ? sentSeen.countIn(first, last) : sent;
  } else {
    for (const s of seen) {
      const got = s.countIn(first, last);
      if (got < last - first + 1) clientsLosing++;
      inRange += got;
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
  return {
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
    clientsLosing,
    requests,
    emptyResponses: empty,
    cpuMs: totals.cpuMs,
    wallMs: totals.wallMs,
    cpuPct: totals.cpuPct,
    errors,
    // From the first connect, as the server's counters count from just before the load connected.
    clientBytesRead: bytes.read,
    clientBytesWritten: bytes.written,
    ...(samples && { samples }),
    ...(tailFrom !== Number.POSITIVE_INFINITY && { tail: encodeHistogram(tail.corrected) }),
  };
}

/** Drops what was recorded so far; only deliveries from `from` on count from here. */
function forget(from: number): void {
  fromSeq = from;
  recorder.reset();
  if (samples) samples = [];
  delivered = 0;
  for (const x of seen) x.dups = 0;
  echoSeen.dups = 0;
}

const emit = serveParent<LoadCalls, LoadEvents>(
  {
    async init(m) {
      await startAll(m);
      return { clients: clients.length };
    },
    arm(m) {
      forget(m.fromSeq);
      armed = m.fromSeq;
      return {};
    },
    measure(m) {
      // A new measured phase: what came before (warm-up, an earlier step) is forgotten, unless
      // this phase was armed before its traffic began.
      if (armed === undefined || armed !== (m.fromSeq ?? 1)) forget(m.fromSeq ?? 1);
      armed = undefined;
      tailFrom = m.tailFrom ?? Number.POSITIVE_INFINITY;
      tail.reset();
      sampler.start();
      clearInterval(progress);
      progress = setInterval(() => emit('progress', { delivered, connected, ...sampler.interval() }), m.everyMs ?? 500);
      return {};
    },
    send: sendLoad,
    settle,
    'ping-pong': pingPong,
    snapshot: () => {
      const frames = h2FrameCounts();
      return Object.keys(frames.up).length > 0 ? { delivered, sent, connected, h2Frames: frames } : { delivered, sent, connected };
    },
    finish,
    mark(m) {
      markNs = m.atNs;
      backAfter.fill(Number.NaN);
      // The mark can reach this process after the end it stands for (a crash is sent before its
      // mark): a client already down then was cut by it, and is not one that kept its connection.
      for (let i = 0; i < clients.length; i++) cut[i] = up[i] === 1 ? 0 : 1;
      return {};
    },
    recovery: () => ({
      ms: Array.from(backAfter.subarray(0, clients.length), (x) => (Number.isNaN(x) ? null : Math.round(x * 10) / 10)),
      kept: cut.subarray(0, clients.length).reduce((a, c, i) => a + (c === 0 && Number.isNaN(backAfter[i]) ? 1 : 0), 0),
    }),
    tail(m) {
      tailFrom = m.from;
      tail.reset();
      return {};
    },
  },
  // Leave at once: polite closes would only add minutes to a long run.
  () => clearInterval(progress),
);
