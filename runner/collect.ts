/** Turns what a session's processes report at the end into one result row. */
import type { LatencySummary, TransportName, TransportResult } from '../metrics/results.ts';
import { encodeHistogram, mergeEncoded, percentileCurve, summarize } from '../metrics/latency.ts';
import type { ServerCounters } from '../servers/contract.ts';
import type { Session } from './session.ts';
import type { LoadResult, ServerTotals } from './protocol.ts';

/** A load process at or above this CPU share is called the bottleneck. */
export const CLIENT_BOUND_PCT = 90;

export interface CollectSpec {
  /** Sequence range measured. */
  first: number;
  last: number;
  /** Payload bytes per message. */
  size: number;
  /** Seconds the throughput is divided by. */
  seconds: number;
  /** Whether messages also carried payload upward (echo: every message goes up and comes back). */
  upPayload: boolean;
  /** Scenario-specific fields. */
  extra?: Record<string, unknown>;
  /** Also return the corrected latency histogram, encoded (`extra.latencyHistogram`), for pooling trials. */
  keepHistogram?: boolean;
}

/** Asks the server and every load process for their figures and builds the row. */
export async function collect(s: Session, transport: TransportName, c: CollectSpec): Promise<TransportResult> {
  // A clustered server asks each of its nodes in turn: on a loaded machine with 100,000 connections that takes a while.
  const totals = s.external ? undefined : await s.totals();
  const proxy = s.proxyTotals();
  const results = await s.finish(c.first, c.last);
  if (!totals) return clientSideRow(buildRow(transport, c, undefined, results, s.series));
  const link = await s.link?.totals(
    c.seconds,
    results.reduce((a, m) => a + m.delivered, 0),
  );
  const counters = sinceBase(totals.counters, s.baseCounters);
  const row = buildRow(transport, c, { process: totals.process, counters }, results, s.series);
  const delivered = row.messages?.delivered ?? 0;
  const clientBytes = results.reduce((a, m) => a + m.clientBytesRead + m.clientBytesWritten, 0);
  const extra: Record<string, unknown> = { ...row.extra };
  if (link) extra['link'] = link;
  if (proxy)
    extra['proxy'] = {
      ...proxy,
      cpuPct: round((proxy.cpuMs / (c.seconds * 1000)) * 100),
      ...(delivered > 0 && { cpuUsPerMessage: round((proxy.cpuMs * 1000) / delivered) }),
      // The clients' side of the hop (client ↔ nginx) beside the server's (nginx ↔ server) in wire.
      clientBytesPerMessage: delivered > 0 ? round(clientBytes / delivered) : 0,
    };
  const tls = tlsShare(counters, delivered);
  if (tls) extra['tls'] = tls;
  // A clustered row keeps each node's, the balancer's and Redis's share beside the sums.
  if (totals.cluster) extra['cluster'] = totals.cluster;
  return { ...row, extra };
}

/** What TLS added on the server's sockets: the handshakes, and the records' share per message. */
function tlsShare(c: ServerCounters, delivered: number): Record<string, number> | undefined {
  if (c.tlsHandshakeBytes === undefined || c.plainBytesRead === undefined || c.plainBytesWritten === undefined) return undefined;
  const wire = c.bytesRead + c.bytesWritten;
  const plain = c.plainBytesRead + c.plainBytesWritten;
  const connections = Math.max(1, c.connections);
  return {
    handshakeBytes: c.tlsHandshakeBytes,
    handshakeBytesPerConnection: round(c.tlsHandshakeBytes / connections),
    plainBytes: plain,
    ...(delivered > 0 && {
      plainBytesPerMessage: round(plain / delivered),
      // Records and handshakes together: what the same traffic cost over TLS beyond its plaintext.
      tlsBytesPerMessage: round((wire - plain) / delivered),
      recordBytesPerMessage: round((wire - plain - c.tlsHandshakeBytes) / delivered),
    }),
  };
}

/**
 * A row against a server the lab did not start: no server CPU or socket counts; the bytes are
 * the load processes' own sockets', and the row says so.
 */
function clientSideRow(row: TransportResult): TransportResult {
  return { ...row, extra: { ...row.extra, measuredFrom: 'client side only: a server the lab did not start (--target)' } };
}

