/** What the cluster primary and its nodes say to each other over the cluster's IPC channel. */
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { ServerLauncher } from '../transports/descriptor.ts';

/** Totals of one process over a measured phase (runner/protocol.ts has the same shape). */
interface NodeProcessTotals {
  cpuMs: number;
  wallMs: number;
  cpuPct: number;
  rssMaxBytes: number;
}

/** A request from the primary to a node; `id` pairs it with its reply. */
export type NodeRequest = { id: number } & (
  | { type: 'init'; server: ServerLauncher; options: ServerOptions; redisUrl: string; prefix: string; host: string; alsoHosts: string[] }
  | { type: 'measure' }
  | { type: 'interval' }
  | { type: 'counters' }
  | { type: 'totals' }
  | { type: 'gc' }
  | { type: 'close' }
);

/** A node's reply. */
export type NodeReply = { id: number } & (
  | { type: 'ready' }
  | { type: 'init'; port: number }
  | { type: 'measure' }
  | { type: 'interval'; cpuPct: number; rssBytes: number }
  | { type: 'counters'; counters: ServerCounters; rssBytes: number; heapUsedBytes: number; cpuMs: number }
  | { type: 'totals'; process: NodeProcessTotals; counters: ServerCounters }
  | { type: 'gc' }
  | { type: 'close' }
  | { type: 'error'; error: string }
);
