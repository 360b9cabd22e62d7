/**
 * The link emulator's sockets: a TCP relay on a free loopback port that forwards every
 * connection to the real server (the lab's, nginx, a peer, a cluster balancer) and moves each
 * direction's bytes at the times the link model gives (path/link-model.ts). It runs in its own
 * process (runner/link-child.ts), so its cost is its own and is measured like the load's.
 *
 * The hot path is one `admit` per chunk read; delivery is one timer for the whole relay (Clock),
 * and each lane writes what is due in one corked batch.
 */
import net from 'node:net';
import { LinkDirection, seededRandom } from './link-model.ts';
import type { LinkParams } from './links.ts';

/** Where the relay forwards to; several are taken in turn, connection by connection (a clustered server's addresses). */
export interface Upstream {
  host: string;
  port: number;
}

/** Bytes found waiting in front of one direction's link as each chunk arrived (the router queue a sender meets). */
export interface QueueSeen {
  /** The most found waiting, bytes (since the stats were last asked to reset it). */
  peakBytes: number;
  /** The sum over chunks of the bytes found waiting, and the chunks: their ratio is the mean a chunk met. */
  sumBytes: number;
  chunks: number;
}

/** What a relay has carried since it started. */
export interface RelayStats {
  connections: number;
  /** Chunks read from either side and forwarded. */
  chunks: number;
  bytesUp: number;
  bytesDown: number;
  /** Segments that waited a retransmission timeout. */
  lostSegments: number;
  /** The queue in front of the uplinks (client → server) and the downlinks, every connection's together. */
  queueUp: QueueSeen;
  queueDown: QueueSeen;
}

/** A piece in flight: bytes (or the sender's end of stream) and when they reach the far side. */
interface InFlight {
  at: number;
  data: Buffer | null;
}

/**
 * A timer fires on a whole-millisecond tick and then waits for the scheduler: aimed this much
 * early, with bytes due within it delivered at once, the error centres on zero instead of
 * adding a millisecond or two to every crossing (measured on a busy 2-core machine).
 */
const EARLY_MS = 1;

/**
 * One timer for the whole relay: lanes wait in a binary heap keyed by the arrival time of the
 * piece at their head, and the timer is set for the earliest. A lane's later pieces never arrive
 * before its head (the model never reorders), so a new piece moves no key, and one firing
 * delivers every lane's due pieces: at thousands of messages a second the relay arms one timer
 * per millisecond tick instead of one per piece per connection.
 */
class Clock {
  private readonly heap: Lane[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer is aimed (Infinity: none armed). */
  private aimedAt = Number.POSITIVE_INFINITY;

  /** Puts a lane whose queue was empty in line for its head's arrival. */
  add(lane: Lane): void {
    const h = this.heap;
    let i = h.length;
    h.push(lane);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.due <= lane.due) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = lane;
    if (lane.due < this.aimedAt) this.arm();
  }

  private pop(): Lane {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.due < h[l]!.due ? r : l;
        if (h[c]!.due >= last.due) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const next = this.heap[0];
    if (!next) {
      this.timer = undefined;
      this.aimedAt = Number.POSITIVE_INFINITY;
      return;
    }
    this.aimedAt = next.due;
    this.timer = setTimeout(this.fire, Math.max(0, Math.floor(next.due - performance.now() - EARLY_MS)));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now() + EARLY_MS;
    const again: Lane[] = [];
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const lane = this.pop();
      if (lane.deliver(now)) again.push(lane);
    }
    for (const lane of again) this.add(lane);
    this.aimedAt = Number.POSITIVE_INFINITY;
    this.arm();
  };

  /** Stops the timer (the relay closes). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
    this.aimedAt = Number.POSITIVE_INFINITY;
  }
}

/** One direction of one relayed connection: reads from `from`, writes to `to` when the model says. */
class Lane {
  private readonly flight: InFlight[] = [];
  private head = 0;
  private paused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Whether the sender ended its side in order (a FIN, not a reset). */
  ended = false;
  /** When the piece at the head arrives: the lane's key on the clock while it has pieces. */
  due = 0;

  constructor(
    private readonly model: LinkDirection,
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly clock: Clock,
    private readonly queue: QueueSeen,
    private readonly count: (bytes: number) => void,
  ) {
    from.on('data', (b: Buffer) => this.take(b));
    from.on('end', () => {
      this.ended = true;
      this.push({ at: this.model.finish(performance.now()), data: null });
    });
    to.on('drain', () => this.maybeResume());
  }

  private take(b: Buffer): void {
    this.count(b.length);
    const now = performance.now();
    const ahead = this.model.backlog(now);
    const q = this.queue;
    q.chunks++;
    q.sumBytes += ahead;
    if (ahead > q.peakBytes) q.peakBytes = ahead;
    let start = 0;
    for (const piece of this.model.admit(now, b.length)) {
      this.push({ at: piece.at, data: start === 0 && piece.end === b.length ? b : b.subarray(start, piece.end) });
      start = piece.end;
    }
    // A full queue in front of the link: the sender waits, as behind a router's full buffer.
    if (this.model.backlog(now) > this.model.queueBytes || this.to.writableNeedDrain) {
      this.paused = true;
      this.from.pause();
    }
  }

