/**
 * The link emulator's sockets: a TCP relay on a free loopback port that forwards every
 * connection to the real server (the lab's, nginx, a peer, a cluster balancer) and moves each
 * direction's bytes at the times the link model gives (path/link-model.ts). It runs in its own
 * process (runner/link-child.ts), so its cost is its own and is measured like the load's.
 *
 * The hot path is one `admit` per chunk read and one timer per direction of a connection: the
 * pieces wait in arrival order (the model never reorders), and the timer is set for the head only.
 */
import net from 'node:net';
import { LinkDirection, seededRandom } from './link-model.ts';
import type { LinkParams } from './links.ts';

/** Where the relay forwards to; several are taken in turn, connection by connection (a clustered server's addresses). */
export interface Upstream {
  host: string;
  port: number;
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

/** One direction of one relayed connection: reads from `from`, writes to `to` when the model says. */
class Lane {
  private readonly flight: InFlight[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Whether the sender ended its side in order (a FIN, not a reset). */
  ended = false;

  constructor(
    private readonly model: LinkDirection,
    private readonly from: net.Socket,
    private readonly to: net.Socket,
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
    // The end of stream follows the last byte: the model's arrivals never go down, and neither may this one.
    const last = this.flight[this.flight.length - 1];
    if (last && f.at < last.at) f.at = last.at;
    this.flight.push(f);
    if (this.flight.length - this.head === 1) this.arm();
  }

  private arm(): void {
    const next = this.flight[this.head];
    if (!next) return;
    const wait = next.at - performance.now() - EARLY_MS;
    this.timer = setTimeout(this.fire, Math.max(0, Math.floor(wait)));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now() + EARLY_MS;
    while (this.head < this.flight.length && this.flight[this.head]!.at <= now) {
      const f = this.flight[this.head++]!;
      if (this.to.destroyed) break;
      if (f.data) this.to.write(f.data);
      else this.to.end();
    }
    if (this.head === this.flight.length) {
      this.flight.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.flight.splice(0, this.head);
      this.head = 0;
    }
    this.maybeResume();
    this.arm();
  };

  /** Reads from the sender again once the link's queue is half empty and the receiver takes bytes ('drain' calls again). */
  private maybeResume(): void {
    if (!this.paused || this.resumeTimer || this.to.writableNeedDrain) return;
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

  /** Drops what is in flight (the connection is gone). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.timer = undefined;
    this.resumeTimer = undefined;
    this.flight.length = 0;
    this.head = 0;
  }
}

/** A running relay. */
export interface LinkRelay {
  port: number;
  stats(): RelayStats;
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
  const stats: RelayStats = { connections: 0, chunks: 0, bytesUp: 0, bytesDown: 0, lostSegments: 0 };
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
    const laneUp = new Lane(up, client, upstream, (n) => {
      stats.chunks++;
      stats.bytesUp += n;
    });
    const laneDown = new Lane(down, upstream, client, (n) => {
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
    stats: () => ({ ...stats, lostSegments: models.reduce((a, m) => a + m.lost, 0) }),
    drop: () => {
      const n = open.size;
      for (const l of lanes) l.stop();
      // A reset, not a FIN: the clients see the connection fail, as when a path goes away.
      for (const s of open) s.resetAndDestroy();
      return n;
    },
    close: async () => {
      for (const l of lanes) l.stop();
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
