/** What the connections scenario writes in `extra`: a step per count of idle connections. */
import { z } from 'zod';
import { listOf, opt, readWith } from '../read.ts';

/** One step of the connections ramp: idle connections held and what they cost. */
const ConnectionsStepSchema = z.object({
  /** Open connections at this step. */
  connections: z.number(),
  /** Server resident set size, bytes. */
  rssBytes: z.number(),
  /** Server V8 heap used, bytes. */
  heapBytes: z.number(),
  /** (rss − rss with no connections) / connections, bytes. */
  rssPerConnBytes: z.number(),
  /** Server CPU while holding them idle, percent of one core. */
  cpuPct: z.number(),
  /** RSS added per connection since the previous step, bytes. */
  marginalRssPerConnBytes: opt(z.number()),
  /** RSS per TCP socket the server held, bytes. */
  rssPerSocketBytes: opt(z.number()),
  /** V8 heap per connection above the empty server, bytes. */
  heapPerConnBytes: opt(z.number()),
  /** TCP connections the server held. */
  socketsOpen: opt(z.number()),
  /** Subscribers the server counted. */
  subscribers: opt(z.number()),
  /** Server CPU over the hold, ms. */
  cpuMs: opt(z.number()),
  /** HTTP requests answered per second while idle (polls). */
  requestsPerSec: opt(z.number()),
  /** Time to open the step's new connections, ms. */
  connectMs: opt(z.number()),
  /** Load processes holding the subscribers. */
  loadProcesses: opt(z.number()),
  /** Highest load-process CPU over the hold, percent of one core. */
  clientCpuPct: opt(z.number()),
});
/** One step of the connections ramp: idle connections held and what they cost. */
export type ConnectionsStep = z.infer<typeof ConnectionsStepSchema>;

/** A connections step that was not run, and why. */
const ConnectionsSkippedStepSchema = z.object({
  /** The count that was not held. */
  connections: z.number(),
  /** Why not. */
  reason: z.string(),
});

/** `extra` of a connections row, as the report reads it. */
const ConnectionsExtraSchema = z.object({
  /** The steps held, each with what it cost. */
  steps: opt(listOf(ConnectionsStepSchema)),
  /** Steps not run and why. */
  skipped: opt(listOf(ConnectionsSkippedStepSchema)),
  /** The empty server after a gc: the base of every per-connection figure. */
  baseline: opt(z.object({ rssBytes: z.number(), heapBytes: z.number() })),
  /** HTTP/2 rows: subscribers per session (the steps' sockets are then sessions). */
  streamsPerSession: opt(z.number()),
});
/** `extra` of a connections row, as the report reads it. */
type ConnectionsExtra = z.infer<typeof ConnectionsExtraSchema>;

/** The connections figures of a row: steps sorted by count; empty lists read as absent. */
export function readConnections(extra: unknown): ConnectionsExtra | undefined {
  const c = readWith(ConnectionsExtraSchema, extra);
  if (!c) return undefined;
  return {
    ...(c.steps && c.steps.length > 0 && { steps: c.steps.slice().sort((a, b) => a.connections - b.connections) }),
    ...(c.skipped && c.skipped.length > 0 && { skipped: c.skipped }),
    ...(c.baseline && { baseline: c.baseline }),
    ...(c.streamsPerSession !== undefined && { streamsPerSession: c.streamsPerSession }),
  };
}
