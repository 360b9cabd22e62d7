/** What the echo scenarios write in `extra`: how the round trips were driven. */
import { z } from 'zod';
import { opt, readWith } from '../read.ts';

/** How an echo scenario drives its round trips. */
const EchoModeSchema = z.enum(['ping-pong', 'open-loop', 'pipelined']);

/** `extra` of an echo row; latency is the round trip, in `latencyMs`. */
const EchoExtraSchema = z.object({
  /** Closed loop with one in flight, a fixed rate per client, or a fixed count in flight. */
  mode: opt(EchoModeSchema),
  /** Messages each connection keeps in flight (pipelined). */
  inFlight: opt(z.number()),
  /** Messages per second each client sends (open loop). */
  ratePerClient: opt(z.number()),
});
/** `extra` of an echo row; latency is the round trip, in `latencyMs`. */
export type EchoExtra = z.infer<typeof EchoExtraSchema>;

/** The echo figures of a row, or undefined when it has no mode. */
export function readEcho(extra: unknown): EchoExtra | undefined {
  const e = readWith(EchoExtraSchema, extra);
  return e?.mode !== undefined ? e : undefined;
}
