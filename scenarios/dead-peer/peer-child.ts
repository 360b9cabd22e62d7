/**
 * The peer of the dead-peer scenario: one client of one transport, alone in
 * its process, so that SIGSTOP freezes exactly it — its event loop, its
 * timers and its replies to pings — while the kernel keeps its sockets open
 * (and keeps acknowledging TCP segments), as with a hung tab or a stalled VM.
 */
import type { TransportClient } from '../../clients/contract.ts';
import { serveParent } from '../../runner/child.ts';
import type { PeerCalls } from './peer.ts';
import { clientFrom } from '../../transports/load.ts';

let client: TransportClient | undefined;

serveParent<PeerCalls>(
  {
    async init(m) {
      client = (await clientFrom(m.client))({
        baseUrl: m.baseUrl,
        clientId: 'dead-peer',
        pollIntervalMs: m.pollIntervalMs,
        ...(m.ca !== undefined && { ca: m.ca }),
        onMessage: () => {},
        onError: () => {},
      });
      await client.start();
      return { pid: process.pid };
    },
  },
  async () => {
    await Promise.race([client?.stop().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
  },
);
