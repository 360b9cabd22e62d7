/**
 * The connect scenario's client side: fresh clients of one transport, one after another, each
 * timed from its creation to its first delivered message, in a process of its own on the load's
 * CPUs. Every client is new (its own HTTP pool or socket), so each pays the whole chain of round
 * trips a page opening would: TCP, TLS, the request or upgrade.
 */
import type { HeaderProfile } from '../../clients/contract.ts';
import { serveParent } from '../../runner/child.ts';
import type { ClientModule } from '../../transports/descriptor.ts';
import { clientFrom } from '../../transports/load.ts';

/** What the session and this process say to each other. */
export type ConnectCalls = {
  /** Times `count` fresh clients in turn; a client that gets no message within `timeoutMs` is an error, not a time. */
  measure: {
    req: { client: ClientModule; baseUrl: string; pollIntervalMs: number; headers: HeaderProfile; ca?: string; count: number; timeoutMs: number };
    reply: { times: number[]; errors: string[] };
  };
};

/** Pause between clients, ms: the last one's connections are closed before the next opens. */
const GAP_MS = 50;

serveParent<ConnectCalls>({
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
