/** Shared test helpers: servers on port 0, clients that collect (waiting: helpers/wait.ts). */
import type { TestContext } from 'node:test';
import type { ClientOptions, TransportClient } from '../clients/contract.ts';
import type { ServerOptions, TransportServer } from '../servers/contract.ts';
import { once } from 'node:events';
import { connect as h2Connect } from 'node:http2';
import { createClientFor, createServerFor } from '../transports/load.ts';
import { transportByName } from '../transports/index.ts';
import { selfSignedCertificate } from './protocol/self-signed.ts';
import type { TransportName } from '../metrics/results.ts';
import type { OverheadParams } from '../scenarios/overhead/index.ts';

/** The certificate a test server over TLS was given, by base URL: its clients and requests trust it. */
const trusted = new Map<string, string>();

/**
 * Starts a transport server on 127.0.0.1, port 0, closed after the test. An HTTP/2 row listens
 * with TLS (ALPN h2) on a certificate made for the test, as the lab runs it.
 */
export async function startServer(t: TestContext, transport: TransportName, o?: ServerOptions): Promise<{ server: TransportServer; baseUrl: string }> {
  const h2 = transportByName(transport)?.httpServer === 'h2' && o?.tls === undefined;
  const tls = h2 ? await selfSignedCertificate() : undefined;
  const server = await createServerFor(transport, tls ? { ...o, tls } : o);
  const port = await server.listen(0, '127.0.0.1');
  t.after(() => server.close());
  const baseUrl = `${h2 ? 'https' : 'http'}://127.0.0.1:${port}`;
  if (tls) trusted.set(baseUrl, tls.cert);
  return { server, baseUrl };
}

/** The certificate a TLS test server (an h2 row's) was started with, for clients made by hand. */
export function trustedCa(baseUrl: string): string | undefined {
  return trusted.get(baseUrl);
}

/** A request to a test server, over HTTP/2 (TLS, ALPN h2) for an h2 row's server, else as `fetch` does. */
export async function request(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const ca = trusted.get(baseUrl);
  if (ca === undefined) return fetch(baseUrl + path, init);
  const session = h2Connect(baseUrl, { ca });
  try {
    const stream = session.request({ ':method': init.method ?? 'GET', ':path': path, ...init.headers }, { endStream: !init.body });
    if (init.body) stream.end(init.body);
    const [head] = (await once(stream, 'response')) as [Record<string, string>];
    const status = Number(head[':status']);
    let text = '';
    // An event stream never ends: its head is the answer, the stream is cancelled as `body.cancel()` would.
    if (String(head['content-type']).startsWith('text/event-stream')) stream.close();
    else {
      stream.setEncoding('utf8');
      for await (const chunk of stream) text += chunk as string;
    }
    const headers = Object.entries(head).filter(([k]) => !k.startsWith(':')) as [string, string][];
    return new Response(status === 204 ? null : text, { status, headers });
  } finally {
    session.close();
  }
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
  const ca = trusted.get(baseUrl);
  const client = await createClientFor(transport, {
    baseUrl,
    clientId,
    ...(ca !== undefined && { ca }),
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
  const r = await request(baseUrl, path, { method: 'POST', body, headers: { 'content-type': contentType } });
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
