/**
 * The peer of the dead-peer scenario: one client of one transport, alone in
 * its process, so that SIGSTOP freezes exactly it — its event loop, its
 * timers and its replies to pings — while the kernel keeps its sockets open
 * (and keeps acknowledging TCP segments), as with a hung tab or a stalled VM.
 */
import type { TransportName } from '../../metrics/results.ts';
import { createClientFor } from '../../clients/index.ts';
import type { TransportClient } from '../../clients/contract.ts';
import { installChildGuards, type Msg } from '../../runner/child.ts';

installChildGuards();
let client: TransportClient | undefined;
let received = 0;
const errors: string[] = [];
const reply = (m: Msg) => process.send!(m);

process.on('message', async (m: Msg) => {
  switch (m.type) {
    case 'init': {
      client = createClientFor(m['transport'] as TransportName, {
        baseUrl: String(m['baseUrl']),
        clientId: 'dead-peer',
        pollIntervalMs: Number(m['pollIntervalMs'] ?? 1000),
        onMessage: () => void received++,
        onError: (e) => void (errors.length < 5 && errors.push(e.message)),
      });
      await client.start();
      reply({ type: 'ready', pid: process.pid });
      break;
    }
    case 'status':
      reply({ type: 'status', received, requests: client?.requests ?? 0, errors });
      break;
    case 'exit':
      await Promise.race([client?.stop().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
      process.exit(0);
  }
});
