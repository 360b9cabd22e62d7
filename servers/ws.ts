/**
 * The reference WebSocket row: the `ws` package on the same HTTP server and
 * contract as the lab's own engine. Broadcasts go to every connection; a
 * frame from a client is echoed back to it, text as text, binary as binary.
 * The same caps apply as to the engine, so the two rows compare like with
 * like: messages up to maxMessageBytes, and a peer whose unsent output would
 * pass maxBufferedBytes is dropped (the engine's rule: one message larger than
 * the cap may still go out on an empty queue).
 */
import type { Socket } from 'node:net';
import * as wsPackage from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, type ServerContext } from './base.ts';
import { perBroadcast, visibleTo, type HubMessage } from './hub.ts';
import { onResumableUpgrade, resumeEcho, resumeFrames, resumeMessage, resumeWants } from './resume.ts';

/** ws's own frame encoder (public in ws, absent from its type declarations): a frame as a header and its payload. */
const Sender = (
  wsPackage as unknown as { Sender: { frame(data: Buffer, o: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] } }
).Sender;

/** The reference row: every broadcast goes through `ws.send`, framed again for each peer, as ws's API has its users do. */
export function createWsServer(options?: ServerOptions): TransportServer {
  return wsServer('ws', options, false);
}

/**
 * The `ws+preframed` row: each broadcast framed once with ws's own `Sender.frame` and the same
 * bytes written to every peer's socket, as the engine's server does, so the gap between the
 * engine and `ws` splits into what the API makes its users do and what the engine does.
 * Written below ws's sender queue, which holds nothing here: permessage-deflate is off on this
 * row, and a socket that is closing gets no more frames.
 */
export function createPreframedWsServer(options?: ServerOptions): TransportServer {
  return wsServer('ws+preframed', options, true);
}

function wsServer(name: string, options: ServerOptions | undefined, preframed: boolean): TransportServer {
  return buildServer(name, options, (ctx) => {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.options.maxMessageBytes,
      perMessageDeflate: ctx.options.perMessageDeflate && { threshold: 0 },
    });
    const alive = new Map<WebSocket, number>();
    // A broadcast's size is measured once for every peer's cap check.
    const sizeOf = perBroadcast((m) => Buffer.byteLength(m.data));
    // RFC 6455 §5.2: one unmasked text frame (FIN, opcode 1) from the server, made once per broadcast.
    const frameOf = perBroadcast((m) => Buffer.concat(Sender.frame(Buffer.from(m.data), { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false })));
    const peer: Peer = { alive, sizeOf, frameOf: preframed && !ctx.options.perMessageDeflate ? frameOf : undefined };
    let going = false;
    onResumableUpgrade(
      ctx,
      () => going,
      (req, socket, head, client, cursor) => wss.handleUpgrade(req, socket, head, (ws) => servePeer(ctx, ws, client, cursor, peer)),
    );
    if (ctx.options.heartbeatIntervalMs > 0) pingPeers(ctx, alive);
    ctx.onClose(async () => {
      going = true;
      await closePeers(wss);
    });
  });
}

/** What every peer of one server shares: the liveness table and the per-broadcast size and frame. */
interface Peer {
  /** Missed pongs per open peer. */
  alive: Map<WebSocket, number>;
  sizeOf: (m: HubMessage) => number;
  /** Set on the pre-framed row (deflate off): a broadcast's frame, written below ws's sender. */
  frameOf: ((m: HubMessage) => Buffer) | undefined;
}

/** Serves one upgraded peer: its resume replay, broadcasts, echoes, pongs and its end. */
function servePeer(ctx: ServerContext, ws: WebSocket, client: string | undefined, cursor: number | undefined, peer: Peer): void {
  const { alive } = peer;
  ctx.addSubscribers(1);
  alive.set(ws, 0);
  // A peer that does not read must not grow the server without bound: past the cap it is
  // counted as an error and its socket destroyed (a close frame would queue behind the same
  // unread bytes), as the engine does with close code 1008.
  const dropped = (size: number): boolean => {
    const queued = ws.bufferedAmount;
    if (queued === 0 || queued + size <= ctx.options.maxBufferedBytes) return false;
    if (ws.readyState === ws.OPEN) {
      ctx.countError();
      ctx.countDrop('slow-reader');
      ws.close(1008, 'send buffer limit exceeded');
      ws.terminate();
    }
    return true;
  };
  const send = (data: string | Buffer, size: number, binary: boolean) => {
    if (!dropped(size)) ws.send(data, { binary });
  };
  // Below the sender: only while open (no data frame may follow a close frame, RFC 6455 §5.5.1).
  const writeFrame = (bytes: Buffer) => {
    if (!dropped(bytes.length) && ws.readyState === ws.OPEN) (ws as unknown as { _socket: Socket })._socket.write(bytes);
  };
  // A client that came back with a cursor gets what it missed, then every message numbered.
  const resume = cursor === undefined ? undefined : resumeFrames(ctx.hub, cursor, client, ctx.options.maxBatchBytes);
  for (const f of resume?.frames ?? []) send(f, Buffer.byteLength(f), false);
  const unsubscribe = ctx.hub.subscribe((m) => {
    if (resume) {
      // A resuming client's messages carry their numbers: framed for it alone.
      if (resumeWants(m, resume.seen, client)) {
        const f = resumeMessage(m);
        send(f, Buffer.byteLength(f), false);
      }
    } else if (visibleTo(m, client)) {
      if (peer.frameOf) writeFrame(peer.frameOf(m));
      else send(m.data, peer.sizeOf(m), false);
    }
  });
  ws.on('message', (data, isBinary) => {
    ctx.countIn();
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!ctx.options.echo) return;
    if (resume && !isBinary) {
      const f = resumeEcho(buf);
      send(f, Buffer.byteLength(f), false);
    } else send(buf, buf.length, isBinary);
  });
  ws.on('pong', () => alive.set(ws, 0));
  ws.on('error', () => ctx.countError());
  ws.on('close', () => {
    unsubscribe();
    alive.delete(ws);
    ctx.addSubscribers(-1);
  });
}

/** Pings every peer each interval and cuts one that missed `maxMissedPongs` pongs in a row. */
function pingPeers(ctx: ServerContext, alive: Map<WebSocket, number>): void {
  const timer = setInterval(() => {
    for (const [ws, missed] of alive) {
      if (missed >= ctx.options.maxMissedPongs) {
        if (ws.readyState === ws.OPEN) ctx.countDrop('missed-pongs');
        ws.terminate();
        continue;
      }
      alive.set(ws, missed + 1);
      ws.ping();
    }
  }, ctx.options.heartbeatIntervalMs);
  timer.unref();
  ctx.onClose(() => clearInterval(timer));
}

/**
 * RFC 6455 §7.4.1: 1001 "going away", as the engine closes (a server going down); a peer that
 * does not answer the close within a second is cut.
 */
async function closePeers(wss: WebSocketServer): Promise<void> {
  await Promise.all(
    [...wss.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          const cut = setTimeout(() => ws.terminate(), 1000);
          ws.once('close', () => {
            clearTimeout(cut);
            resolve();
          });
          ws.close(1001, 'server shutting down');
        }),
    ),
  );
  wss.close();
}
