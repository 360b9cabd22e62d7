/** The proxy-lessons part of the report: what the nginx hop costs per transport, and its two lessons in figures. */
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import type { Block, Finding } from '../../report-model/doc.ts';
import type { ScenarioFacet } from '../../report-model/facet.ts';
import { fmtBytes, fmtDuration, fmtInt, fmtNum, fmtSig, listInWords } from '../../report-model/format.ts';
import { detailTable, joinParts, param, rowsWith } from '../facet-kit.ts';
import { type ProxyLessons, readProxyLessons } from './schema.ts';

function loadInWords(s: ScenarioResult): string | undefined {
  const rt = param(s, 'readTimeoutMs');
  const hb = param(s, 'heartbeatMs');
  const rate = param(s, 'bufferRate');
  if (rt === undefined || hb === undefined) return undefined;
  return joinParts(
    'one client per lesson: ping-pong straight to the server and through nginx',
    rate !== undefined && `${fmtNum(rate)} msg/s published with proxy_buffering on`,
    `proxy_read_timeout ${fmtDuration(rt)} against a ${fmtDuration(hb)} heartbeat and long-poll hold`,
  );
}

function rowFigure(row: TransportResult): string {
  const x = readProxyLessons(row.extra);
  const h = x?.hop;
  return h ? `hop +${fmtSig(h.proxiedP50Ms - h.directP50Ms)} ms p50` : '';
}

/** Delivery with buffering on against off: "p50 2.1 ms (off: 1.9 ms), max 40 ms (off: 12 ms)", and what was still held. */
function heldText(b: NonNullable<ProxyLessons['buffering']>): string {
  if (b.delivered === 0) return `all ${fmtInt(b.published)} held for the whole ${fmtDuration(b.waitedMs)} wait`;
  const missing = b.published - b.delivered;
  const off = (v: number | undefined) => (v !== undefined ? ` (off: ${fmtSig(v)} ms)` : '');
  return joinParts(
    `p50 ${fmtSig(b.p50Ms ?? 0)} ms${off(b.unbufferedP50Ms)}, max ${fmtSig(b.maxMs ?? 0)} ms${off(b.unbufferedMaxMs)}`,
    b.unbufferedP50Ms !== undefined && b.p50Ms !== undefined && `held back ${fmtSig(Math.max(0, b.p50Ms - b.unbufferedP50Ms))} ms at p50`,
    missing > 0 && `${fmtInt(missing)} of ${fmtInt(b.published)} still held when the wait ended`,
  );
}

/** A hold this long at p50 over the unbuffered path is one a user notices (an SSE event a frame late is not). */
const NOTICEABLE_HOLD_MS = 50;

/** Whether buffering measurably held messages back: some still held at the end, or p50 later by a noticeable margin. */
function wasHeld(b: NonNullable<ProxyLessons['buffering']>): boolean {
  if (b.delivered < b.published) return true;
  return b.p50Ms !== undefined && b.unbufferedP50Ms !== undefined && b.p50Ms - b.unbufferedP50Ms >= NOTICEABLE_HOLD_MS;
}

function cutText(t: NonNullable<ProxyLessons['readTimeout']>): string {
  if (t.cutAfterMs === null) return `not cut in ${fmtDuration(t.watchedMs)}`;
  return `cut ${fmtDuration(t.cutAfterMs)} after its last message${t.cuts > 1 ? ` (${fmtInt(t.cuts)} cuts in ${fmtDuration(t.watchedMs)})` : ''}`;
}

/** What the client did after the cut, in a few words. */
function afterCut(t: NonNullable<ProxyLessons['readTimeout']>): string {
  if (t.cutAfterMs === null) return 'nothing to do';
  const back = t.reconnected === false ? 'did not reconnect' : 'reconnected';
  const msg =
    t.messageAfterCut === 'delivered'
      ? `got the message published after the cut${t.deliveredAfterMs !== undefined ? ` ${fmtDuration(t.deliveredAfterMs)} later (resumed)` : ''}`
      : 'lost the message published after the cut';
  return `${back} and ${msg}`;
}

