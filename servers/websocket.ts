/**
 * The lab's own WebSocket engine (protocol/) behind the server contract:
 * broadcasts go to every connection as text frames, a client's frames are
 * echoed back to it, text as text and binary as binary. On node:http2 (`websocket-h2`) the same
 * connections arrive as extended CONNECT streams (RFC 8441).
 */
import { H2_WEBSOCKET_SETTINGS, WebSocketConnection, WebSocketServer } from '../protocol/index.ts';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, type ServerContext } from './base.ts';
import { type HubMessage, perBroadcast, visibleTo } from './hub.ts';
import { onResumableUpgrade, resumeEcho, resumeFrames, resumeMessage, resumeWants } from './resume.ts';

/** The engine's row: the lab's own WebSocket server on HTTP/1.1 upgrades, or on extended CONNECT for `websocket-h2`. */
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
    const frameOf = perBroadcast((m) => WebSocketConnection.prepare(m.data));
    const serve = (conn: WebSocketConnection, client: string | undefined, cursor?: number) => serveConnection(ctx, conn, client, cursor, frameOf);
    // Once the server is going, a client already coming back is refused, as a closed listener would.
    let going = false;
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
      onResumableUpgrade(
        ctx,
        () => going,
        (req, socket, head, client, cursor) => wss.handleUpgrade(req, socket, head, (conn) => serve(conn, client, cursor)),
      );
    }
    wss.on('rejected', () => ctx.countError());
    ctx.onClose(() => {
      going = true;
      return wss.close();
    });
  });
}

/** One accepted connection: a subscriber of the hub, its messages echoed back; with a cursor, a resume connection (servers/resume.ts). */
function serveConnection(
  ctx: ServerContext,
  conn: WebSocketConnection,
  client: string | undefined,
  cursor: number | undefined,
  frameOf: (m: HubMessage) => Buffer,
): void {
  ctx.addSubscribers(1);
  // A client that came back with a cursor gets what it missed, then every message numbered.
  const resume = cursor === undefined ? undefined : resumeFrames(ctx.hub, cursor, client, ctx.options.maxBatchBytes);
  for (const f of resume?.frames ?? []) conn.send(f);
  const unsubscribe = ctx.hub.subscribe((m) => {
    if (resume) {
      if (resumeWants(m, resume.seen, client)) conn.send(resumeMessage(m));
      return;
    }
    if (!visibleTo(m, client)) return;
    // A compressed connection gets the message compressed in its own context, as ws does.
    if (conn.compressed) conn.send(m.data);
    else conn.sendPrepared(frameOf(m));
  });
  conn.on('message', (data: Buffer, isBinary: boolean) => {
    ctx.countIn();
    if (!ctx.options.echo) return;
    if (resume && !isBinary) conn.send(resumeEcho(data));
    else conn.send(data, { binary: isBinary });
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
}
