/**
 * The pure parts of the throughput ramp: a step's verdict and figures from what it counted, and
 * the log of steps that decides the next rate and makes the row. No process, no clock: the run
 * (ramp.ts) measures, these judge.
 */
import type { LatencySummary, TransportName, TransportResult } from '../../metrics/results.ts';
import { round } from '../../runner/collect.ts';
import { measuredRow } from '../contract.ts';
import type { ThroughputStep } from './schema.ts';
import { bracketOf, nextRate, SUSTAINED_SHARE, type Tried } from './search.ts';

/** What one measured step gives the log: its row, why it did not hold (undefined: it held), the last tenth's median going down. */
export interface StepOutcome {
  row: TransportResult;
  why: string | undefined;
  endP50?: number | undefined;
}

/**
 * Going down, the row without its last tenth's latency, and that latency's median: it is the
 * step's verdict (a backlog still growing), not a figure of the row.
 */
export function withoutEnd(row: TransportResult): { row: TransportResult; endP50: number | undefined } {
  const { endLatencyMs, ...rest } = row.extra ?? {};
  return { row: { ...row, extra: rest }, endP50: (endLatencyMs as LatencySummary | undefined)?.p50 };
}

/** Going up, what a step's senders and the server counted. */
export interface UpCount {
  /** Messages the senders wrote in this step. */
  owed: number;
  /** Messages the senders held back for lack of room. */
  notSent: number;
  /** Messages the server received in this step. */
  got: number;
  /** Clients sending. */
  clients: number;
}

/** The senders' cumulative totals turned into one step's: what it sent and held back past `before`. */
export function stepTotals(now: { sent: number; notSent: number }, before: { sent: number; notSent: number }): { owed: number; notSent: number } {
  return { owed: now.sent - before.sent, notSent: now.notSent - before.notSent };
}

/** Why a step going up did not hold, or undefined when it held: a sender fell behind, or the server fell short. */
export function upStepWhy(c: UpCount): string | undefined {
  if (c.notSent > 0) return `${c.notSent} messages held back: ${c.clients} client(s) could not send that fast`;
  if (c.got < c.owed * SUSTAINED_SHARE) return `server received only ${c.got} of ${c.owed}`;
  return undefined;
}

/** Whether a step going up left nothing in flight, so the next may reuse its senders. */
export function upClean(c: UpCount): boolean {
  return c.notSent === 0 && c.got >= c.owed;
}

/**
 * A step going up counts what the server received: nothing comes back, so the row has no
 * latency, and its messages, throughput and payload are the server's count over `seconds`.
 */
export function upFigures(row: TransportResult, c: UpCount, size: number, seconds: number): TransportResult {
  const payload = c.got * size;
  const wire = row.wire!;
  const wireTotal = wire.bytesUp + wire.bytesDown;
  return {
    ...row,
    latencyMs: null,
    latencyMsUncorrected: null,
    percentiles: [],
    messages: { sent: c.owed + c.notSent, delivered: c.got, lost: c.owed + c.notSent - c.got },
    throughput: { messagesPerSec: round(c.got / seconds), payloadBytesPerSec: round(payload / seconds) },
    wire: {
      ...wire,
      payloadBytes: payload,
      overheadBytesPerMessage: c.got ? round((wireTotal - payload) / c.got) : 0,
      bytesPerMessage: c.got ? round(wireTotal / c.got) : 0,
    },
  };
}

/** What the search asks for: where it starts, how narrow it ends, how many steps it may take. */
export interface SearchSpec {
  direction: 'down' | 'up';
  startRate: number;
  resolution: number;
  maxSteps: number;
}

/** The measured steps of one search: the next rate they ask for, and the row they make. */
export class RampLog {
  readonly steps: ThroughputStep[] = [];
  private readonly tried: Tried[] = [];
  /** The row of the highest rate that held: it carries the figures. */
  private best: TransportResult | undefined;

  constructor(private readonly spec: SearchSpec) {}

  /** Records a measured step (not the warm-up). */
  record(rate: number, o: StepOutcome): void {
    this.steps.push({
      rate,
      deliveredPerSec: o.row.throughput!.messagesPerSec,
      p99Ms: o.row.latencyMs?.p99 ?? null,
      ...(o.endP50 !== undefined && { endP50Ms: o.endP50 }),
      sustained: !o.why,
      ...(o.why ? { why: o.why } : {}),
    });
    this.tried.push({ rate, sustained: !o.why });
    if (!o.why && (!this.best || rate > (bracketOf(this.tried.slice(0, -1)).sustained ?? 0))) this.best = o.row;
  }

  /** The next rate to try, or undefined when the search is over. */
  next(): number | undefined {
    return nextRate(this.spec.startRate, this.tried, this.spec.resolution, this.spec.maxSteps);
  }

  /** The search's row: the best step's figures with the bracket and every step; the first step's, marked, when none held. */
  row(transport: TransportName): TransportResult {
    const best = this.best;
    const steps = this.steps;
    const b = bracketOf(this.tried);
    const extra = {
      direction: this.spec.direction,
      steps,
      payloadMBps: best ? round(best.throughput!.payloadBytesPerSec / 1e6) : 0,
      sustainedRate: b.sustained ?? 0,
      ...(b.failed !== undefined ? { failedRate: b.failed } : {}),
      ...(b.resolution !== undefined ? { resolution: Math.round(b.resolution * 1000) / 1000 } : {}),
      resolutionTarget: this.spec.resolution,
    };
    if (best) return { ...best, extra: { ...best.extra, ...extra } };
    return measuredRow(transport, {
      throughput: { messagesPerSec: steps[0]?.deliveredPerSec ?? 0, payloadBytesPerSec: 0 },
      messages: null,
      wire: null,
      server: null,
      extra: { ...extra, note: `the first rate (${this.spec.startRate} msg/s) was not sustained: ${steps[0]?.why ?? 'no step ran'}` },
    });
  }
}