/** Counters accumulated since `base` (the moment the current load began connecting). */
export function sinceBase(now: ServerCounters, base: ServerCounters | undefined): ServerCounters {
  if (!base) return now;
  return {
    ...now,
    connections: now.connections - base.connections,
    requests: now.requests - base.requests,
    emptyResponses: now.emptyResponses - base.emptyResponses,
    bytesRead: now.bytesRead - base.bytesRead,
    bytesWritten: now.bytesWritten - base.bytesWritten,
    errors: now.errors - base.errors,
    messagesIn: now.messagesIn - base.messagesIn,
  };
}

/** The row from the server's totals and the load processes' results. */
function buildRow(
  transport: TransportName,
  c: CollectSpec,
  totals: ServerTotals | undefined,
  results: LoadResult[],
  series: TransportResult['series'] = [],
): TransportResult {
  type Count = { [K in keyof LoadResult]-?: LoadResult[K] extends number ? K : never }[keyof LoadResult];
  const sum = (k: Count) => results.reduce((a, m) => a + m[k], 0);
  const corrected = mergeEncoded(results.map((m) => m.histograms.corrected));
  const uncorrected = mergeEncoded(results.map((m) => m.histograms.uncorrected));
  const delivered = sum('delivered');
  // Without the server's counters (--target), the load processes' socket bytes stand in, and no server figure is given.
  const up = totals ? totals.counters.bytesRead : sum('clientBytesWritten');
  const down = totals ? totals.counters.bytesWritten : sum('clientBytesRead');
  const payloadBytes = (delivered + (c.upPayload ? sum('sent') : 0)) * c.size;
  const wireTotal = up + down;
  const clientCpu = results.map((m) => m.cpuPct);
  return {
    transport,
    state: 'completed',
    error: null,
    latencyMs: summarize(corrected),
    latencyMsUncorrected: summarize(uncorrected),
    percentiles: percentileCurve(corrected),
    throughput: { messagesPerSec: round(delivered / c.seconds), payloadBytesPerSec: round((delivered * c.size) / c.seconds) },
    messages: { sent: sum('owed'), delivered, lost: sum('lost'), duplicates: sum('duplicates'), published: Math.max(0, c.last - c.first + 1) },
    wire: {
      bytesUp: up,
      bytesDown: down,
      payloadBytes,
      overheadBytesPerMessage: delivered > 0 ? round((wireTotal - payloadBytes) / delivered) : 0,
      bytesPerMessage: delivered > 0 ? round(wireTotal / delivered) : 0,
      requests: totals ? totals.counters.requests : sum('requests'),
      emptyResponses: totals ? totals.counters.emptyResponses : sum('emptyResponses'),
    },
    server: totals
      ? {
          cpuMs: round(totals.process.cpuMs),
          rssMaxBytes: totals.process.rssMaxBytes,
          cpuPct: round(totals.process.cpuPct),
          connections: totals.counters.connections,
          ...(delivered > 0 ? { cpuUsPerMessage: round((totals.process.cpuMs * 1000) / delivered) } : {}),
        }
      : null,
    client: {
      cpuMs: round(sum('cpuMs')),
      cpuPct: round(Math.max(...clientCpu)),
      processes: results.length,
      clientBound: clientCpu.some((x) => x >= CLIENT_BOUND_PCT),
      ...(delivered > 0 ? { cpuUsPerMessage: round((sum('cpuMs') * 1000) / delivered) } : {}),
    },
    series,
    extra: {
      clientRequests: sum('requests'),
      clientErrors: results.flatMap((m) => m.errors),
      ...(sum('notSent') ? { notSentBacklog: sum('notSent') } : {}),
      ...(sum('sendErrors') ? { sendErrors: sum('sendErrors') } : {}),
      ...(c.keepHistogram ? { latencyHistogram: encodeHistogram(corrected) } : {}),
      ...endLatency(results),
      ...c.extra,
    },
  };
}

/** The latency of the phase's last messages (those from its `tailFrom` on), when it asked for them. */
function endLatency(results: LoadResult[]): { endLatencyMs?: LatencySummary } {
  const tails = results.flatMap((m) => (m.tail === undefined ? [] : [m.tail]));
  const summary = tails.length > 0 ? summarize(mergeEncoded(tails)) : null;
  return summary ? { endLatencyMs: summary } : {};
}

/** Two decimals. */
export const round = (x: number) => Math.round(x * 100) / 100;