function findings(s: ScenarioResult): Finding[] {
  const rows = rowsWith(s, readProxyLessons);
  if (rows.length === 0) return [];
  const out: Finding[] = [];
  const hops = rows.filter((r) => r.x.hop);
  if (hops.length)
    out.push({
      level: 'info',
      scenario: s.name,
      topic: 'latency',
      text: `${s.name}: the nginx hop adds to a round trip (p50, one message in flight) ${listInWords(
        hops.map(({ r, x }) => {
          const h = x.hop!;
          const cost = joinParts(
            h.proxyCpuUsPerMessage !== undefined && `${fmtSig(h.proxyCpuUsPerMessage)} µs of nginx CPU`,
            h.clientSideBytesPerMessage !== undefined &&
              h.serverSideBytesPerMessage !== undefined &&
              `${fmtSig(h.clientSideBytesPerMessage)} B at the client against ${fmtSig(h.serverSideBytesPerMessage)} B at the server`,
          );
          return `${fmtSig(h.proxiedP50Ms - h.directP50Ms)} ms on ${r.transport} (${fmtSig(h.directP50Ms)} → ${fmtSig(h.proxiedP50Ms)} ms${cost ? `; per round trip ${cost}` : ''})`;
        }),
      )}.`,
    });
  const buffered = rows.filter((r) => r.x.buffering);
  // A warning only when something was held back; a measured absence of hold is worth saying too, as information.
  if (buffered.length)
    out.push({
      level: buffered.some(({ x }) => wasHeld(x.buffering!)) ? 'warn' : 'info',
      scenario: s.name,
      topic: 'latency',
      text: `${s.name}: with nginx's default proxy_buffering on, ${fmtInt(buffered[0]!.x.buffering!.sizeBytes)} B messages published at ${fmtNum(buffered[0]!.x.buffering!.ratePerSec)} msg/s to one subscriber reached it with ${listInWords(
        buffered.map(({ r, x }) => `${heldText(x.buffering!)} on ${r.transport}`),
      )} (off: the lab's config, buffering off).`,
    });
  const cut = rows.filter((r) => r.x.readTimeout);
  if (cut.length) {
    const t0 = cut[0]!.x.readTimeout!;
    out.push({
      level: cut.some(({ x }) => x.readTimeout!.cutAfterMs !== null) ? 'warn' : 'info',
      scenario: s.name,
      topic: 'liveness',
      text: `${s.name}: with proxy_read_timeout ${fmtDuration(t0.readTimeoutMs)} shorter than the ${fmtDuration(t0.heartbeatMs)} heartbeat, an idle subscription was ${listInWords(
        cut.map(
          ({ r, x }) => `${cutText(x.readTimeout!)} on ${r.transport}${x.readTimeout!.cutAfterMs !== null ? `, whose client ${afterCut(x.readTimeout!)}` : ''}`,
        ),
      )}. Keep the heartbeat (and the long-poll hold) below the proxy's read timeout.`,
    });
  }
  return out;
}

function details(s: ScenarioResult): Block[] {
  const rows = rowsWith(s, readProxyLessons);
  if (rows.length === 0) return [];
  const dash = '–';
  return [
    detailTable(
      'proxy-hop',
      'What the nginx hop costs (one client, one message in flight)',
      ['transport', 'p50 direct', 'p50 via nginx', 'p99 direct', 'p99 via nginx', 'nginx CPU µs/msg', 'nginx RSS', 'B/msg client side', 'B/msg server side'],
      [true, false, false, false, false, false, false, false, false],
      rows.map(({ r, x }) => {
        const h = x.hop;
        return [
          r.transport,
          h ? `${fmtSig(h.directP50Ms)} ms` : dash,
          h ? `${fmtSig(h.proxiedP50Ms)} ms` : dash,
          h ? `${fmtSig(h.directP99Ms)} ms` : dash,
          h ? `${fmtSig(h.proxiedP99Ms)} ms` : dash,
          h?.proxyCpuUsPerMessage !== undefined ? fmtSig(h.proxyCpuUsPerMessage) : dash,
          h?.proxyRssBytes !== undefined ? fmtBytes(h.proxyRssBytes) : dash,
          h?.clientSideBytesPerMessage !== undefined ? fmtSig(h.clientSideBytesPerMessage) : dash,
          h?.serverSideBytesPerMessage !== undefined ? fmtSig(h.serverSideBytesPerMessage) : dash,
        ];
      }),
      ['Client side: bytes at the load client’s sockets (client ↔ nginx; over TLS, the plaintext). Server side: at the server’s sockets (nginx ↔ server).'],
    ),
    detailTable(
      'proxy-buffering-timeout',
      'The two lessons: proxy_buffering on, and a read timeout shorter than the heartbeat',
      ['transport', 'delivery with buffering on', 'idle subscription', 'after the cut'],
      [true, true, true, true],
      rows.map(({ r, x }) => [
        r.transport,
        x.buffering ? heldText(x.buffering) : dash,
        x.readTimeout ? cutText(x.readTimeout) : dash,
        x.readTimeout ? (x.readTimeout.cutAfterMs === null ? x.readTimeout.clientAction : afterCut(x.readTimeout)) : dash,
      ]),
      rows.filter((x) => x.x.readTimeout?.cutError).map(({ r, x }) => `${r.transport} at the cut: ${x.readTimeout!.cutError}`),
    ),
  ];
}

export const proxyLessonsFacet: ScenarioFacet = {
  loadInWords,
  rowFigure,
  sideBySide: () => false,
  topic: 'latency',
  findings,
  details,
};
