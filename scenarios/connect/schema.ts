/** What the connect scenario writes in `extra`: the time from a fresh client to its first message, in ms and in round trips. */
import { z } from 'zod';
import { opt, readWith } from '../read.ts';

/** The round trips a transport's protocols need before its first message, by step. */
const PredictedSchema = z.object({
  /** Their number. */
  roundTrips: z.number(),
  /** Each step, in words ("TCP 1", "TLS 1.3 1", "upgrade 1"). */
  steps: z.array(z.string()),
  /** Short polling: a poll that finds nothing waits one more interval. */
  plusInterval: z.boolean(),
});

const ConnectExtraSchema = z.object({
  /** Fresh clients timed. */
  fresh: z.number(),
  /** Creation of a client to its first delivered message, ms: median, least and most over the fresh clients. */
  firstMessageMs: z.object({ median: z.number(), min: z.number(), max: z.number() }),
  /** Every client's time, ms, in order. */
  samplesMs: opt(z.array(z.number())),
  /** The link's round trip, ms (0: loopback, no link). */
  rttMs: z.number(),
  /** The median time divided by the RTT; absent on loopback. */
  roundTrips: opt(z.number()),
  /** What the protocols predict; absent for a row whose protocol the lab did not write (a peer). */
  predicted: opt(PredictedSchema),
  /** Whether the run was over TLS. */
  tls: z.boolean(),
  /** How often the server published while the clients connected, ms (a twentieth of the RTT on a link, at least 2 ms). */
  publishEveryMs: opt(z.number()),
  /** Clients that got no message, with why. */
  errors: opt(z.array(z.string())),
  /**
   * With a link: every connection reset at once, then the time to the first message sent after
   * it, ms (null: none came, or the client does not reconnect by itself), and the client's rule.
   */
  reconnect: opt(z.object({ ms: z.number().nullable(), rule: z.string() })),
});

/** `extra` of a connect row. */
export type ConnectExtra = z.infer<typeof ConnectExtraSchema>;

/** The connect figures of a row's `extra`, or undefined when they do not parse. */
export function readConnect(extra: unknown): ConnectExtra | undefined {
  return readWith(ConnectExtraSchema, extra);
}