  private push(f: InFlight): void {
    if (this.stopped) return;
    // The end of stream follows the last byte: the model's arrivals never go down, and neither may this one.
    const last = this.flight[this.flight.length - 1];
    if (last && f.at < last.at) f.at = last.at;
    this.flight.push(f);
    if (this.flight.length - this.head === 1) {
      this.due = f.at;
      this.clock.add(this);
    }
  }

  /** Writes every piece due by `now` in one corked batch; whether pieces remain (the clock keeps the lane). */
  deliver(now: number): boolean {
    if (this.stopped) return false;
    const to = this.to;
    let corked = false;
    while (this.head < this.flight.length && this.flight[this.head]!.at <= now) {
      const f = this.flight[this.head++]!;
      if (to.destroyed) break;
      if (f.data) {
        if (!corked && this.head < this.flight.length && this.flight[this.head]!.at <= now) {
          to.cork();
          corked = true;
        }
        to.write(f.data);
      } else to.end();
    }
    if (corked) to.uncork();
    if (this.head === this.flight.length) {
      this.flight.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.flight.splice(0, this.head);
      this.head = 0;
    }
    this.maybeResume();
    if (this.head < this.flight.length && !to.destroyed) {
      this.due = this.flight[this.head]!.at;
      return true;
    }
    return false;
  }

  /** Reads from the sender again once the link's queue is half empty and the receiver takes bytes ('drain' calls again). */
  private maybeResume(): void {
    if (!this.paused || this.resumeTimer || this.stopped || this.to.writableNeedDrain) return;
    const now = performance.now();
    if (this.model.backlog(now) > this.model.queueBytes / 2) {
      this.resumeTimer = setTimeout(
        () => {
          this.resumeTimer = undefined;
          this.maybeResume();
        },
        Math.max(1, Math.ceil(this.model.queueBelowAt(this.model.queueBytes / 2) - now)),
      );
      return;
    }
    this.paused = false;
    this.from.resume();
  }

  /** Drops what is in flight (the connection is gone); the clock forgets the lane when it next reaches it. */
  stop(): void {
    this.stopped = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    this.flight.length = 0;
    this.head = 0;
  }
}

const noQueue = (): QueueSeen => ({ peakBytes: 0, sumBytes: 0, chunks: 0 });

/** A running relay. */
export interface LinkRelay {
  port: number;
  /** What it has carried; `resetPeaks` starts the queues' peaks afresh after reading them (a measured phase begins). */
  stats(resetPeaks?: boolean): RelayStats;
  /** Resets every open connection at once, both sides (as a path that went away): how many it reset. */
  drop(): number;
  close(): Promise<void>;
}

/**
 * Starts a relay for `params` on `host` (127.0.0.1 unless given), a free port, forwarding to
 * `upstreams` in turn. Connection k's randomness is seeded with `seed + k`, so a run with the
 * same seed and the same order of connections draws the same jitter and losses.
 */
export async function startRelay(params: LinkParams, upstreams: readonly Upstream[], seed: number, host = '127.0.0.1'): Promise<LinkRelay> {
  if (upstreams.length === 0) throw new Error('a link needs a server to forward to');
  const stats: RelayStats = { connections: 0, chunks: 0, bytesUp: 0, bytesDown: 0, lostSegments: 0, queueUp: noQueue(), queueDown: noQueue() };
  const clock = new Clock();
  const open = new Set<net.Socket>();
  const lanes = new Set<Lane>();
  const models: LinkDirection[] = [];
  // Half-open connections stay open: a client's FIN travels the link like its bytes, and the answer still comes back.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const k = stats.connections++;
    const target = upstreams[k % upstreams.length]!;
    const upstream = net.connect({ host: target.host, port: target.port, noDelay: true, allowHalfOpen: true });
    // The kernel finished the handshake before this callback: nothing may leave before SYN and SYN-ACK would have crossed.
    const notBefore = performance.now() + params.rttMs;
    const random = seededRandom(seed + k);
    const up = new LinkDirection(params, params.upBps, notBefore, random);
    const down = new LinkDirection(params, params.downBps, notBefore, random);
    models.push(up, down);
    const laneUp = new Lane(up, client, upstream, clock, stats.queueUp, (n) => {
      stats.chunks++;
      stats.bytesUp += n;
    });
    const laneDown = new Lane(down, upstream, client, clock, stats.queueDown, (n) => {
      stats.chunks++;
      stats.bytesDown += n;
    });
    lanes.add(laneUp).add(laneDown);
    open.add(client).add(upstream);
    // A reset or an error on either side ends both at once; an orderly end travels as a piece (Lane).
    const gone = () => {
      laneUp.stop();
      laneDown.stop();
      lanes.delete(laneUp);
      lanes.delete(laneDown);
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', gone).on('close', () => (laneUp.ended ? open.delete(client) : gone()));
    upstream.on('error', gone).on('close', () => (laneDown.ended ? open.delete(upstream) : gone()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    stats: (resetPeaks = false) => {
      const out = { ...stats, queueUp: { ...stats.queueUp }, queueDown: { ...stats.queueDown }, lostSegments: models.reduce((a, m) => a + m.lost, 0) };
      if (resetPeaks) stats.queueUp.peakBytes = stats.queueDown.peakBytes = 0;
      return out;
    },
    drop: () => {
      const n = open.size;
      for (const l of lanes) l.stop();
      // A reset, not a FIN: the clients see the connection fail, as when a path goes away.
      for (const s of open) s.resetAndDestroy();
      return n;
    },
    close: async () => {
      for (const l of lanes) l.stop();
      clock.stop();
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
