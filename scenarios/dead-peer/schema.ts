/** What the dead-peer scenario writes in `extra`: whether and when the server freed a frozen peer. */
import { z } from 'zod';
import { opt, readWith } from '../read.ts';

/** Liveness settings in force: ping interval and missed pongs for WebSocket, comment interval for SSE, 0 where none applies. */
const HeartbeatSchema = z.object({
  /** Interval, ms. */
  intervalMs: z.number(),
  /** Unanswered pings allowed. */
  maxMissed: z.number(),
});

/** `extra` of a dead-peer row: the part every reader needs. */
const DeadPeerExtraSchema = z.object({
  /** Whether the server freed the peer within the cap (absent in old files: detected when detectMs is there). */
  detected: opt(z.boolean()),
  /** Time from the peer going silent to the server dropping it, ms; only when detected. */
  detectMs: opt(z.number()),
  /** How long the scenario waited, ms. */
  capMs: opt(z.number()),
  /** The liveness settings in force. */
  heartbeat: opt(HeartbeatSchema),
  /** `ping-pong`, `one-way comment` or `none`. */
  heartbeatKind: opt(z.string()),
  /** When the server should notice by its own settings, ms; null when nothing would. */
  expectedMs: opt(z.number().nullable()),
  /** Why it noticed, or why not. */
  mechanism: opt(z.string()),
});
/** `extra` of a dead-peer row: the part every reader needs. */
export type DeadPeerExtra = z.infer<typeof DeadPeerExtraSchema>;

/** A dead-peer row as the report reads it: detected with a time, or not within the cap. */
export type DeadPeerView = Omit<DeadPeerExtra, 'detected'> & {
  /** Whether the server freed the peer within the cap. */
  detected: boolean;
};

/**
 * Dead-peer detection of a row. A row counts when it has a detection time, or
 * says `detected: false` with the cap it waited; everything else is optional.
 */
export function readDeadPeer(extra: unknown): DeadPeerView | undefined {
  const x = readWith(DeadPeerExtraSchema, extra);
  if (!x) return undefined;
  const detected = x.detected === false ? false : x.detectMs !== undefined;
  if (!detected && (x.detected !== false || x.capMs === undefined)) return undefined;
  const out: DeadPeerView = { detected };
  if (detected) out.detectMs = x.detectMs;
  for (const k of ['capMs', 'heartbeat', 'heartbeatKind', 'expectedMs', 'mechanism'] as const) if (x[k] !== undefined) Object.assign(out, { [k]: x[k] });
  return out;
}
