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
import { rtoMs } from '../path/link-model.ts';
import type { LinkParams } from '../path/links.ts';
import { fmtDuration, fmtFixed, fmtInt, fmtSig, isCompleted, num } from './format.ts';

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
function roundTripFindings(s: ScenarioResult, rows: readonly TransportResult[], facet: ScenarioFacet | undefined): Finding[] {
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

/** A row's `extra.link` as the runner writes it (runner/link.ts `LinkTotals`), the parts the findings read. */
interface LinkCost {
  cpuPct?: number;
  cpuUsPerMessage?: number;
  queueUp?: LinkQueueSeen;
  queueDown?: LinkQueueSeen;
  lostSegments?: number;
}

/** The queue a direction's chunks met in front of their link over the measured phase. */
interface LinkQueueSeen {
  chunks: number;
  peakBytes: number;
  meanBytes: number;
}

/** The relay's cost and queues on a row, when it ran over a link. */
export function linkCostOf(r: TransportResult): LinkCost | undefined {
  const x = r.extra?.['link'];
  return x && typeof x === 'object' ? (x as LinkCost) : undefined;
}

/** The relay's share of a core above which its own delays can no longer be trusted (the issue's and the README's bound). */
export const RELAY_CPU_LIMIT_PCT = 20;

/** A warning for every row whose link relay took more than a fifth of a core: its timers then run late and add to the latency. */
function relayCostFindings(s: ScenarioResult, rows: readonly TransportResult[]): Finding[] {
  return rows.flatMap((r): Finding[] => {
    const c = linkCostOf(r);
    if (!isCompleted(r) || c?.cpuPct === undefined || c.cpuPct <= RELAY_CPU_LIMIT_PCT) return [];
    return [
      {
        level: 'warn',
        scenario: s.name,
        topic: 'cost',
        text: `${s.name}: ${r.transport}'s link relay took ${fmtFixed(c.cpuPct, 1)} % of a core${
          c.cpuUsPerMessage !== undefined ? ` (${fmtSig(c.cpuUsPerMessage)} µs per message)` : ''
        }, above ${RELAY_CPU_LIMIT_PCT} %: it shares the load's CPUs, and a busy relay delivers late, so this row's latency includes some of the emulator's own.`,
      },
    ];
  });
}

/** The seconds of a row's measured phase, from its delivered count and rate. */
function secondsOf(r: TransportResult): number | undefined {
  const d = r.messages?.delivered;
  const rate = r.throughput?.messagesPerSec;
  return d && rate && rate > 0 ? d / rate : undefined;
}

/**
 * When a transport's requests saturate a link's uplink: each request's bytes (measured at the
 * server's socket) serialise at the uplink's rate, so one uplink's queue grows above
 * up ÷ (8 × bytes) requests/s. Beside it, what the relay measured over the measured phase: the
 * chunks sent up per client and second, and the queue they met in front of the link. A connection
 * of HTTP/1.1 carries one request per round trip, so on a link of its own it never reaches that
 * rate; the finding says how many clients at the measured pace one shared uplink would take.
 */
function uplinkFindings(s: ScenarioResult, rows: readonly TransportResult[]): Finding[] {
  const out: Finding[] = [];
  const clients = num(s.params['clients']);
  for (const group of byLink(rows)) {
    const link = transportByName(group[0]!.transport)?.link;
    if (!link || link.params.upBps <= 0) continue;
    const { upBps, rttMs } = link.params;
    let grew = false;
    const parts = group.flatMap((r) => {
      const d = transportByName(r.transport);
      const q = linkCostOf(r)?.queueUp;
      const secs = secondsOf(r);
      if (!isCompleted(r) || !d || !q || !secs || !r.wire || r.wire.requests <= 0) return [];
      if (d.traits.delivery !== 'poll' && d.traits.delivery !== 'held-request') return [];
      const bytes = r.wire.bytesUp / r.wire.requests;
      const saturates = upBps / (8 * bytes);
      const perClient = q.chunks / secs / (clients && clients > 0 ? clients : 1);
      // Two whole requests waiting in front of the link: they came faster than it serialises them (bench:link's uplink sweep reads it so too).
      const grows = q.peakBytes >= 2 * bytes;
      grew ||= grows;
      const shared = perClient > 0 ? `, ${fmtInt(Math.ceil(saturates / perClient))} clients at this pace on one uplink` : '';
      return [
        `${r.transport} ${fmtInt(bytes)} B a request → ${fmtSig(saturates)}/s${shared}; measured ${fmtSig(perClient)}/s per client, queue met ${fmtInt(q.meanBytes)} B mean, ${fmtInt(q.peakBytes)} B peak${grows ? ' (grew)' : ''}`,
      ];
    });
    if (parts.length === 0) continue;
    out.push({
      level: grew ? 'warn' : 'info',
      scenario: s.name,
      topic: 'bytes',
      text: `${s.name} over ${link.name}: requests fill its ${fmtSig(upBps / 1000)} kbit/s uplink at up ÷ (8 × request bytes): ${parts.join('; ')}. ${
        grew ? 'The uplink queue grew: requests came faster than the link serialises them.' : 'No uplink queue grew.'
      } An HTTP/1.1 connection carries one request per round trip (at most ${fmtSig(1000 / rttMs)}/s at ${fmtDuration(
        rttMs,
      )}), so on an uplink of its own, as the model gives each connection, request headers alone never fill it; on one access link shared by many clients' connections they do.`,
    });
  }
  return out;
}

/** A link's parameters but its loss, as a key: two links with equal keys differ only in loss. */
function lossFree(p: LinkParams): string {
  return `${p.rttMs}|${p.downBps}|${p.upBps}|${p.jitterMs}`;
}

/**
 * How loss moves each transport's latency: a row over a lossy link beside the same transport over
 * the same link without loss, when the run has both. A lost segment waits one RTO and holds back
 * what follows it on its connection, so p99 moves by about an RTO and p50 barely (when under 1 % of
 * the messages meet a loss).
 */
function lossFindings(s: ScenarioResult, rows: readonly TransportResult[]): Finding[] {
  const out: Finding[] = [];
  const done = rows.filter((r) => isCompleted(r) && r.latencyMs);
  for (const lossy of done) {
    const d = transportByName(lossy.transport);
    const link = d?.link;
    if (!d || !link || link.params.loss <= 0) continue;
    const clean = done.find((r) => {
      const o = transportByName(r.transport);
      return o?.link && (o.linkOf ?? o.name) === d.linkOf && o.link.params.loss === 0 && lossFree(o.link.params) === lossFree(link.params);
    });
    if (!clean) continue;
    const rtt = link.params.rttMs;
    const rto = rtoMs(link.params);
    const a = clean.latencyMs!;
    const b = lossy.latencyMs!;
    const moved = (x: number, y: number) =>
      `${fmtSig(x)} → ${fmtSig(y)} ms (${y >= x ? '+' : '−'}${fmtFixed(Math.abs(y - x) / rtt, 2)} RTT, ${fmtFixed(Math.abs(y - x) / rto, 2)} RTO)`;
    out.push({
      level: 'info',
      scenario: s.name,
      topic: 'latency',
      text: `${s.name}: ${fmtFixed(link.params.loss * 100, 2)} % loss moves ${d.linkOf}'s p50 ${moved(a.p50, b.p50)} and its p99 ${moved(a.p99, b.p99)} (${clean.transport} → ${lossy.transport}; RTT ${fmtDuration(rtt)}, RTO ${fmtDuration(rto)}): ${
        b.p99 - a.p99 >= rto / 2
          ? 'a lost segment arrives one RTO late and holds back every byte behind it on its connection, so the tail moves by about an RTO while the median barely does.'
          : 'its tail moved by less than half an RTO: a lost segment delays only what waits behind it on its connection, and here the wait for the next request hides most of it.'
      }`,
    });
  }
  return out;
}

/** Every finding about rows on links: round trips, loss against the same link without it, the uplink's queue, and the relay's own cost. */
export function linkFindings(s: ScenarioResult, rows: readonly TransportResult[], facet: ScenarioFacet | undefined, sideBySide: boolean): Finding[] {
  return [...(sideBySide ? [...roundTripFindings(s, rows, facet), ...lossFindings(s, rows), ...uplinkFindings(s, rows)] : []), ...relayCostFindings(s, rows)];
}
