/** The client registry: one line per transport. */
import type { TransportName } from '../metrics/results.ts';
import type { ClientOptions, TransportClient } from './contract.ts';
import { LongPollingClient } from './long-polling.ts';
import { PollingClient } from './polling.ts';
import { SseClient } from './sse.ts';
import { EngineClient } from './websocket.ts';
import { WsClient } from './ws.ts';

export const CLIENTS: Record<TransportName, (o: ClientOptions) => TransportClient> = {
  polling: (o) => new PollingClient(o),
  'long-polling': (o) => new LongPollingClient(o),
  sse: (o) => new SseClient(o),
  websocket: (o) => new EngineClient(o),
  ws: (o) => new WsClient(o),
};

/** Creates the load client of a transport; throws for one that has none. */
export function createClientFor(t: TransportName, o: ClientOptions): TransportClient {
  return CLIENTS[t](o);
}
