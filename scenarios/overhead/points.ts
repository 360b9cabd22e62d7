/**
 * One point of the overhead sweep: its window, the readings of the server and the load at both
 * ends of it, and the figures they give, set-up amortised over the session.
 */
import type { FrameCounts } from '../../clients/h2-frames.ts';
import type { PlainPayload } from '../../metrics/plain-payload.ts';
import { round, sinceBase } from '../../runner/collect.ts';
import type { Session } from '../../runner/session.ts';
import type { ServerCounters } from '../../servers/contract.ts';
import { h2Point, sumFrames } from './h2.ts';
import type { OverheadSweepPoint } from './schema.ts';

/** Publishing runs this long past a point's window, so the reading that closes it lands while messages still flow. */
export const TAIL_MS = 100;

/** What a point's window follows from: the least messages and time per point, and the poll interval. */
interface PointPlan {
  /** Least measured messages per point. */
  minMessages: number;
  /** Least measured window per point, ms. */
  minWindowMs: number;
  pollIntervalMs: number;
}

/** A sweep point with the figures behind it. */
export interface MeasuredPoint extends OverheadSweepPoint {
  /** Bytes per delivered message in steady state, set-up not included. */
  steadyBytesPerMessage: number;
  /** Set-up bytes per client, amortised into bytesPerMessage over the session. */
  setupBytesPerClient: number;
  delivered: number;
  windowMs: number;
  requests: number;
}

/** A point's measured window, ms: enough messages and time; for short polling whole poll cycles, so the window holds a whole number of polls per client. */
export function pointWindowMs(p: PointPlan, rate: number, polls: boolean): number {
  const w = Math.max(p.minWindowMs, (1000 * p.minMessages) / rate);
  return polls ? Math.ceil(w / p.pollIntervalMs) * p.pollIntervalMs : w;
}

/** The server's counters and CPU, and what the load processes delivered, at one moment. */
interface Reading {
  c: ServerCounters & { cpuMs: number };
  delivered: number;
  /** With HTTP/2 clients, their sessions' frames by type (see ./h2.ts). */
  frames: FrameCounts | undefined;
}

async function reading(s: Session): Promise<Reading> {
  const [u, snaps] = await Promise.all([s.usage(), s.snapshots()]);
  return { c: { ...u.counters, cpuMs: u.cpuMs }, delivered: snaps.reduce((a, m) => a + m.delivered, 0), frames: sumFrames(snaps.map((m) => m.h2Frames)) };
}

/** Over TLS the server also counts the plaintext above TLS: the same sweep without TLS's records and handshakes. */
const plainOf = (c: ServerCounters) => (c.plainBytesRead ?? 0) + (c.plainBytesWritten ?? 0);

/** What connecting the subscribers cost: the counters since the base, per client; the plaintext per client over TLS only. */
export interface Setup {
  bytesRead: number;
  bytesWritten: number;
  connections: number;
  bytesPerClient: number;
  plainPerClient: number | undefined;
}

export function setupOf(afterSetup: ServerCounters, base: ServerCounters | undefined, clients: number): Setup {
  const setup = sinceBase(afterSetup, base);
  const tls = afterSetup.plainBytesRead !== undefined;
  return {
    bytesRead: setup.bytesRead,
    bytesWritten: setup.bytesWritten,
    connections: setup.connections,
    bytesPerClient: (setup.bytesRead + setup.bytesWritten) / clients,
    plainPerClient: tls ? (plainOf(afterSetup) - plainOf(base ?? afterSetup)) / clients : undefined,
  };
}

/** One point's spec: messages per second per client, their size and payload kind. */
interface PointSpec {
  rate: number;
  size: number;
  payload: PlainPayload;
}

/** The readings at both ends of a point's window, and the window as it ran, ms. */
export interface PointReadings {
  r0: Reading;
  r1: Reading;
  measuredMs: number;
}

/** Publishes at the point's rate and size, and reads the counters at both ends of its window, after the lag margin. */
export async function measurePoint(s: Session, spec: PointSpec, windowMs: number, lagMs: number): Promise<PointReadings> {
  // Publishing stops just after the window: what it published last arrives during the next
  // point's unmeasured lead-in, which any change of rate or size needs anyway.
  const publishMs = lagMs + windowMs + TAIL_MS;
  const publishing = s.publish({ rate: spec.rate, size: spec.size, durationMs: publishMs, plain: true, payload: spec.payload });
  await sleep(lagMs);
  const r0 = await reading(s);
  const t0 = performance.now();
  await sleep(windowMs - (performance.now() - t0));
  const r1 = await reading(s);
  const measuredMs = performance.now() - t0;
  await publishing;
  return { r0, r1, measuredMs };
}

/** A point's figures from its readings: bytes per delivered message in steady state, plus the set-up amortised over the session. */
export function pointFigures(spec: PointSpec, m: PointReadings, setup: Setup, sessionSeconds: number): MeasuredPoint {
  const { rate, size, payload } = spec;
  const { c: c0, frames: f0 } = m.r0;
  const { c: c1, frames: f1 } = m.r1;
  const got = m.r1.delivered - m.r0.delivered;
  const bytes = c1.bytesRead - c0.bytesRead + (c1.bytesWritten - c0.bytesWritten);
  if (got === 0) throw new Error(`no message delivered at ${rate} msg/s × ${size} B within ${(m.measuredMs / 1000).toFixed(1)} s`);
  const steady = bytes / got;
  const amortised = setup.bytesPerClient / (rate * sessionSeconds);
  const plainPerMessage = setup.plainPerClient !== undefined ? (plainOf(c1) - plainOf(c0)) / got + setup.plainPerClient / (rate * sessionSeconds) : undefined;
  return {
    ratePerClient: rate,
    sizeBytes: size,
    bytesPerMessage: round(steady + amortised),
    overheadBytesPerMessage: round(steady + amortised - size),
    steadyBytesPerMessage: round(steady),
    setupBytesPerClient: round(setup.bytesPerClient),
    delivered: got,
    windowMs: Math.round(m.measuredMs),
    requests: c1.requests - c0.requests,
    payload,
    serverCpuUsPerMessage: round(((c1.cpuMs - c0.cpuMs) * 1000) / got),
    ...(plainPerMessage !== undefined && { plainBytesPerMessage: round(plainPerMessage) }),
    ...(f0 && f1 && h2Point(f0, f1, got, c1.requests - c0.requests)),
  };
}

/** A window's bytes by direction with `share` of the set-up bytes, amortised as in bytesPerMessage. */
export function windowBytes(m: PointReadings, setup: Setup, share: number): { up: number; down: number } {
  const { c: c0 } = m.r0;
  const { c: c1 } = m.r1;
  return {
    up: Math.round(c1.bytesRead - c0.bytesRead + setup.bytesRead * share),
    down: Math.round(c1.bytesWritten - c0.bytesWritten + setup.bytesWritten * share),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
