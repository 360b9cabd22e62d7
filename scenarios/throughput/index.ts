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
 * until that step's backlog is delivered. The search runs in ramp.ts; its verdicts and the row it
 * makes are pure, in steps.ts.
 */
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import type { ScenarioResult, TransportName, TransportResult } from '../../metrics/results.ts';
import type { RunContext, Scenario } from '../contract.ts';
import { throughputFacet } from './facet.ts';
import type { ThroughputSummary } from './schema.ts';
import { peerGap } from '../contract.ts';
import type { FlagReader, FlagSpecs } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { fixedLoadPlannedMs, fixedLoadSpec, withFixedLoad } from '../../runner/fixed-load.ts';
import { ramp, type ThroughputParams } from './ramp.ts';

export type { ThroughputParams } from './ramp.ts';

const FLAGS: FlagSpecs = {
  'throughput-start': {
    help: 'throughput: first rate tried, msg/s (doubled until a step fails, then bisected)',
    kind: 'number',
    quick: 10_000,
    full: 2000,
    min: 1,
    max: 10_000_000,
  },
  'throughput-steps': { help: 'throughput: most steps tried (doublings and bisections)', kind: 'number', quick: 7, full: 16, min: 1, max: 40, integer: true },
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
