/**
 * The path a run's traffic takes between the load clients and the server, as one facet of the
 * run that every transport and scenario goes through: a proxy in front (`--via nginx`), TLS on
 * the listener (`--tls`), or a server the lab did not start (`--target URL`).
 */
import { generate } from 'selfsigned';
import type { ProxyOptions } from './nginx.ts';

/** A throwaway certificate and its key, PEM; the clients trust exactly this certificate. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/** The path of one run. Absent fields: the plain path (the lab's server, no proxy, no TLS). */
export interface RunPath {
  /** A reverse proxy the lab starts in front of its server, and how it is configured. */
  via?: { kind: 'nginx'; proxy: ProxyOptions };
  /** TLS on the listener the clients reach (the server's, or nginx's when it is in front). */
  tls?: TlsMaterial;
  /** Base URL of a server the lab did not start (http(s):// form): no server process, no proxy. */
  target?: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, valid for a day, made now. */
export async function throwawayCertificate(): Promise<TlsMaterial> {
  const pems = await generate([{ name: 'commonName', value: 'transport-lab' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * A target URL as the lab's clients take it, a base they add the contract's paths to:
 * ws(s):// becomes http(s):// (the WebSocket clients keep its path), an SSE endpoint's
 * `/events` and a trailing slash go.
 */
export function targetBase(url: string): string {
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  else if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`must be ws://, wss://, http:// or https://, got ${u.protocol}`);
  else u.pathname = u.pathname.replace(/\/events\/?$/, '');
  return u.toString().replace(/\/$/, '');
}

let labCertificatePromise: Promise<TlsMaterial> | undefined;

/**
 * The lab's certificate for rows that are TLS by nature (`*-h2`: browsers speak HTTP/2 to https
 * origins only), made once per process like `--tls`'s, which it is when the run has one.
 */
export function labCertificate(): Promise<TlsMaterial> {
  labCertificatePromise ??= throwawayCertificate();
  return labCertificatePromise;
}
