/**
 * The listening side of a transport server: node:http(s), or node:http2 for an `-h2` row, with
 * the wire meters on its sockets (the bytes at TCP, and above TLS the plaintext).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { WireMeter } from '../metrics/wire.ts';
import type { ServerOptions } from './contract.ts';
import { createH2Listener, type H2Listener } from './h2-listener.ts';

/** How long an idle keep-alive connection is kept open, ms (what finally frees a silent HTTP client). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Above TLS: the plaintext bytes of every secure socket, and the bytes each handshake took at
 * the TCP socket, so a TLS row can say what TLS itself added.
 */
export class PlainMeter {
  private readonly live = new Set<TLSSocket>();
  private closedRead = 0;
  private closedWritten = 0;
  private handshake = 0;

  /** Counts a socket that finished its handshake; `raw` is its TCP socket's byte count at that moment. */
  track(s: TLSSocket, raw: number): void {
    this.handshake += raw;
    this.live.add(s);
    s.once('close', () => {
      this.closedRead += s.bytesRead;
      this.closedWritten += s.bytesWritten;
      this.live.delete(s);
    });
  }

  totals(): { tlsHandshakeBytes: number; plainBytesRead: number; plainBytesWritten: number } {
    let read = this.closedRead;
    let written = this.closedWritten;
    for (const s of this.live) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { tlsHandshakeBytes: this.handshake, plainBytesRead: read, plainBytesWritten: written };
  }
}

/** The listening side of a server: node:http(s), or node:http2 for an `-h2` row, with the wire meters on its sockets. */
export interface Listeners {
  h2: H2Listener | undefined;
  http1: HttpServer | undefined;
  /** Whichever listens: the node:http(s) server or the h2 one (both are net or tls servers underneath). */
  listener: HttpServer;
  /** Over TLS: the plaintext bytes above it. */
  plain: PlainMeter | undefined;
}

export function createListeners(opts: Required<ServerOptions>, meter: WireMeter): Listeners {
  const h2 = opts.httpServer === 'h2' ? createH2Listener(opts.tls) : undefined;
  const http1 = h2
    ? undefined
    : opts.tls
      ? createTlsServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, cert: opts.tls.cert, key: opts.tls.key })
      : createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  const listener = (h2?.server ?? http1!) as HttpServer;
  // Over TLS, 'connection' gives the raw TCP socket: the meter counts the encrypted bytes, records and handshake included.
  listener.on('connection', (s: Socket) => meter.track(s));
  const plain = opts.tls ? new PlainMeter() : undefined;
  if (plain) listener.on('secureConnection', (s: TLSSocket) => plain.track(s, meter.bytesOfPeer(s.remotePort)));
  if (http1) {
    // Long polls and event streams are held open on purpose: no request timeout (bodies have their own).
    http1.requestTimeout = 0;
    http1.headersTimeout = 20_000;
  }
  return { h2, http1, listener, plain };
}
