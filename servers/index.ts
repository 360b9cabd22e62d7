/** The server registry: one line per transport. */
import type { TransportName } from '../metrics/results.ts';
import type { ServerOptions, TransportServer } from './contract.ts';
import { createLongPollingServer } from './long-polling.ts';
import { createPollingServer } from './polling.ts';
import { createSseServer } from './sse.ts';
import { createWebSocketServer } from './websocket.ts';
import { createWsServer } from './ws.ts';

export const SERVERS: Record<TransportName, (o?: ServerOptions) => TransportServer> = {
  polling: createPollingServer,
  'long-polling': createLongPollingServer,
  sse: createSseServer,
  websocket: createWebSocketServer,
  ws: createWsServer,
};

/** Creates the server of a transport; throws for one that has no server. */
export function createServerFor(t: TransportName, o?: ServerOptions): TransportServer {
  return SERVERS[t](o);
}
