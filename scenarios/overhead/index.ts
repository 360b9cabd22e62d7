/**
 * `overhead`: what each delivered message really costs on the wire, swept over
 * message rate and size. Each point is measured in steady state: the server
 * publishes for T + 2L, and bytes and deliveries are both counted over the
 * middle window [L, L + T] only (L covers the delivery lag, a poll interval
 * for short polling), so neither the start nor the tail of a phase skews it.
 * Empty polls, chunk framing, headers and frame headers are all in the bytes.
 *
 * Set-up (the first request, the WebSocket handshake) is measured once per
 * client and amortised over a session of `--session-seconds` at each rate.
 * Crossovers between transports are computed by interpolating the
 * bytes-per-message lines in log(rate); the 1k/10k/100k-client table is
 * extrapolated from the measured per-message overhead and labelled so.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ScenarioResult, TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { OverheadCrossover, OverheadExtrapolation, OverheadSummary, OverheadSweepPoint } from './schema.ts';
import { deliveryLagMs, type RunContext, type Scenario } from '../contract.ts';
import { overheadFacet } from './facet.ts';
import { measuredRow, peerGap } from '../contract.ts';
import type { FlagReader } from '../../runner/flags.ts';
import { httpLoadFlags } from '../../runner/flags.ts';
import { Session } from '../../runner/session.ts';
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import { round } from '../../runner/collect.ts';
import type { PlainPayload } from '../../metrics/plain-payload.ts';
import { measurePoint, type MeasuredPoint, pointFigures, pointWindowMs, setupOf, TAIL_MS, windowBytes } from './points.ts';

export interface OverheadParams {
  clients: number;
  rates: number[];
  sizes: number[];
  /** Least measured messages per point. */
  minMessages: number;
  /** Least measured window per point, ms. */
  minWindowMs: number;
  sessionSeconds: number;
  pollIntervalMs: number;
  longPollTimeoutMs: number;
  headers: HeaderProfile;
  extrapolateClients: number[];
  /** Payload kinds swept, the first one drawing the lines and crossovers. */
  payloads: PlainPayload[];
}

