/**
 * What the runner and each kind of child process say to each other. Per
 * request type: the fields the request carries (`req`) and those of the reply
 * (`reply`), which comes back under the same type; per event type: its fields.
 */
import type { FrameCounts } from '../clients/h2-frames.ts';
import type { HeaderProfile } from '../clients/contract.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { ClientModule, ServerLauncher } from '../transports/descriptor.ts';
import type { ScheduleResult } from './schedule.ts';
import type { PlainPayload } from '../metrics/plain-payload.ts';

/** A process's CPU and peak memory since its measured phase began. */
interface ProcessTotals {
  cpuMs: number;
  wallMs: number;
  /** Percent of one core. */
  cpuPct: number;
  rssMaxBytes: number;
}

/** The server child's totals at the end of a measured phase. */
export interface ServerTotals {
  process: ProcessTotals;
  counters: ServerCounters;
  /** Behind a balancer (`--nodes`): each node's share, the balancer's and Redis's (`process` is their sum, Redis left out). */
  cluster?: ClusterTotals;
}

/** What each part of a cluster cost over a measured phase. */
export interface ClusterTotals {
  /** One entry per node started, in order; a node that died is marked so. */
  nodes: { pid: number; cpuMs: number; cpuPct: number; rssMaxBytes: number; connectionsOpen: number; alive: boolean }[];
  /** The cluster primary: accepts and hands connections round-robin, and publishes the bench's messages. */
  balancer: { cpuMs: number; cpuPct: number; rssMaxBytes: number };
  /** The Redis server (INFO cpu, user + system). */
  redis: { cpuMs: number; cpuPct: number };
}

/** How a server child runs its transport as several nodes behind a balancer, with Redis between them. */
interface ClusterSpec {
  nodes: number;
  redisUrl: string;
  /** Key prefix of this session's stream in Redis. */
  prefix: string;
  /**
   * Further loopback addresses the nodes also listen on (127.0.0.2, …): load processes spread
   * over them, so each address pair has its own ephemeral ports (about 28,000 each) and a run can
   * hold more connections than one pair allows.
   */
  alsoHosts?: string[];
}

/** The server child: one transport server, a constant-rate publisher, CPU/RSS sampling. */
export type ServerCalls = {
  /** Creates the server and listens on 127.0.0.1, a free port. */
  init: {
    req: {
      transport: string;
      server: ServerLauncher;
      options: ServerOptions;
      host?: string;
      cluster?: ClusterSpec;
      /** Listen on this port (a server started again where the last one was) instead of a free one. */
      port?: number;
      /**
       * A file that outlives the process: every message is appended to it before it is sent, and a
       * server started on it again first reads it back, so its history and numbering go on.
       */
      journal?: string;
    };
    /** `nodePids`: the node processes behind the balancer, when clustered; `lastSeq`: the newest message its hub holds. */
    reply: { port: number; pid: number; nodePids?: number[]; lastSeq?: number };
  };
  /** Closes the server as a deploy does: WebSocket close 1001, event streams and held polls ended, the listener shut. */
  close: { req: object; reply: object };
  /**
   * A clustered server's nodes fail over while the balancer keeps accepting: `rolling` restarts
   * them one at a time (each closes as `close` does, and its successor is up before the next goes),
   * `node-crash` kills the first with SIGKILL and starts none. `nodePids`: the nodes running after.
   */
  'node-failover': { req: { mode: 'rolling' | 'node-crash' }; reply: { nodePids: number[] } };
  /** Starts the measured phase: CPU and RSS from here, a `sample` every `everyMs` (default 500). */
  measure: { req: { everyMs?: number }; reply: object };
  /** Publishes `rate` messages/s of `size` bytes for `durationMs`; `plain` ones carry no stamp. */
  publish: { req: { rate: number; size: number; durationMs: number; plain?: boolean; payload?: PlainPayload; firstSeq?: number }; reply: ScheduleResult };
  /** The counters and the process's memory now. */
  counters: { req: object; reply: { counters: ServerCounters; rssBytes: number; heapUsedBytes: number; cpuMs: number; at: bigint } };
  /** A forced gc when the process runs with --expose-gc; `exposed` says whether it did. */
  gc: { req: object; reply: { exposed: boolean } };
  /** Ends sampling; the measured phase's totals. */
  totals: { req: object; reply: ServerTotals };
};

/** The server child's unasked messages. */
export type ServerEvents = {
  sample: { cpuPct: number; rssBytes: number; at: bigint };
};

/** How a load process's clients behave: owe every published message, or echo their own. */
export type LoadMode = 'subscribe' | 'echo';

