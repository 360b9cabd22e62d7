/**
 * `throughput`: the highest delivered messages/s a transport sustains, found
 * by doubling the rate until delivery falls behind, then bisecting between the
 * last rate that held and the first that failed until the bracket is within
 * the resolution (search.ts); a warm-up at the first rate comes before.
 *   throughput-down  the server publishes to `--throughput-clients` subscribers
 *   throughput-up    clients send to the server (echo off); the server counts what arrives
 * A step is sustained when ≥ 99 % of what was owed arrived within a short drain; going down,
 * also when its latency says no backlog was growing (search.ts: downStepWhy); going up, when
 * no client had to hold messages back for lack of room. After a failed step the next waits
 * until that step's backlog is delivered.
 */
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import { transport as descriptorOf } from '../../transports/index.ts';
import type { LatencySummary, ScenarioResult, TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { RunContext, Scenario } from '../contract.ts';
import { throughputFacet } from './facet.ts';
import type { ThroughputStep, ThroughputSummary } from './schema.ts';
import { measuredRow, peerGap } from '../contract.ts';
import type { FlagReader, FlagSpecs } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { scheduleCount } from '../../runner/schedule.ts';
import { CLIENT_BOUND_PCT, collect, round, sinceBase } from '../../runner/collect.ts';
import { bracketOf, downStepWhy, endFrom, nextRate, SUSTAINED_SHARE, type Tried } from './search.ts';
import { type FixedLoadSpec, fixedLoadPlannedMs, fixedLoadSpec, withFixedLoad } from '../../runner/fixed-load.ts';

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

const FLAGS: FlagSpecs = {
  'throughput-start': {
    help: 'throughput: first rate tried, msg/s (doubled until a step fails, then bisected)',
    kind: 'number',
    quick: 10_000,
    full: 2000,
    min: 1,
    max: 10_000_000,
  },
  'throughput-steps': { help: 'throughput: most steps tried (doublings and bisections)', kind: 'number', quick: 10, full: 20, min: 1, max: 40, integer: true },
  'throughput-duration': { help: 'throughput: seconds per step', kind: 'number', quick: 1, full: 3, min: 0.2, max: 600 },
  'throughput-resolution': {
    help: 'throughput: bisect until failed/sustained − 1 is at most this share',
    kind: 'number',
    quick: 0.25,
    full: 0.05,
    min: 0.01,
    max: 1,
  },
  'throughput-clients': { help: 'throughput-down: subscribers', kind: 'number', quick: 4, full: 10, min: 1, max: 10_000, integer: true },
  'throughput-senders': { help: 'throughput-up: clients sending at once', kind: 'number', quick: 20, full: 50, min: 1, max: 10_000, integer: true },
  'throughput-p99-ms': {
    help: 'throughput: p99 above this (plus the poll interval, for polling) means delivery fell behind, ms',
    kind: 'number',
    quick: 1000,
    min: 1,
    max: 600_000,
  },
};

/** How long the backlog of a failed step may take to be delivered before the next step, ms. */
const BACKLOG_MS = 10_000;

function params(direction: 'down' | 'up') {
  return (f: FlagReader): ThroughputParams => ({
    direction,
    clients: f.num(direction === 'down' ? 'throughput-clients' : 'throughput-senders'),
    startRate: f.num('throughput-start'),
    maxSteps: f.num('throughput-steps'),
    stepDurationMs: f.num('throughput-duration') * 1000,
    p99LimitMs: f.num('throughput-p99-ms'),
    resolution: f.num('throughput-resolution'),
    warmupMs: Math.max(500, f.num('warmup') * 1000),
    fixed: fixedLoadSpec(f, direction === 'down' ? 'push' : 'echo'),
    size: f.num('size'),
    ...httpLoadFlags(f),
  });
}

/**
 * The ETA's plan of a search: the warm-up, every step it may take (doublings
 * and bisections), each with its drain (up to a second) and, going up, the
 * senders settling (or starting afresh) after a failed step; then the
 * fixed-load phase. A search that ends early takes less; the runner's
 * correction catches that.
 */
function rampMs(p: ThroughputParams, t: TransportDescriptor): number {
  return p.warmupMs + p.maxSteps * (p.stepDurationMs + 500 + (p.direction === 'up' ? 300 : 0)) + fixedLoadPlannedMs(t.name, p.fixed);
}

/**
 * Whether the senders settled after a step they fell behind in: nothing of theirs still out
 * within a second, then the server's received count still for 100 ms (at most a second more).
 */
async function settled(s: Session): Promise<boolean> {
  if ((await s.settle(1000)) > 0) return false;
  let before = (await s.counters()).messagesIn;
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = (await s.counters()).messagesIn;
    if (now === before) return true;
    before = now;
  }
  return false;
}

