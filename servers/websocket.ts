/**
 * The lab's own WebSocket engine (protocol/) behind the server contract:
 * broadcasts go to every connection as text frames, a client's frames are
 * echoed back to it, text as text and binary as binary. On node:http2 (`websocket-h2`) the same
 * connections arrive as extended CONNECT streams (RFC 8441).
 */
import { H2_WEBSOCKET_SETTINGS, WebSocketConnection, WebSocketServer } from '../protocol/index.ts';
import type { HubMessage } from './hub.ts';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, upgradeClient } from './base.ts';
import { visibleTo } from './hub.ts';

export function createWebSocketServer(options?: ServerOptions): TransportServer {
  return buildServer('websocket', options, (ctx) => {
    const wss = new WebSocketServer({
      maxMessageBytes: ctx.options.maxMessageBytes,
      heartbeatIntervalMs: ctx.options.heartbeatIntervalMs,
      maxMissedPongs: ctx.options.maxMissedPongs,
      maxBufferedBytes: ctx.options.maxBufferedBytes,
      // Threshold 0, as the ws row: small messages are compressed too, so the rows show what that costs.
      perMessageDeflate: ctx.options.perMessageDeflate && { threshold: 0 },
    });
    // A broadcast is framed once and the same bytes written to every peer.
    let framed: HubMessage | undefined;
    let frame: Buffer = Buffer.alloc(0);
    const frameOf = (m: HubMessage): Buffer => {
      if (m !== framed) {
        framed = m;
        frame = WebSocketConnection.prepare(m.data);
      }
      return frame;
    };
    /** One accepted connection: a subscriber of the hub, its messages echoed back. */
    const serve = (conn: WebSocketConnection, client: string | undefined): void => {
      ctx.addSubscribers(1);
      const unsubscribe = ctx.hub.subscribe((m) => {
        if (!visibleTo(m, client)) return;
        // A compressed connection gets the message compressed in its own context, as ws does.
        if (conn.compressed) conn.send(m.data);
        else conn.sendPrepared(frameOf(m));
      });
      conn.on('message', (data: Buffer, isBinary: boolean) => {
        ctx.countIn();
        if (ctx.options.echo) conn.send(data, { binary: isBinary });
      });
      let subscribed = true;
      const leave = (): void => {
        if (!subscribed) return;
        subscribed = false;
        if (conn.dropReason !== undefined) ctx.countDrop(conn.dropReason);
        unsubscribe();
        ctx.addSubscribers(-1);
      };
      conn.on('error', () => {
        ctx.countError();
        // A slow reader leaves the hub at once; its socket stays until it read the close frame or the close timeout.
        if (conn.dropReason !== undefined) leave();
      });
      conn.once('close', leave);
    };
    const h2 = ctx.h2;
    if (h2) {
      // RFC 8441 §3: the server says it takes extended CONNECT before a client may send one.
      h2.server.updateSettings(H2_WEBSOCKET_SETTINGS);
      h2.onExtendedConnect((req) => {
        ctx.countRequest();
        let client: string | undefined;
        try {
          client = clientIdOf(Object.fromEntries(new URL(req.headers[':path'] ?? '/', 'http://x').searchParams), false);
        } catch (e) {
          ctx.countError();
          req.stream.respond({ ':status': 400, 'content-type': 'text/plain; charset=utf-8' });
          req.stream.end((e as Error).message);
          return;
        }
        wss.handleStream(req.stream, req.headers, (conn) => serve(conn, client));
      });
    } else {
      ctx.httpServer.on('upgrade', (req, socket, head) => {
        const client = upgradeClient(ctx, req, socket);
        if (client === null) return;
        wss.handleUpgrade(req, socket, head, (conn) => serve(conn, client));
      });
    }
    wss.on('rejected', () => ctx.countError());
    ctx.onClose(() => wss.close());
  });
}