export const overhead: Scenario<OverheadParams> = {
  name: 'overhead',
  skipReason: (d) => peerGap(d, 'publish'),
  summary: 'bytes on the wire per delivered message over a sweep of rate and size; crossovers; extrapolated header traffic',
  facet: overheadFacet,
  flags: {
    'overhead-rates': {
      help: 'overhead: messages per second per client to sweep',
      kind: 'numbers',
      quick: [1, 100],
      full: [0.1, 1, 10, 100],
      min: 0.01,
      max: 100_000,
    },
    'overhead-sizes': {
      help: 'overhead: payload sizes to sweep, bytes',
      kind: 'numbers',
      quick: [64, 4096],
      full: [16, 64, 1024, 16_384, 65_536],
      min: 1,
      max: 16 * 1024 * 1024,
      integer: true,
    },
    'overhead-clients': { help: 'overhead: subscribers', kind: 'number', quick: 10, full: 50, min: 1, max: 10_000, integer: true },
    'overhead-window': { help: 'overhead: least seconds measured per point', kind: 'number', quick: 1, full: 5, min: 0.2, max: 3600 },
    'overhead-messages': { help: 'overhead: least messages measured per point', kind: 'number', quick: 2, full: 5, min: 1, max: 100_000, integer: true },
    'overhead-payload': {
      help: 'overhead: payload text: compressible (JSON-like), incompressible (random base64) or both, for the permessage-deflate rows',
      kind: 'choice',
      quick: 'compressible',
      full: 'both',
      choices: ['compressible', 'incompressible', 'both'],
    },
    'session-seconds': { help: 'overhead: connection lifetime the set-up bytes are amortised over, s', kind: 'number', quick: 60, min: 1, max: 86_400 },
  },
  params: (f: FlagReader): OverheadParams => ({
    clients: f.num('overhead-clients'),
    rates: [...new Set(f.nums('overhead-rates'))].sort((a, b) => a - b),
    sizes: [...new Set(f.nums('overhead-sizes'))].sort((a, b) => a - b),
    minMessages: f.num('overhead-messages'),
    minWindowMs: f.num('overhead-window') * 1000,
    sessionSeconds: f.num('session-seconds'),
    ...httpLoadFlags(f),
    extrapolateClients: [1000, 10_000, 100_000],
    payloads: payloadKinds(f.str('overhead-payload')),
  }),
  // Every point of the sweep: the lag margin, its window (whole poll cycles for short polling) and a short tail.
  plannedMs: (p, t) => {
    const polls = t.traits.delivery === 'poll';
    const lagMs = deliveryLagMs(t, p.pollIntervalMs) + 250;
    let ms = 0;
    for (const rate of p.rates) ms += pointWindowMs(p, rate, polls) + lagMs + TAIL_MS;
    return ms * p.sizes.length * p.payloads.length;
  },

  async run(transport: TransportName, p: OverheadParams, ctx: RunContext): Promise<TransportResult> {
    const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
    const sweep: MeasuredPoint[] = [];
    // Short polling delivers only at its polls: its window and lag follow the poll interval.
    const polls = s.descriptor.traits.delivery === 'poll';
    // Delivery lag margin: a whole poll interval for short polling, a little for the rest.
    const lagMs = polls ? p.pollIntervalMs + 250 : 250;
    try {
      ctx.progress(`${transport}: starting server, connecting ${p.clients} subscriber(s)`);
      await s.startServer();
      await s.startLoad({ clients: p.clients, processes: 1, pollIntervalMs: p.pollIntervalMs, headers: p.headers });
      const afterSetup = (await s.usage()).counters;
      const setup = setupOf(afterSetup, s.baseCounters, p.clients);
      // The first point's window, by direction: the row's wire block says the same as its bytesPerMessage.
      let headlineWindow: { up: number; down: number } | undefined;
      await s.measure();
      for (const payload of p.payloads) {
        for (const size of p.sizes) {
          for (const rate of p.rates) {
            if (ctx.signal.aborted) break;
            const windowMs = pointWindowMs(p, rate, polls);
            ctx.progress(`${transport}: ${size} B ${payload} at ${rate} msg/s per client (${(windowMs / 1000).toFixed(1)} s window)`);
            const m = await measurePoint(s, { rate, size, payload }, windowMs, lagMs);
            const point = pointFigures({ rate, size, payload }, m, setup, p.sessionSeconds);
            headlineWindow ??= windowBytes(m, setup, point.delivered / (p.clients * rate * p.sessionSeconds));
            sweep.push(point);
            // No pause here: the next phase's first L ms are unmeasured, so this phase's tail lands there.
          }
        }
      }
      const totals = await s.totals();
      const proc = totals.process;
      const first = sweep[0];
      // After the measured sweep, so the sample request costs none of its bytes.
      const responseHeaders = await sampleResponseHeaders(s.baseUrl, s.descriptor, s.ca);
      return measuredRow(transport, {
        wire:
          first && headlineWindow
            ? {
                bytesUp: headlineWindow.up,
                bytesDown: headlineWindow.down,
                payloadBytes: first.sizeBytes * first.delivered,
                overheadBytesPerMessage: first.overheadBytesPerMessage,
                bytesPerMessage: first.bytesPerMessage,
                requests: first.requests,
              }
            : null,
        server: { cpuMs: round(proc.cpuMs), rssMaxBytes: proc.rssMaxBytes, cpuPct: round(proc.cpuPct) },
        extra: {
          sweep,
          setupBytesPerClient: round(setup.bytesPerClient),
          sessionSeconds: p.sessionSeconds,
          headline: first ? `${first.sizeBytes} B at ${first.ratePerClient} msg/s` : undefined,
          ...(setup.plainPerClient !== undefined && {
            tlsHandshakeBytesPerClient: round((afterSetup.tlsHandshakeBytes ?? 0) / Math.max(1, setup.connections)),
          }),
          ...(responseHeaders && { responseHeaders }),
        },
      });
    } finally {
      await s.close();
    }
  },

  summarize(sr: ScenarioResult): OverheadSummary {
    const p = sr.params as unknown as OverheadParams;
    const lines = new Map<string, MeasuredPoint[]>();
    for (const r of sr.results) {
      const sweep = r.extra?.['sweep'];
      // The first payload kind's points: crossovers compare lines of one payload.
      if (r.state === 'completed' && Array.isArray(sweep))
        lines.set(
          r.transport,
          (sweep as MeasuredPoint[]).filter((x) => x.payload === (sweep[0] as MeasuredPoint).payload),
        );
    }
    return { crossovers: crossovers(lines, p.sizes), extrapolated: extrapolate(lines, p.extrapolateClients) };
  },
};

