/**
 * `connect`: how long a page waits for its first message. Fresh clients, one after another,
 * are each timed from their creation to their first delivered message while the server
 * publishes every few milliseconds; on an emulated link (`--link`) the time is also given in
 * round trips, beside the count the protocols predict:
 *
 * - TCP: 1 (SYN, SYN-ACK; the request leaves with the ACK);
 * - TLS 1.3 with `--tls`: 1 (ClientHello, ServerHello…Finished; the request leaves with the
 *   client's Finished, RFC 8446 §2);
 * - WebSocket: the upgrade, 1 (RFC 6455 §4.1: frames follow the 101 at once); SSE: the
 *   request, 1 (the stream's first event follows the response head);
 * - long and short polling: the cursor request, 1, then the first poll, 1 (the lab's clients
 *   learn where the stream stands before they poll from it); short polling's first poll finds
 *   nothing when no message was published in between, and then waits one interval more. The
 *   long-polling client sends its first held poll on the cursor request's connection once that
 *   answer has freed it, so no second connection comes before the first message.
 */
import type { TransportName, TransportResult } from '../../metrics/results.ts';
import type { HeaderProfile } from '../../clients/contract.ts';
import type { TransportDescriptor } from '../../transports/descriptor.ts';
import { Session } from '../../runner/session.ts';
import { httpLoadFlags, type FlagReader } from '../../runner/flags.ts';
import { measuredRow, peerGap, type RunContext, type Scenario } from '../contract.ts';
import { connectFacet } from './facet.ts';
import type { ConnectExtra } from './schema.ts';
import { ConnectProbe } from './probe.ts';

/** How often the server publishes while clients connect, ms: a subscribed client waits at most this for a message. */
const PUBLISH_EVERY_MS = 2;

/**
 * On a link the publishing period is a twentieth of the RTT (0.05 RTT of wait at most): a
 * poll's first answer carries what was published since its cursor was taken, and at 2 ms over a
 * 300 ms RTT that is about 30 KB, 150 ms of a 3G downlink before the first message is whole.
 */
const PUBLISH_RTT_SHARE = 1 / 20;

export interface ConnectParams {
  /** Fresh clients timed per row. */
  fresh: number;
  /** Short-polling interval, ms. */
  pollIntervalMs: number;
  /** Long-poll hold time, ms. */
  longPollTimeoutMs: number;
  /** Request header profile of the HTTP clients and the upgrade. */
  headers: HeaderProfile;
  /** The server's publishing period while clients connect, ms. */
  publishEveryMs: number;
}

