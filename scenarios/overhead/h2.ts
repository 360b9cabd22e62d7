/** The overhead sweep's HTTP/2 layer: bytes per frame type between two snapshots of the load processes' sessions. */
import type { FrameCounts } from '../../clients/h2-frames.ts';
import { round } from '../../runner/collect.ts';

/** Frame counts summed over load processes (undefined when none ran HTTP/2). */
export function sumFrames(all: (FrameCounts | undefined)[]): FrameCounts | undefined {
  const present = all.filter((f): f is FrameCounts => f !== undefined);
  if (present.length === 0) return undefined;
  const out: FrameCounts = { up: {}, down: {} };
  for (const f of present)
    for (const dir of ['up', 'down'] as const)
      for (const [type, t] of Object.entries(f[dir])) {
        const key = type as keyof FrameCounts['up'];
        const o = out[dir][key] ?? { frames: 0, bytes: 0 };
        out[dir][key] = o;
        o.frames += t.frames;
        o.bytes += t.bytes;
        if (t.blockBytes !== undefined) o.blockBytes = (o.blockBytes ?? 0) + t.blockBytes;
      }
  return out;
}

/** What one sweep point adds for an HTTP/2 row: bytes per message by frame type, and a request's HEADERS. */
export interface H2Point {
  /** Bytes per delivered message of each frame type (9-byte frame headers included), both directions. */
  h2FrameBytesPerMessage: Record<string, number>;
  /** A request's HEADERS frames, request and response together (frame headers and HPACK blocks), bytes. */
  h2HeadersBytesPerRequest?: number;
  /** Of those, the HPACK header blocks alone, bytes. */
  h2HeaderBlockBytesPerRequest?: number;
}

/** The point's HTTP/2 figures from the frame counts at its start and end. */
export function h2Point(f0: FrameCounts, f1: FrameCounts, delivered: number, requests: number): H2Point {
  const bytes: Record<string, number> = {};
  let headers = 0;
  let blocks = 0;
  for (const dir of ['up', 'down'] as const)
    for (const [type, t] of Object.entries(f1[dir])) {
      const before = f0[dir][type as keyof FrameCounts['up']];
      const b = t.bytes - (before?.bytes ?? 0);
      bytes[type] = (bytes[type] ?? 0) + b;
      if (type === 'HEADERS' || type === 'CONTINUATION') {
        headers += b;
        blocks += (t.blockBytes ?? 0) - (before?.blockBytes ?? 0);
      }
    }
  const perMessage = Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, round(v / delivered)]));
  return {
    h2FrameBytesPerMessage: perMessage,
    ...(requests > 0 && { h2HeadersBytesPerRequest: round(headers / requests), h2HeaderBlockBytesPerRequest: round(blocks / requests) }),
  };
}