/** Where two transports' bytes-per-message lines cross, per size, interpolated in log(rate). */
export function crossovers(lines: Map<string, OverheadSweepPoint[]>, sizes: number[]): (OverheadCrossover & { cheaperBelow: string })[] {
  const out: (OverheadCrossover & { cheaperBelow: string })[] = [];
  const names = [...lines.keys()];
  for (const size of sizes) {
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        const a = pointsAt(lines.get(names[i]!)!, size);
        const b = pointsAt(lines.get(names[j]!)!, size);
        const rates = a.map((x) => x.ratePerClient).filter((r) => b.some((y) => y.ratePerClient === r));
        for (let k = 0; k + 1 < rates.length; k++) {
          const r0 = rates[k]!;
          const r1 = rates[k + 1]!;
          const d0 = at(a, r0) - at(b, r0);
          const d1 = at(a, r1) - at(b, r1);
          if (d0 === 0 || d1 === 0 || Math.sign(d0) === Math.sign(d1)) continue;
          const x = Math.log10(r0) + ((Math.log10(r1) - Math.log10(r0)) * d0) / (d0 - d1);
          const cheaperBelow = d0 < 0 ? names[i]! : names[j]!;
          const other = cheaperBelow === names[i] ? names[j]! : names[i]!;
          out.push({ a: cheaperBelow, b: other, sizeBytes: size, ratePerClient: Number((10 ** x).toPrecision(3)), cheaperBelow });
        }
      }
    }
  }
  return out;
}

/** Header traffic at many clients sending 1 msg/s each, from the per-message overhead measured nearest 1 msg/s at the smallest size. */
function extrapolate(
  lines: Map<string, OverheadSweepPoint[]>,
  clientCounts: number[],
): (OverheadExtrapolation & { extrapolated: true; fromRate: number; fromSize: number })[] {
  const out: (OverheadExtrapolation & { extrapolated: true; fromRate: number; fromSize: number })[] = [];
  for (const [transport, points] of lines) {
    if (points.length === 0) continue;
    const size = Math.min(...points.map((x) => x.sizeBytes));
    const atSize = pointsAt(points, size);
    const nearest = atSize.reduce((a, b) => (Math.abs(Math.log10(b.ratePerClient)) < Math.abs(Math.log10(a.ratePerClient)) ? b : a));
    for (const clients of clientCounts) {
      out.push({
        clients,
        transport,
        headerBytesPerSec: Math.round(clients * 1 * nearest.overheadBytesPerMessage),
        extrapolated: true,
        fromRate: nearest.ratePerClient,
        fromSize: size,
      });
    }
  }
  return out;
}

function pointsAt(points: OverheadSweepPoint[], size: number): OverheadSweepPoint[] {
  return points.filter((x) => x.sizeBytes === size).sort((x, y) => x.ratePerClient - y.ratePerClient);
}

function at(points: OverheadSweepPoint[], rate: number): number {
  return points.find((x) => x.ratePerClient === rate)!.bytesPerMessage;
}

/** The payload kinds a flag value names. */
function payloadKinds(flag: string): PlainPayload[] {
  return flag === 'both' ? ['compressible', 'incompressible'] : [flag as PlainPayload];
}

/**
 * The header lines one reply of an HTTP transport really carries (a poll answered at once, or
 * a stream's head), read on a raw socket; the Date value is left out. Undefined for transports
 * that deliver frames, for a peer without the lab's routes (Engine.IO polls its own path), or
 * when the server does not answer within 5 s.
 */
async function sampleResponseHeaders(baseUrl: string, d: TransportDescriptor, ca: string | undefined): Promise<string[] | undefined> {
  const delivery = d.traits.delivery;
  // An HTTP/2 row's heads are HPACK blocks, measured by the frame tap (h2HeadersBytesPerRequest), not text to show.
  if (delivery === 'frames' || peerGap(d, 'lab-routes') || d.httpServer === 'h2') return undefined;
  const path = delivery === 'stream' ? '/events' : '/poll';
  const port = Number(new URL(baseUrl).port);
  const sock = ca !== undefined ? tlsConnect({ port, host: '127.0.0.1', ca }) : connect(port, '127.0.0.1');
  sock.on('error', () => {});
  let text = '';
  try {
    return await new Promise<string[] | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 5000);
      sock.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        resolve(
          text
            .slice(0, end)
            .split('\r\n')
            .map((l) => (/^date:/i.test(l) ? 'Date: …' : l)),
        );
      });
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
  } finally {
    sock.destroy();
  }
}