async function ramp(transport: TransportName, p: ThroughputParams, ctx: RunContext): Promise<TransportResult> {
  const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs, echo: p.direction === 'down' }, ctx);
  const steps: ThroughputStep[] = [];
  let best: TransportResult | undefined;
  let firstSeq = 1;
  const tried: Tried[] = [];
  // A poll-delivered message waits up to a poll interval at any rate: that wait is the
  // transport's nature, not delivery falling behind, so the limit sits above it.
  const pollLag = descriptorOf(transport).traits.delivery === 'poll' ? p.pollIntervalMs : 0;
  try {
    ctx.progress(`${transport}: starting server`);
    await s.startServer();
    // The first pass is a warm-up at the first rate: JIT, buffers and connections settle; nothing is recorded.
    let warm = p.warmupMs > 0;
    let rate: number | undefined = p.startRate;
    // Going up, the senders' totals before this step (their counts are cumulative), and whether
    // the last step left nothing in flight: only then may the next step reuse its senders.
    let sentBefore = 0;
    let notSentBefore = 0;
    let clean = false;
    for (let k = 0; rate !== undefined && !ctx.signal.aborted; k++) {
      const stepMs = warm ? p.warmupMs : p.stepDurationMs;
      // Senders a step left behind may carry on once their last sends are answered and the server
      // has read what reached it; a fresh load process (a second or more of start-up) only if not.
      if (k > 0 && p.direction === 'up' && !clean) clean = await settled(s);
      if (k === 0 || (p.direction === 'up' && !clean)) {
        // Subscribers stay connected; senders start afresh after a step that left a backlog.
        sentBefore = 0;
        notSentBefore = 0;
        await s.stopLoad();
        await s.startLoad({
          clients: p.clients,
          processes: 1,
          pollIntervalMs: p.pollIntervalMs,
          headers: p.headers,
          mode: p.direction === 'up' ? 'echo' : 'subscribe',
        });
      } else {
        await s.rebase();
      }
      // Going down, the step's last tenth is also recorded apart: its latency says whether a backlog was still growing.
      await s.measure(firstSeq, p.direction === 'down' ? endFrom(firstSeq, scheduleCount(rate, stepMs)) : undefined);
      ctx.progress(`${transport}: ${warm ? 'warm-up, ' : ''}${p.direction === 'down' ? 'publishing' : 'sending'} ${rate} msg/s for ${stepMs / 1000} s`);
      const seconds = stepMs / 1000;
      let row: TransportResult;
      let why: string | undefined;
      let endP50: number | undefined;
      if (p.direction === 'down') {
        const published = await s.publish({ rate, size: p.size, durationMs: stepMs, firstSeq });
        const last = published.last;
        const owed = (last - firstSeq + 1) * p.clients;
        await s.drain(owed, 1000, ctx.signal);
        row = await collect(s, transport, { first: firstSeq, last, size: p.size, seconds, upPayload: false });
        firstSeq = last + 1;
        // The last tenth's latency is the step's verdict, not a figure of the row.
        const { endLatencyMs, ...rest } = row.extra ?? {};
        row.extra = rest;
        endP50 = (endLatencyMs as LatencySummary | undefined)?.p50;
        why = downStepWhy(
          {
            share: row.messages!.delivered / Math.max(1, row.messages!.sent),
            p99Ms: row.latencyMs?.p99,
            endP50Ms: endP50,
            endLateMs: published.endLateMs,
          },
          { p99Ms: p.p99LimitMs, pollLagMs: pollLag },
        );
        // A failed step leaves messages queued in the server and the sockets: the next step starts
        // once they are out (or, for what a polling server dropped, once nothing more comes), or
        // it would pay for this one's backlog.
        if (why && !warm) await s.drain(owed, BACKLOG_MS, ctx.signal, Math.max(500, pollLag + 250));
      } else {
        // A sender's frames of one timer tick leave in one write: the same frames, at a cost per
        // message below the server's, so the search finds the server's limit rather than the load's.
        const sent = await s.send({ ratePerClient: rate / p.clients, size: p.size, durationMs: stepMs, maxInflight: 64, gather: true });
        const owed = sent.sent - sentBefore;
        const notSent = sent.notSent - notSentBefore;
        sentBefore = sent.sent;
        notSentBefore = sent.notSent;
        const base = s.baseCounters;
        const received = async () => sinceBase(await s.counters(), base).messagesIn;
        const end = Date.now() + 1000;
        let got = await received();
        while (got < owed && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50));
          got = await received();
        }
        row = await collect(s, transport, { first: 1, last: sent.last, size: p.size, seconds, upPayload: true });
        // Upward, what counts is what the server received; nothing comes back.
        const payload = got * p.size;
        const wire = row.wire!;
        const wireTotal = wire.bytesUp + wire.bytesDown;
        row.latencyMs = null;
        row.latencyMsUncorrected = null;
        row.percentiles = [];
        row.messages = { sent: owed + notSent, delivered: got, lost: owed + notSent - got };
        row.throughput = { messagesPerSec: round(got / seconds), payloadBytesPerSec: round(payload / seconds) };
        row.wire = {
          ...wire,
          payloadBytes: payload,
          overheadBytesPerMessage: got ? round((wireTotal - payload) / got) : 0,
          bytesPerMessage: got ? round(wireTotal / got) : 0,
        };
        clean = notSent === 0 && got >= owed;
        if (notSent > 0) why = `${notSent} messages held back: ${p.clients} client(s) could not send that fast`;
        else if (got < owed * SUSTAINED_SHARE) why = `server received only ${got} of ${owed}`;
      }
      if (warm) {
        warm = false;
        continue;
      }
      const step: ThroughputStep = {
        rate,
        deliveredPerSec: row.throughput!.messagesPerSec,
        p99Ms: row.latencyMs?.p99 ?? null,
        ...(endP50 !== undefined && { endP50Ms: endP50 }),
        // Shares of the step's own time: the drain after it, mostly idle, would dilute them.
        ...(row.server && { serverCpuPct: round((row.server.cpuMs / stepMs) * 100) }),
        ...(row.client && { loadCpuPct: round((row.client.cpuMs / row.client.processes / stepMs) * 100) }),
        sustained: !why,
        ...(why ? { why } : {}),
      };
      steps.push(step);
      tried.push({ rate, sustained: !why });
      if (why) ctx.progress(`${transport}: ${rate} msg/s not sustained (${why})`);
      // The row of the highest rate that held carries the figures.
      else if (!best || rate > (bracketOf(tried.slice(0, -1)).sustained ?? 0)) best = row;
      rate = nextRate(p.startRate, tried, p.resolution, p.maxSteps);
    }
  } finally {
    await s.close();
  }
  const payloadMBps = best ? round(best.throughput!.payloadBytesPerSec / 1e6) : 0;
  const b = bracketOf(tried);
  const extra = {
    direction: p.direction,
    steps,
    payloadMBps,
    sustainedRate: b.sustained ?? 0,
    ...(b.failed !== undefined ? { failedRate: b.failed } : {}),
    ...(b.resolution !== undefined ? { resolution: Math.round(b.resolution * 1000) / 1000 } : {}),
    resolutionTarget: p.resolution,
  };
  if (!best) {
    // Not even the first rate held: report that rung's figures, clearly marked.
    return measuredRow(transport, {
      throughput: { messagesPerSec: steps[0]?.deliveredPerSec ?? 0, payloadBytesPerSec: 0 },
      messages: null,
      wire: null,
      server: null,
      extra: { ...extra, note: `the first rate (${p.startRate} msg/s) was not sustained: ${steps[0]?.why ?? 'no step ran'}` },
    });
  }
  return { ...limitedBy(best, steps, b.failed), extra: { ...best.extra, ...extra } };
}

