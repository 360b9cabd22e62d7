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

function heldText(b: NonNullable<ProxyLessons['buffering']>): string {
  if (b.delivered === 0) return `all ${fmtInt(b.published)} held for the whole ${fmtDuration(b.waitedMs)} wait`;
  const missing = b.published - b.delivered;
  return joinParts(
    `p50 ${fmtSig(b.p50Ms ?? 0)} ms, max ${fmtSig(b.maxMs ?? 0)} ms`,
    missing > 0 && `${fmtInt(missing)} of ${fmtInt(b.published)} still held when the wait ended`,
  );
}

function cutText(t: NonNullable<ProxyLessons['readTimeout']>): string {
  if (t.cutAfterMs === null) return `not cut in ${fmtDuration(t.watchedMs)}`;
  return `cut after ${fmtDuration(t.cutAfterMs)}${t.cuts > 1 ? ` (${fmtInt(t.cuts)} cuts in ${fmtDuration(t.watchedMs)})` : ''}`;
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
  if (buffered.length)
    out.push({
      level: 'warn',
      scenario: s.name,
      topic: 'latency',
      text: `${s.name}: with nginx's default proxy_buffering on, messages published at ${fmtNum(buffered[0]!.x.buffering!.ratePerSec)} msg/s reached the client after ${listInWords(
        buffered.map(({ r, x }) => `${heldText(x.buffering!)} on ${r.transport}`),
      )}; a stream (SSE) is held until nginx's buffer fills, so the lab's config turns buffering off.`,
    });
  const cut = rows.filter((r) => r.x.readTimeout);
  if (cut.length) {
    const t0 = cut[0]!.x.readTimeout!;
    out.push({
      level: 'warn',
      scenario: s.name,
      topic: 'liveness',
      text: `${s.name}: with proxy_read_timeout ${fmtDuration(t0.readTimeoutMs)} shorter than the ${fmtDuration(t0.heartbeatMs)} heartbeat, an idle subscription was ${listInWords(
        cut.map(({ r, x }) => `${cutText(x.readTimeout!)} on ${r.transport}, whose client ${x.readTimeout!.clientAction.replace(/:.*$/, '')}`),
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
      ['transport', 'held back (buffering on)', 'idle subscription', 'message after the cut', 'the client'],
      [true, true, true, true, true],
      rows.map(({ r, x }) => [
        r.transport,
        x.buffering ? heldText(x.buffering) : dash,
        x.readTimeout ? cutText(x.readTimeout) : dash,
        x.readTimeout
          ? x.readTimeout.messageAfterCut === 'delivered' && x.readTimeout.deliveredAfterMs !== undefined
            ? `delivered after ${fmtDuration(x.readTimeout.deliveredAfterMs)}`
            : x.readTimeout.messageAfterCut
          : dash,
        x.readTimeout?.clientAction ?? dash,
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
