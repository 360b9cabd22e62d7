/**
 * The throughput search's run: one session, a warm-up, then steps at the rates the log asks for
 * until it has its bracket. What differs by direction (how the load starts, what a step does and
 * counts) sits in `Down` and `Up`; the verdicts and the row are pure (steps.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import { collect, sinceBase } from '../../runner/collect.ts';
import type { FixedLoadSpec } from '../../runner/fixed-load.ts';
import { scheduleCount } from '../../runner/schedule.ts';
import { Session } from '../../runner/session.ts';
import type { RunContext } from '../contract.ts';
import { downStepWhy, endFrom } from './search.ts';
import { RampLog, type StepOutcome, stepTotals, upClean, upFigures, upStepWhy, withoutEnd } from './steps.ts';

export interface ThroughputParams {
  direction: 'down' | 'up';
  clients: number;
  startRate: number;
  maxSteps: number;
  stepDurationMs: number;
  p99LimitMs: number;
  /** The bisection stops when (failed − sustained) / sustained is at most this (0.1 = 10 %). */
  resolution: number;
  /** Traffic at the first rate before the first measured step, ms (not recorded). */
  warmupMs: number;
  /** The fixed-load phase after the search (frame rows): server CPU per message at a rate all sustain. */
  fixed?: FixedLoadSpec;
  size: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
}

/** How long the backlog of a failed step may take to be delivered before the next step, ms. */
const BACKLOG_MS = 10_000;
/** How long a step going up waits for the server to count what was sent, ms. */
const ARRIVAL_MS = 1000;

/** One direction of the search: how its load is readied before a step, and what a step does. */
interface Direction {
  /** Readies the load for the next step; `first`: no load runs yet. */
  prepare(first: boolean): Promise<void>;
  /** Runs one step at `rate` for `stepMs` and judges it; `warm`: the warm-up, whose backlog nobody waits for. */
  step(rate: number, stepMs: number, warm: boolean): Promise<StepOutcome>;
}

/** The load processes a search runs: all its clients in one process. */
function startLoad(s: Session, p: ThroughputParams): Promise<void> {
  return s.startLoad({
    clients: p.clients,
    processes: 1,
    pollIntervalMs: p.pollIntervalMs,
    headers: p.headers,
    mode: p.direction === 'up' ? 'echo' : 'subscribe',
  });
}

/** The server publishes to subscribers that stay connected for the whole search. */
class Down implements Direction {
  private firstSeq = 1;
  /**
   * A poll-delivered message waits up to a poll interval at any rate: that wait is the
   * transport's nature, not delivery falling behind, so the limits sit above it.
   */
  private readonly pollLag: number;

  constructor(
    private readonly s: Session,
    private readonly p: ThroughputParams,
    private readonly ctx: RunContext,
  ) {
    this.pollLag = s.descriptor.traits.delivery === 'poll' ? p.pollIntervalMs : 0;
  }

  async prepare(first: boolean): Promise<void> {
    if (!first) return this.s.rebase();
    await this.s.stopLoad();
    await startLoad(this.s, this.p);
  }

  async step(rate: number, stepMs: number, warm: boolean): Promise<StepOutcome> {
    const { s, p, ctx } = this;
    const firstSeq = this.firstSeq;
    // The step's last tenth is also recorded apart: its latency says whether a backlog was still growing.
    await s.measure(firstSeq, endFrom(firstSeq, scheduleCount(rate, stepMs)));
    announce(s, ctx, `${warm ? 'warm-up, ' : ''}publishing ${rate} msg/s for ${stepMs / 1000} s`);
    const published = await s.publish({ rate, size: p.size, durationMs: stepMs, firstSeq });
    const owed = (published.last - firstSeq + 1) * p.clients;
    await s.drain(owed, 1000, ctx.signal);
    const collected = await collect(s, s.transport, { first: firstSeq, last: published.last, size: p.size, seconds: stepMs / 1000, upPayload: false });
    this.firstSeq = published.last + 1;
    const { row, endP50 } = withoutEnd(collected);
    const why = downStepWhy(
      { share: row.messages!.delivered / Math.max(1, row.messages!.sent), p99Ms: row.latencyMs?.p99, endP50Ms: endP50, endLateMs: published.endLateMs },
      { p99Ms: p.p99LimitMs, pollLagMs: this.pollLag },
    );
    // A failed step leaves messages queued in the server and the sockets: the next step starts
    // once they are out (or, for what a polling server dropped, once nothing more comes), or
    // it would pay for this one's backlog.
    if (why && !warm) await s.drain(owed, BACKLOG_MS, ctx.signal, Math.max(500, this.pollLag + 250));
    return { row, why, endP50 };
  }
}

