/**
 * The HTTP/2 listener under the `*-h2` rows (node:http2): TLS with ALPN `h2` when the server has a
 * certificate (what browsers speak to an https origin), else cleartext h2 with prior knowledge
 * (h2c, which no browser does). The routes run on node:http2's compatibility request and
 * response, through the same front as plain node:http (`http-front.ts`), so the contract's logic
 * stays written once; a WebSocket arrives as an extended CONNECT (RFC 8441).
 */
import type { Socket } from 'node:net';
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';

/** An h2 server, TLS or cleartext. */
type H2Server = Http2Server | Http2SecureServer;

/** The h2 listener and what closing it needs: node:http2 keeps no list of its sessions. */
export interface H2Listener {
  readonly server: H2Server;
  /** Routes extended CONNECT streams (RFC 8441) to `handler`; others get 405, as node answers them. */
  onExtendedConnect(handler: (req: Http2ServerRequest) => void): void;
  /** Ends every session at once (the server's close then completes). */
  destroySessions(): void;
}

/**
 * Creates the listener. HTTP/1.1 is not allowed on it (`allowHTTP1` off): a row named `-h2`
 * measures HTTP/2 only, and a client that cannot speak it fails instead of falling back.
 */
export function createH2Listener(tls: { cert: string; key: string } | false): H2Listener {
  // A poll may be held for minutes and an event stream for hours: no idle timeout of the session.
  const server: H2Server = tls ? createSecureServer({ cert: tls.cert, key: tls.key, allowHTTP1: false }) : createServer();
  const sessions = new Set<Http2Session>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  // The TCP connections too: on Node 24 a session a client closed after cancelling a stream can
  // be gone while its socket stays open, and the listener's close would wait for it for ever.
  const sockets = new Set<Socket>();
  server.on('connection', (c: Socket) => {
    // node:http turns Nagle's algorithm off on its sockets, node:http2 does not: a small frame (a
    // WebSocket ping, an event) then waited for the ACK of the bytes before it, and with 1,000
    // idle WebSockets pinged every 250 ms half of them were dropped for pongs that came too late.
    c.setNoDelay(true);
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
  });
  let connectHandler: ((req: Http2ServerRequest) => void) | undefined;
  // Once a 'request' listener is on an h2 server, node's compatibility layer answers every CONNECT
  // stream 405 unless a 'connect' listener takes it (nodejs/node#36977): this one does.
  server.on('connect', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    if (connectHandler && req.headers[':protocol'] !== undefined) {
      connectHandler(req);
      return;
    }
    res.statusCode = 405;
    res.end();
  });
  return {
    server,
    onExtendedConnect(handler) {
      connectHandler = handler;
    },
    destroySessions() {
      for (const s of sessions) s.destroy();
      sessions.clear();
      for (const c of sockets) c.destroy();
      sockets.clear();
    },
  };
}