/**
 * The row with its load's share taken at the step that failed, where the limit was met: a load
 * at ≥ 90 % of its core there makes the figure a floor, whatever it used at the step that held.
 */
export function limitedBy(best: TransportResult, steps: readonly ThroughputStep[], failedRate: number | undefined): TransportResult {
  const failed = steps.filter((st) => st.rate === failedRate && !st.sustained).at(-1);
  if (!best.client || failed?.loadCpuPct === undefined) return best;
  return { ...best, client: { ...best.client, cpuPct: failed.loadCpuPct, clientBound: failed.loadCpuPct >= CLIENT_BOUND_PCT } };
}

/** The saturation search, then the server's cost at a fixed load on a fresh server. */
async function rampThenFixed(transport: TransportName, p: ThroughputParams, ctx: RunContext): Promise<TransportResult> {
  const row = await ramp(transport, p, ctx);
  return p.fixed ? withFixedLoad(row, transport, p.fixed, ctx, ctx.progress) : row;
}

function describeBest(sr: ScenarioResult): ThroughputSummary {
  const best: ThroughputSummary['sustainedRate'] = {};
  for (const r of sr.results) if (typeof r.extra?.['sustainedRate'] === 'number') best[r.transport] = r.extra['sustainedRate'];
  return { sustainedRate: best };
}

export const throughputDown: Scenario<ThroughputParams> = {
  name: 'throughput-down',
  summary: 'highest sustained server → client messages/s and payload MB/s (rate doubled until delivery falls behind)',
  facet: throughputFacet,
  flags: FLAGS,
  params: params('down'),
  skipReason: (d) => peerGap(d, 'publish'),
  plannedMs: rampMs,
  run: rampThenFixed,
  summarize: describeBest,
};

export const throughputUp: Scenario<ThroughputParams> = {
  name: 'throughput-up',
  summary: 'highest sustained client → server messages/s (server echo off; counted where they arrive)',
  facet: throughputFacet,
  flags: {},
  params: params('up'),
  skipReason: (d) => peerGap(d, 'echo-off'),
  plannedMs: rampMs,
  run: rampThenFixed,
  summarize: describeBest,
};