/** Clients send to the server (echo off), which counts what arrives. */
class Up implements Direction {
  /** The senders' totals before this step: their counts are cumulative. */
  private before = { sent: 0, notSent: 0 };
  /** Whether the last step left nothing in flight: only then may the next reuse its senders. */
  private clean = false;

  constructor(
    private readonly s: Session,
    private readonly p: ThroughputParams,
    private readonly ctx: RunContext,
  ) {}

  async prepare(first: boolean): Promise<void> {
    // Senders a step left behind may carry on once their last sends are answered and the server
    // has read what reached it; a fresh load process (a second or more of start-up) only if not.
    if (!first && !this.clean) this.clean = await settled(this.s);
    if (!first && this.clean) return this.s.rebase();
    this.before = { sent: 0, notSent: 0 };
    await this.s.stopLoad();
    await startLoad(this.s, this.p);
  }

  async step(rate: number, stepMs: number, warm: boolean): Promise<StepOutcome> {
    const { s, p, ctx } = this;
    await s.measure(1);
    announce(s, ctx, `${warm ? 'warm-up, ' : ''}sending ${rate} msg/s for ${stepMs / 1000} s`);
    const sent = await s.send({ ratePerClient: rate / p.clients, size: p.size, durationMs: stepMs, maxInflight: 64 });
    const { owed, notSent } = stepTotals(sent, this.before);
    this.before = { sent: sent.sent, notSent: sent.notSent };
    const got = await receivedWithin(s, owed, ARRIVAL_MS);
    const row = await collect(s, s.transport, { first: 1, last: sent.last, size: p.size, seconds: stepMs / 1000, upPayload: true });
    const count = { owed, notSent, got, clients: p.clients };
    this.clean = upClean(count);
    return { row: upFigures(row, count, p.size, stepMs / 1000), why: upStepWhy(count) };
  }
}

/** Says what a step does, on the run's progress line. */
function announce(s: Session, ctx: RunContext, what: string): void {
  ctx.progress(`${s.transport}: ${what}`);
}

/** What the server received since the session's base, polled until it reaches `owed` or `ms` pass. */
async function receivedWithin(s: Session, owed: number, ms: number): Promise<number> {
  const base = s.baseCounters;
  const received = async () => sinceBase(await s.counters(), base).messagesIn;
  const end = Date.now() + ms;
  let got = await received();
  while (got < owed && Date.now() < end) {
    await sleep(50);
    got = await received();
  }
  return got;
}

/**
 * Whether the senders settled after a step they fell behind in: nothing of theirs still out
 * within a second, then the server's received count still for 100 ms (at most a second more).
 */
async function settled(s: Session): Promise<boolean> {
  if ((await s.settle(1000)) > 0) return false;
  let before = (await s.counters()).messagesIn;
  for (let i = 0; i < 10; i++) {
    await sleep(100);
    const now = (await s.counters()).messagesIn;
    if (now === before) return true;
    before = now;
  }
  return false;
}

/** The saturation search on one transport: a warm-up at the first rate, then the steps the log asks for. */
export async function ramp(transport: TransportName, p: ThroughputParams, ctx: RunContext): Promise<TransportResult> {
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs, echo: p.direction === 'down' }, ctx);
  const log = new RampLog(p);
  try {
    ctx.progress(`${transport}: starting server`);
    await s.startServer();
    const direction: Direction = p.direction === 'down' ? new Down(s, p, ctx) : new Up(s, p, ctx);
    // The first pass is a warm-up at the first rate: JIT, buffers and connections settle; nothing is recorded.
    let warm = p.warmupMs > 0;
    let rate: number | undefined = p.startRate;
    for (let k = 0; rate !== undefined && !ctx.signal.aborted; k++) {
      await direction.prepare(k === 0);
      const o = await direction.step(rate, warm ? p.warmupMs : p.stepDurationMs, warm);
      if (warm) {
        warm = false;
        continue;
      }
      log.record(rate, o);
      if (o.why) ctx.progress(`${transport}: ${rate} msg/s not sustained (${o.why})`);
      rate = log.next();
    }
  } finally {
    await s.close();
  }
  return log.row(transport);
}