/** Round trips before the first message, as the protocols of a transport with these traits predict. */
export function predictedRoundTrips(d: TransportDescriptor, tls: boolean): ConnectExtra['predicted'] {
  // A peer speaks its own protocol (socket.io's handshake, websocketd's): the lab predicts only its own.
  if (d.peer) return undefined;
  const steps = ['TCP 1', ...(tls ? ['TLS 1.3 1'] : [])];
  const { delivery } = d.traits;
  // Over HTTP/2 every request of a page shares its one connection (and a WebSocket is an extended CONNECT on it, RFC 8441 §4).
  const h2 = d.httpServer === 'h2';
  // RFC 8441 §3: the client may send an extended CONNECT only once the server's SETTINGS said
  // SETTINGS_ENABLE_CONNECT_PROTOCOL, and the server sends them after its TLS handshake ends.
  if (delivery === 'frames') steps.push(...(h2 ? ['server SETTINGS 1', 'extended CONNECT 1'] : ['upgrade 1']));
  else if (delivery === 'stream') steps.push('request 1');
  else steps.push('cursor request 1', delivery === 'poll' ? 'first poll 1' : 'held poll 1');
  return { roundTrips: steps.length, steps, plusInterval: delivery === 'poll' };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

/** How a transport's own client comes back after its connections were reset, in words. */
function reconnectRule(d: TransportDescriptor): string | undefined {
  switch (d.traits.delivery) {
    case 'stream':
      return 'waits the server’s retry: time (EventSource rules), then TCP, TLS when on, and the request, resuming with Last-Event-ID';
    case 'held-request':
      return 'retries its poll on a new connection after a short back-off (TCP, TLS when on, the poll), from its cursor';
    case 'poll':
      return 'its next scheduled poll opens a new connection (up to one interval, then TCP, TLS when on, the poll)';
    default:
      return undefined;
  }
}

/**
 * One client held, every connection through the link reset at once, then the time from the
 * reset to the first message sent after it: for the transports whose clients come back by
 * themselves. The lab's WebSocket clients do not, and are not timed.
 */
async function reconnectAfterDrop(s: Session, probe: ConnectProbe, timeoutMs: number): Promise<ConnectExtra['reconnect']> {
  const rule = reconnectRule(s.descriptor);
  if (!rule || s.descriptor.peer || !s.link)
    return { ms: null, rule: 'does not reconnect by itself (the lab’s WebSocket clients leave that to the application)' };
  await probe.hold(timeoutMs);
  const dropped = await s.link.drop();
  const r = await probe.next(dropped.atNs, timeoutMs);
  return { ms: r.ms === null ? null : round2(r.ms), rule: r.why ?? rule };
}

export const connect: Scenario<ConnectParams> = {
  name: 'connect',
  summary: 'fresh clients one at a time: time to the first message, in ms and (with --link) in round trips beside the protocols’ count',
  facet: connectFacet,
  byNameOnly: true,
  flags: {
    'connect-clients': { help: 'connect: fresh clients timed one after another per row', kind: 'number', quick: 7, full: 15, min: 1, max: 1000, integer: true },
  },
  params: (f: FlagReader) => ({ fresh: f.num('connect-clients'), ...httpLoadFlags(f), publishEveryMs: PUBLISH_EVERY_MS }),
  skipReason: (d) => peerGap(d, 'publish'),
  plannedMs: (p, t) => (p.fresh + 1) * (8 * (t.link?.params.rttMs ?? 0) + (t.traits.delivery === 'poll' ? p.pollIntervalMs / 2 : 0) + 100),
  async run(transport: TransportName, p: ConnectParams, ctx: RunContext): Promise<TransportResult> {
    const s = new Session(transport, { longPollTimeoutMs: p.longPollTimeoutMs }, ctx);
    try {
      ctx.progress(`${transport}: starting server`);
      await s.startServer({ spareLoad: false });
      const probe = await ConnectProbe.start(s, { pollIntervalMs: p.pollIntervalMs, headers: p.headers });
      const rttMs = s.descriptor.link?.params.rttMs ?? 0;
      // Generous: a fresh client needs a few round trips, a short poll up to an interval more.
      const timeoutMs = 20 * rttMs + 2 * p.pollIntervalMs + 10_000;
      const publishMs = p.fresh * timeoutMs;
      const everyMs = Math.max(p.publishEveryMs, rttMs * PUBLISH_RTT_SHARE);
      const publishing = s.publish({ rate: 1000 / everyMs, size: 64, durationMs: publishMs });
      // The publisher outlives the measurement; the session's close ends it with the server.
      publishing.catch(() => {});
      ctx.progress(`${transport}: timing ${p.fresh} fresh client(s)`);
      const r = await probe.measure(p.fresh, timeoutMs);
      if (r.times.length === 0) throw new Error(`no fresh client got a message: ${r.errors.slice(0, 3).join('; ')}`);
      const reconnect = s.link ? await reconnectAfterDrop(s, probe, timeoutMs) : undefined;
      // An h2 row is over TLS even when the run is not (the session gives it a certificate): the client's trust says which.
      const tls = s.ca !== undefined;
      const mid = median(r.times);
      const predicted = predictedRoundTrips(s.descriptor, tls);
      const extra: ConnectExtra = {
        fresh: p.fresh,
        firstMessageMs: { median: round2(mid), min: round2(Math.min(...r.times)), max: round2(Math.max(...r.times)) },
        samplesMs: r.times.map(round2),
        rttMs,
        ...(rttMs > 0 && { roundTrips: round2(mid / rttMs) }),
        ...(predicted && { predicted }),
        tls,
        publishEveryMs: round2(everyMs),
        ...(r.errors.length > 0 && { errors: r.errors }),
        ...(reconnect && { reconnect }),
      };
      return measuredRow(transport, { extra });
    } finally {
      await s.close();
    }
  },
};
