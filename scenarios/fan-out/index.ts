/**
 * `fan-out`: one publish reaches N subscribers. N steps up (1, 10, 100, 1000
 * by default) on one server; each step measures delivery latency to all N.
 * With `--capacity on` it goes on doubling N until p99 passes `--limit-ms`,
 * and reports the largest N that held (as websocket-shootout does).
 */
import type { ScenarioResult, TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { FanOutCapacity, FanOutStep, FanOutSummary } from './schema.ts';
import { deliveryLagMs, peerGap, type RunContext, type Scenario } from '../contract.ts';
import { fanOutFacet } from './facet.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import { collect } from '../../runner/collect.ts';

export interface FanOutParams {
  steps: number[];
  rate: number;
  size: number;
  stepDurationMs: number;
  limitMs: number;
  capacity: boolean;
  capacityMax: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
  loadProcesses: number;
  /** Filled in after the run: largest N per transport under the limit. */
  capacityResult?: FanOutCapacity;
}

/** Subscribers one load process takes before another is started. */
const CLIENTS_PER_PROCESS = 2500;
/** Forking a load process, and connecting one subscriber, for the ETA (measured on the quick profile). */
const STEP_SETUP_MS = 700;
const CONNECT_MS = 2;

export const fanOut: Scenario<FanOutParams> = {
  name: 'fan-out',
  skipReason: (d) => peerGap(d, 'publish'),
  summary: 'one publish reaches N subscribers; p50/p99 delivery latency as N steps up; optional capacity search',
  facet: fanOutFacet,
  flags: {
    'fanout-steps': {
      help: 'fan-out: subscriber counts to step through',
      kind: 'numbers',
      quick: [1, 10, 100, 1000],
      full: [1, 10, 100, 1000, 5000],
      min: 1,
      max: 100_000,
      integer: true,
    },
    'fanout-rate': { help: 'fan-out: messages published per second', kind: 'number', quick: 5, full: 10, min: 0.1, max: 100_000 },
    'fanout-duration': { help: 'fan-out: seconds measured per step', kind: 'number', quick: 1, full: 5, min: 0.2, max: 600 },
    'limit-ms': { help: 'fan-out: p99 limit for the capacity figure, ms', kind: 'number', quick: 100, min: 1, max: 600_000 },
    capacity: { help: 'fan-out: after the steps, double N until p99 passes --limit-ms', kind: 'choice', quick: 'off', choices: ['off', 'on'] },
    'capacity-max': { help: 'fan-out: largest N the capacity search tries', kind: 'number', quick: 16_000, min: 1, max: 100_000, integer: true },
  },
  params: (f: FlagReader): FanOutParams => ({
    steps: [...new Set(f.nums('fanout-steps'))].sort((a, b) => a - b),
    rate: f.num('fanout-rate'),
    size: f.num('size'),
    stepDurationMs: f.num('fanout-duration') * 1000,
    limitMs: f.num('limit-ms'),
    capacity: f.str('capacity') === 'on',
    capacityMax: f.num('capacity-max'),
    ...httpLoadFlags(f),
    loadProcesses: f.num('load-processes'),
  }),
  // Each step connects the subscribers it adds (forking a load process per 2,500) and drains; the capacity search is open-ended, so it plans one more step.
  plannedMs: (p, t) => {
    const ns = [...p.steps, ...(p.capacity ? [(p.steps[p.steps.length - 1] ?? 1) * 2] : [])];
    const last = ns[ns.length - 1] ?? 0;
    return (
      ns.reduce((a) => a + p.stepDurationMs + deliveryLagMs(t, p.pollIntervalMs), 0) +
      STEP_SETUP_MS * Math.max(1, Math.ceil(last / CLIENTS_PER_PROCESS)) +
      last * CONNECT_MS
    );
  },

  async run(transport: TransportName, p: FanOutParams, ctx: RunContext): Promise<TransportResult> {
    const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
    const steps: FanOutStep[] = [];
    let lastRow: TransportResult | undefined;
    let firstSeq = 1;
    // Subscribers connected so far: a step adds to them rather than reconnecting everyone.
    let held = 0;
    const runStep = async (n: number): Promise<TransportResult> => {
      ctx.progress(`${transport}: N = ${n}: connecting ${n - held} more`);
      const spec = {
        clients: n - held,
        processes: Math.max(p.loadProcesses, Math.ceil(n / CLIENTS_PER_PROCESS)),
        pollIntervalMs: p.pollIntervalMs,
        headers: p.headers,
      };
      if (held === 0) await s.startLoad(spec);
      else await s.growLoads(spec, (i) => `n${n}p${i}c`);
      held = n;
      // Messages of this step are numbered after those of the previous steps.
      await s.measure(firstSeq);
      ctx.progress(`${transport}: N = ${n}: publishing ${p.rate} msg/s for ${p.stepDurationMs / 1000} s`);
      const published = await s.publish({ rate: p.rate, size: p.size, durationMs: p.stepDurationMs, firstSeq });
      const last = published.last;
      await s.drain((last - firstSeq + 1) * n, Math.max(2000, 2 * p.pollIntervalMs + 1000), ctx.signal);
      const row = await collect(s, transport, { first: firstSeq, last, size: p.size, seconds: p.stepDurationMs / 1000, upPayload: false });
      firstSeq = last + 1;
      steps.push({ n, p50: row.latencyMs?.p50 ?? NaN, p99: row.latencyMs?.p99 ?? NaN, delivered: row.messages?.delivered ?? 0, lost: row.messages?.lost ?? 0 });
      return row;
    };
    try {
      ctx.progress(`${transport}: starting server`);
      await s.startServer();
      for (const n of p.steps) {
        if (ctx.signal.aborted) break;
        lastRow = await runStep(n);
      }
      if (p.capacity) {
        let n = (p.steps[p.steps.length - 1] ?? 1) * 2;
        while (!ctx.signal.aborted && n <= p.capacityMax && (lastRow?.latencyMs?.p99 ?? Infinity) <= p.limitMs) {
          lastRow = await runStep(n);
          n *= 2;
        }
      }
    } finally {
      await s.close();
    }
    if (!lastRow) throw new Error('no step ran');
    return { ...lastRow, extra: { ...lastRow.extra, steps, largestNUnderLimit: largestUnder(steps, p.limitMs) } };
  },

  summarize(sr: ScenarioResult): FanOutSummary {
    const p = sr.params as unknown as FanOutParams;
    const largestN: FanOutCapacity['largestN'] = {};
    for (const r of sr.results) {
      const n = r.extra?.['largestNUnderLimit'];
      if (typeof n === 'number') largestN[r.transport] = n;
    }
    return { capacity: { limitMs: p.limitMs, largestN, searched: p.capacity } };
  },
};

/** The largest N whose p99 stayed within the limit, every smaller step included (0 when none). */
function largestUnder(steps: FanOutStep[], limitMs: number): number {
  let best = 0;
  for (const st of [...steps].sort((a, b) => a.n - b.n)) {
    if (!(st.p99 <= limitMs) || st.lost > 0) break;
    best = st.n;
  }
  return best;
}
