/** Shared test helpers: servers on port 0, clients that collect (waiting: helpers/wait.ts). */
import type { TestContext } from 'node:test';
import type { ClientOptions, TransportClient } from '../clients/contract.ts';
import type { ServerOptions, TransportServer } from '../servers/contract.ts';
import { createClientFor, createServerFor } from '../transports/load.ts';
import type { TransportName } from '../metrics/results.ts';
import type { OverheadParams } from '../scenarios/overhead/index.ts';

/** Starts a transport server on 127.0.0.1, port 0, closed after the test. */
export async function startServer(t: TestContext, transport: TransportName, o?: ServerOptions): Promise<{ server: TransportServer; baseUrl: string }> {
  const server = await createServerFor(transport, o);
  const port = await server.listen(0, '127.0.0.1');
  t.after(() => server.close());
  return { server, baseUrl: `http://127.0.0.1:${port}` };
}

/** A client that keeps what it receives. */
export interface Collector {
  client: TransportClient;
  received: string[];
  gaps: { from: number; to: number }[];
}

/** Starts a client that collects its messages, stopped after the test. */
export async function startCollector(
  t: TestContext,
  transport: TransportName,
  baseUrl: string,
  clientId: string,
  o: Partial<ClientOptions> = {},
): Promise<Collector> {
  const received: string[] = [];
  const gaps: { from: number; to: number }[] = [];
  const client = await createClientFor(transport, {
    baseUrl,
    clientId,
    pollIntervalMs: 50,
    onMessage: (d) => received.push(d),
    onGap: (from, to) => gaps.push({ from, to }),
    ...o,
  });
  await client.start();
  t.after(() => client.stop());
  return { client, received, gaps };
}

/** POSTs to a server path; returns status and body text. */
export async function post(baseUrl: string, path: string, body: string, contentType = 'text/plain'): Promise<{ status: number; text: string }> {
  const r = await fetch(baseUrl + path, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: r.status, text: await r.text() };
}

/** A small overhead sweep over both payload kinds (2 clients, 50 msg/s, 512 B): enough for a deflate row to tell them apart. */
export const BOTH_PAYLOADS_SWEEP: OverheadParams = {
  pollIntervalMs: 100,
  longPollTimeoutMs: 25_000,
  headers: 'minimal',
  clients: 2,
  rates: [50],
  sizes: [512],
  minMessages: 5,
  minWindowMs: 300,
  sessionSeconds: 60,
  extrapolateClients: [1000],
  payloads: ['compressible', 'incompressible'],
};
