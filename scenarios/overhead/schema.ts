/** What the overhead sweep writes: its sweep per row in `extra`, crossovers and extrapolation in `summary`. */
import { z } from 'zod';
import { listOf, opt, readWith } from '../read.ts';

/** One point of the overhead sweep for one transport. */
const OverheadSweepPointSchema = z.object({
  /** Messages per second sent to each client. */
  ratePerClient: z.number(),
  /** Payload size, bytes. */
  sizeBytes: z.number(),
  /** All wire bytes per delivered message. */
  bytesPerMessage: z.number(),
  /** Wire bytes per delivered message that are not payload. */
  overheadBytesPerMessage: z.number(),
  /** Bytes per delivered message in steady state, set-up not included. */
  steadyBytesPerMessage: opt(z.number()),
  /** Set-up bytes per client (first request, handshake), amortised into bytesPerMessage. */
  setupBytesPerClient: opt(z.number()),
  /** What the payload was made of: JSON-like text that compresses, or random base64 that does not (absent in older files). */
  payload: opt(z.enum(['compressible', 'incompressible'])),
  /** Server CPU microseconds per delivered message over the point's window. */
  serverCpuUsPerMessage: opt(z.number()),
  /** Over TLS: the same bytes per message counted above TLS (plaintext), set-up amortised alike. */
  plainBytesPerMessage: opt(z.number()),
  /** HTTP/2 rows: bytes per delivered message of each frame type (frame headers included), both directions, above TLS. */
  h2FrameBytesPerMessage: opt(z.record(z.string(), z.number())),
  /** HTTP/2 rows: one request's HEADERS frames, request and response together, bytes. */
  h2HeadersBytesPerRequest: opt(z.number()),
  /** HTTP/2 rows: of those, the HPACK header blocks alone, bytes. */
  h2HeaderBlockBytesPerRequest: opt(z.number()),
});
/** One point of the overhead sweep for one transport. */
export type OverheadSweepPoint = z.infer<typeof OverheadSweepPointSchema>;

/** `extra` of an overhead row. */
const OverheadExtraSchema = z.object({
  /** Every (rate, size) point measured. */
  sweep: listOf(OverheadSweepPointSchema),
  /** Over TLS: bytes of one TLS handshake per client, at the TCP socket. */
  tlsHandshakeBytesPerClient: opt(z.number()),
});

/** The header lines one reply of an HTTP row carried (the Date value left out). */
const ResponseHeadersSchema = z.object({ responseHeaders: z.array(z.string()) });

/** The header lines one reply of an HTTP row carried, or undefined when not recorded. */
export function readResponseHeaders(extra: unknown): string[] | undefined {
  return readWith(ResponseHeadersSchema, extra)?.responseHeaders;
}

/** Where `a` stops costing fewer bytes per message than `b`. */
const OverheadCrossoverSchema = z
  .looseObject({
    /** One transport of the pair. */
    a: z.string(),
    /** The other. */
    b: z.string(),
    /** Payload size of the crossing lines, bytes. */
    sizeBytes: z.number(),
    /** Rate per client at which they cross, msg/s. */
    ratePerClient: z.number(),
    /** Which of the two costs fewer bytes per message below that rate. */
    cheaperBelow: opt(z.string()),
  })
  // A `cheaperBelow` naming neither line says nothing.
  .transform((c) => (c.cheaperBelow === c.a || c.cheaperBelow === c.b ? c : { ...c, cheaperBelow: undefined }));
/** Where `a` stops costing fewer bytes per message than `b`. */
export type OverheadCrossover = z.infer<typeof OverheadCrossoverSchema>;

/** Header bytes per second at a client count the lab did not run. */
const OverheadExtrapolationSchema = z.object({
  /** Clients, each receiving 1 msg/s. */
  clients: z.number(),
  /** Which transport. */
  transport: z.string(),
  /** Non-payload bytes per second at that count. */
  headerBytesPerSec: z.number(),
  /** Always true: computed, not measured. */
  extrapolated: opt(z.literal(true)),
  /** The measured point it was scaled from: rate per client, msg/s. */
  fromRate: opt(z.number()),
  /** The measured point it was scaled from: payload size, bytes. */
  fromSize: opt(z.number()),
});
/** Header bytes per second at a client count the lab did not run. */
export type OverheadExtrapolation = z.infer<typeof OverheadExtrapolationSchema>;

/** `summary` of an overhead scenario. */
const OverheadSummarySchema = z.object({
  /** Crossings of two transports' bytes-per-message lines; empty when none crossed. */
  crossovers: opt(listOf(OverheadCrossoverSchema)),
  /** Header traffic extrapolated to client counts not run. */
  extrapolated: opt(listOf(OverheadExtrapolationSchema)),
});
/** `summary` of an overhead scenario. */
export type OverheadSummary = z.infer<typeof OverheadSummarySchema>;

/** Overhead sweep points of a row, or undefined when it has none. */
export function readOverheadSweep(extra: unknown): OverheadSweepPoint[] | undefined {
  const sweep = readPayloadPoints(extra);
  // The lines, crossovers and extrapolation use the first payload kind measured; the others are compared in their own table.
  return sweep?.filter((p) => p.payload === sweep[0]!.payload);
}

/** Every point of a row's sweep, of every payload kind. */
export function readPayloadPoints(extra: unknown): OverheadSweepPoint[] | undefined {
  const sweep = readWith(OverheadExtraSchema, extra)?.sweep;
  return sweep && sweep.length > 0 ? sweep : undefined;
}

/** The crossovers and extrapolation of a scenario's summary (lists as written, possibly empty). */
export function readOverheadSummary(summary: unknown): OverheadSummary | undefined {
  return readWith(OverheadSummarySchema, summary);
}
