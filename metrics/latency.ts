/**
 * Latency recording on HdrHistogram, nanosecond resolution. One recorder keeps
 * two histograms: corrected (from the intended send time, so a stalled server
 * cannot hide its stall) and uncorrected (from the actual send time).
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary, PercentilePoint } from './results.ts';

/** Highest latency a histogram tracks: 10 minutes in ns; larger values are clamped. */
const HIGHEST_NS = 600e9;

/**
 * 32-bit counts: a bucket would need 2^31 deliveries to overflow, and recording into them costs a
 * fraction of what the packed layout costs (docs/MEASUREMENTS.md), paid twice for every delivery
 * by a load process that may itself be the limit. A histogram is about 125 KiB.
 */
const BUCKET_BITS = 32;

/** A fresh nanosecond histogram with 3 significant digits. */
function newHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: BUCKET_BITS,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Records one latency in ns, clamped into the trackable range. */
function recordNs(h: hdr.Histogram, ns: number): void {
  h.recordValue(ns < 1 ? 1 : ns > HIGHEST_NS ? HIGHEST_NS : Math.round(ns));
}

/** Serialises a histogram for IPC between processes. */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Reverses encodeHistogram. */
function decodeHistogram(s: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(s, BUCKET_BITS, false);
}

/** A histogram of raw latencies in ns, recorded as a load process records them (to check a merge against). */
export function histogramOf(samplesNs: readonly number[]): hdr.Histogram {
  const h = newHistogram();
  for (const ns of samplesNs) recordNs(h, ns);
  return h;
}

/** Adds several encoded histograms into one. */
export function mergeEncoded(encoded: string[]): hdr.Histogram {
  const out = newHistogram();
  for (const e of encoded) out.add(decodeHistogram(e));
  return out;
}

const NS_PER_MS = 1e6;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The fixed-point latency summary (ms) of a histogram, or null when it is empty. */
export function summarize(h: hdr.Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  return {
    p50: round3(h.getValueAtPercentile(50) / NS_PER_MS),
    p90: round3(h.getValueAtPercentile(90) / NS_PER_MS),
    p99: round3(h.getValueAtPercentile(99) / NS_PER_MS),
    p999: round3(h.getValueAtPercentile(99.9) / NS_PER_MS),
    max: round3(h.maxValue / NS_PER_MS),
    mean: round3(h.mean / NS_PER_MS),
    count: h.totalCount,
  };
}

/** Percentiles for an HdrHistogram-style curve: dense towards the tail, up to 99.99. */
const CURVE_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.25, 97.5, 98, 98.5, 99, 99.25, 99.5, 99.75, 99.9, 99.95, 99.99, 100];

/** The percentile curve of a histogram in ms. */
export function percentileCurve(h: hdr.Histogram): PercentilePoint[] {
  if (h.totalCount === 0) return [];
  return CURVE_PERCENTILES.map((p) => ({
    percentile: p,
    valueMs: round3((p === 100 ? h.maxValue : h.getValueAtPercentile(p)) / NS_PER_MS),
  }));
}

/** Records deliveries: corrected and uncorrected latency side by side. */
export class LatencyRecorder {
  readonly corrected = newHistogram();
  readonly uncorrected = newHistogram();

  /** One delivery: received at recvNs, meant to be sent at intendedNs, sent lateNs after that (ns). */
  record(recvNs: number, intendedNs: number, lateNs: number): void {
    const corrected = recvNs - intendedNs;
    recordNs(this.corrected, corrected);
    recordNs(this.uncorrected, corrected - lateNs);
  }

  /** Forgets everything recorded (a new measured phase begins). */
  reset(): void {
    this.corrected.reset();
    this.uncorrected.reset();
  }

  /** Both histograms, encoded for IPC. */
  encode(): { corrected: string; uncorrected: string } {
    return { corrected: encodeHistogram(this.corrected), uncorrected: encodeHistogram(this.uncorrected) };
  }
}