/** What a load process reports at the end of a measured phase. */
export interface LoadResult {
  histograms: { corrected: string; uncorrected: string };
  /** Owed messages that arrived. */
  delivered: number;
  /** Every delivery counted in the phase, outside the range included. */
  received: number;
  duplicates: number;
  lost: number;
  owed: number;
  sent: number;
  notSent: number;
  sendErrors: number;
  /** Deliveries without the lab's stamp. */
  foreign: number;
  requests: number;
  emptyResponses: number;
  cpuMs: number;
  wallMs: number;
  cpuPct: number;
  /** The first few errors the clients recovered from. */
  errors: string[];
  /** Bytes at this process's own sockets since its clients connected (over TLS: plaintext above it). */
  clientBytesRead: number;
  clientBytesWritten: number;
  /** Every corrected latency in ns, when asked for at init (`keepSamples`). */
  samples?: number[];
  /** The corrected latencies of the messages numbered from the phase's `tailFrom` on, encoded. */
  tail?: string;
  /** Clients that missed at least one owed message (subscribe mode). */
  clientsLosing?: number;
}

/** The load child: N clients of one transport. */
export type LoadCalls = {
  /** Connects `clients` clients (`concurrency` at a time, default 50); a second `init` adds more beside them. */
  init: {
    req: {
      transport: string;
      client: ClientModule;
      baseUrl: string;
      clients: number;
      idPrefix: string;
      pollIntervalMs: number;
      headers: HeaderProfile;
      mode: LoadMode;
      concurrency?: number;
      /** https/wss: the certificate to trust. */
      ca?: string;
      /** HTTP/2 rows: simulated pages per session (default 1). */
      streamsPerSession?: number;
      /**
       * Added to every receive time before latency is taken: an agent on another host puts its
       * receive times on the publisher's clock with it (agents/clock.ts). 0 on the run's own host.
       */
      clockOffsetNs?: bigint;
      /** Also keep every corrected latency (ns, up to 200,000) and return them with `finish` (tests of the histogram merge). */
      keepSamples?: boolean;
    };
    reply: { clients: number };
  };
  /**
   * Sets the first counted message before traffic starts: deliveries from `fromSeq` on are
   * recorded from now, so a message that beats the following `measure` to the process is kept.
   */
  arm: { req: { fromSeq: number }; reply: object };
  /**
   * A new measured phase: deliveries numbered below `fromSeq` are warm-up (kept if armed with the
   * same `fromSeq`); those numbered from `tailFrom` on are also recorded apart (`tail`).
   */
  measure: { req: { fromSeq?: number; everyMs?: number; tailFrom?: number }; reply: object };
  /** Echo mode, open loop: every client sends at `ratePerClient` for `durationMs`. */
  send: {
    req: { ratePerClient: number; size: number; durationMs: number; maxInflight?: number; firstSeq?: number };
    reply: { first: number; last: number; sent: number; notSent: number; sendErrors: number; maxLateMs: number };
  };
  /** Closed loop: every client keeps `inFlight` (default 1) messages out for `durationMs`; an echo later than `echoTimeoutMs` (default 10 s) fails it. */
  'ping-pong': { req: { size: number; durationMs: number; inFlight?: number; echoTimeoutMs?: number }; reply: { first: number; last: number; sent: number } };
  /**
   * Waits (at most `timeoutMs`) until no open-loop send is still under way, so that senders held
   * back by a step they could not keep up with can start the next step clean; `pending` is what
   * was still out when it gave up.
   */
  settle: { req: { timeoutMs: number }; reply: { pending: number } };
  /** Deliveries and sends so far, the clients connected now (see the `progress` event); with HTTP/2 clients, their sessions' frames by type so far. */
  snapshot: { req: object; reply: { delivered: number; sent: number; connected?: number; h2Frames?: FrameCounts } };
  /** Ends the phase: the figures for sequence numbers first..last. */
  finish: { req: { first: number; last: number }; reply: LoadResult };
  /**
   * The server went away at `atNs` (`process.hrtime.bigint()`, one clock on one host): each
   * client's next working connection from now on is its recovery (`recovery`).
   */
  mark: { req: { atNs: bigint }; reply: object };
  /**
   * Per client, ms from the mark to its first working connection after it (null: none); `kept`:
   * clients whose connection neither failed nor ended since the mark (another node kept them).
   */
  recovery: { req: object; reply: { ms: (number | null)[]; kept: number } };
  /** Records deliveries of messages numbered from `from` on apart from now (`tail` of `finish`), forgetting earlier ones. */
  tail: { req: { from: number }; reply: object };
};

/** The load child's unasked messages. */
export type LoadEvents = {
  /** `connected`: clients whose latest word was a working connection (opened, or a poll answered), not an error. */
  progress: { delivered: number; cpuPct: number; rssBytes: number; connected?: number };
};
