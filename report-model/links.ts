/**
 * Findings of rows on emulated links (`--link`), in round trips: a link rescales every latency,
 * and the lessons are the number of RTTs each transport pays (short polling ≈ interval/2 + RTT/2,
 * long polling RTT/2 plus a re-poll when messages come faster than one per RTT, SSE and
 * WebSocket RTT/2). Rows are compared only with rows of the same link.
 */
import type { ScenarioResult, TransportResult } from '../metrics/results.ts';
import { transportByName } from '../transports/index.ts';
import type { Finding } from './doc.ts';
import type { ScenarioFacet } from './facet.ts';
import { fmtDuration, fmtFixed, isCompleted, num } from './format.ts';

/** The link a row ran over, by name (`loopback` for a plain row), and its RTT in ms (0 on loopback). */
function linkOf(transport: string): { name: string; rttMs: number } {
  const l = transportByName(transport)?.link;
  return l ? { name: l.name, rttMs: l.params.rttMs } : { name: 'loopback', rttMs: 0 };
}

/** Rows grouped by the link they ran over, in the order the links first appear. */
export function byLink(rows: readonly TransportResult[]): TransportResult[][] {
  const groups = new Map<string, TransportResult[]>();
  for (const r of rows) {
    const k = linkOf(r.transport).name;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()];
}

/**
 * What a transport's latency should be on a link, in RTTs, from its delivery: one-way (a push)
 * or a round trip (an echo, where the message also goes up first). A push at `ratePerSec`
 * faster than one message per RTT finds a long poll just answered: it waits for the re-poll to
 * arrive (half an RTT on average) before its own half. Undefined when the lab has no model.
 */
export function expectedRoundTrips(
  transport: string,
  rttMs: number,
  pollIntervalMs: number | undefined,
  roundTrip: boolean,
  ratePerSec?: number,
): number | undefined {
  const d = transportByName(transport);
  if (!d || rttMs <= 0) return undefined;
  // An echo sent up by POST takes its connection for a whole round trip: faster than one per RTT they queue, and no count holds.
  if (roundTrip && d.traits.upward === 'post' && ratePerSec !== undefined && 1000 / ratePerSec < rttMs) return undefined;
  const base = roundTrip ? 1 : 0.5;
  if (d.traits.delivery === 'poll') return pollIntervalMs === undefined ? undefined : base + pollIntervalMs / 2 / rttMs;
  if (d.traits.delivery === 'held-request' && !roundTrip && ratePerSec !== undefined && 1000 / ratePerSec < rttMs) return base + 0.5;
  return base;
}

/** One finding per link of a scenario whose rows compare side by side: each row's p50 and p99 in RTTs, beside what the model expects. */
export function roundTripFindings(s: ScenarioResult, rows: readonly TransportResult[], facet: ScenarioFacet | undefined): Finding[] {
  const out: Finding[] = [];
  const interval = num(s.params['pollIntervalMs']);
  const rate = num(s.params['rate']);
  const roundTrip = facet?.roundTrip === true;
  for (const group of byLink(rows)) {
    const { name, rttMs } = linkOf(group[0]!.transport);
    if (rttMs <= 0) continue;
    const parts = group.flatMap((r) => {
      const l = r.latencyMs;
      if (!isCompleted(r) || !l) return [];
      const e = expectedRoundTrips(r.transport, rttMs, interval, roundTrip, rate);
      const model =
        e !== undefined ? ` (model ${fmtFixed(e, 2)})` : roundTrip && transportByName(r.transport)?.traits.upward === 'post' ? ' (its POSTs queue)' : '';
      return [`${r.transport} ${fmtFixed(l.p50 / rttMs, 2)} / ${fmtFixed(l.p99 / rttMs, 2)}${model}`];
    });
    if (parts.length === 0) continue;
    out.push({
      level: 'info',
      scenario: s.name,
      topic: 'latency',
      text: `${s.name} over ${name} (RTT ${fmtDuration(rttMs)}): ${roundTrip ? 'round-trip ' : ''}p50 / p99 in round trips: ${parts.join('; ')}. The model: ${
        roundTrip ? 'a round trip' : 'half a round trip'
      } for SSE, WebSocket and a long poll already held${interval !== undefined ? `, plus half the ${fmtDuration(interval)} poll interval for short polling` : ''}; a long poll just answered is re-sent first, so when messages come faster than one per RTT a push waits half an RTT more on average${
        roundTrip && rate !== undefined && 1000 / rate < rttMs
          ? `; an echo sent up by POST holds its connection for a round trip, so at ${fmtFixed(rate, 0)} msg/s per client (more than one per RTT) the POSTs queue`
          : ''
      }.`,
    });
  }
  return out;
}
