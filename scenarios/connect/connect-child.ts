/**
 * The connect scenario's client side: fresh clients of one transport, one after another, each
 * timed from its creation to its first delivered message, in a process of its own on the load's
 * CPUs. Every client is new (its own HTTP pool or socket), so each pays the whole chain of round
 * trips a page opening would: TCP, TLS, the request or upgrade.
 */
import type { HeaderProfile, TransportClient } from '../../clients/contract.ts';
import { decodePayload, type Stamp } from '../../metrics/payload.ts';
import { serveParent } from '../../runner/child.ts';
import type { ClientModule } from '../../transports/descriptor.ts';
import { clientFrom } from '../../transports/load.ts';

/** Where a client connects and how it behaves. */
interface ClientSpec {
  client: ClientModule;
  baseUrl: string;
  pollIntervalMs: number;
  headers: HeaderProfile;
  ca?: string;
}

/** What the session and this process say to each other. */
export type ConnectCalls = {
  /** Starts one client and keeps it, once its first message has come. */
  hold: { req: ClientSpec & { timeoutMs: number }; reply: Record<never, never> };
  /**
   * Waits for the held client's first message sent after `afterNs` (monotonic, the host's
   * clock: when the link dropped its connections); `ms` is the time from then to its arrival.
   */
  next: { req: { afterNs: number; timeoutMs: number }; reply: { ms: number | null; why?: string } };
  /** Times `count` fresh clients in turn; a client that gets no message within `timeoutMs` is an error, not a time. */
  measure: {
    req: { client: ClientModule; baseUrl: string; pollIntervalMs: number; headers: HeaderProfile; ca?: string; count: number; timeoutMs: number };
    reply: { times: number[]; errors: string[] };
  };
};

/** Pause between clients, ms: the last one's connections are closed before the next opens. */
const GAP_MS = 50;

/** The held client, and the latest message it got: when that left the server and when it arrived (monotonic ns). */
let held: TransportClient | undefined;
let waiting: ((sentNs: number, recvNs: number) => void) | undefined;
const stamp: Stamp = { seq: 0, intendedNs: 0, lateNs: 0 };

serveParent<ConnectCalls>({
  async hold(m) {
    let first: () => void = () => {};
    const arrived = new Promise<void>((r) => {
      first = r;
    });
    held = (await clientFrom(m.client))({
      baseUrl: m.baseUrl,
      clientId: 'connect-held',
      pollIntervalMs: m.pollIntervalMs,
      headers: m.headers,
      ...(m.ca !== undefined && { ca: m.ca }),
      onMessage: (data, recvNs) => {
        first();
        if (waiting && decodePayload(data, stamp)) waiting(stamp.intendedNs + stamp.lateNs, Number(recvNs));
      },
      // The drop makes the client fail and retry by its own rules; that is what is measured.
      onError: () => {},
    });
    await held.start();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        arrived,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no message within ${m.timeoutMs} ms`)), m.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return {};
  },
  async next(m) {
    if (!held) throw new Error('no client is held');
    let timer: NodeJS.Timeout | undefined;
    const ms = await new Promise<number | null>((resolve) => {
      timer = setTimeout(() => resolve(null), m.timeoutMs);
      waiting = (sentNs, recvNs) => {
        if (sentNs > m.afterNs) resolve((recvNs - m.afterNs) / 1e6);
      };
    });
    clearTimeout(timer);
    waiting = undefined;
    await held.stop().catch(() => {});
    held = undefined;
    return ms === null ? { ms, why: `no message sent after the drop arrived within ${m.timeoutMs} ms` } : { ms };
  },
  async measure(m) {
    const make = await clientFrom(m.client);
    const times: number[] = [];
    const errors: string[] = [];
    // Client 0 is not counted: it loads and compiles the client's code, which a page has done before it connects.
    for (let i = 0; i <= m.count; i++) {
      let first: (() => void) | undefined;
      const arrived = new Promise<void>((r) => {
        first = r;
      });
      const t0 = performance.now();
      let t1 = 0;
      const client = make({
        baseUrl: m.baseUrl,
        clientId: `connect-${i}`,
        pollIntervalMs: m.pollIntervalMs,
        headers: m.headers,
        ...(m.ca !== undefined && { ca: m.ca }),
        onMessage: () => {
          if (t1 === 0) t1 = performance.now();
          first?.();
        },
        onError: () => {},
      });
      let timer: NodeJS.Timeout | undefined;
      try {
        await client.start();
        await Promise.race([
          arrived,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no message within ${m.timeoutMs} ms`)), m.timeoutMs);
          }),
        ]);
        if (i > 0) times.push(t1 - t0);
      } catch (e) {
        errors.push(`client ${i}: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
        await client.stop().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    return { times, errors };
  },
});
