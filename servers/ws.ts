/**
 * The reference WebSocket row: the `ws` package on the same HTTP server and
 * contract as the lab's own engine. Broadcasts go to every connection; a
 * frame from a client is echoed back to it, text as text, binary as binary.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, upgradeClient } from './base.ts';
import { visibleTo } from './hub.ts';

export function createWsServer(options?: ServerOptions): TransportServer {
  return buildServer('ws', options, (ctx) => {
    const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.options.maxMessageBytes, perMessageDeflate: false });
    const alive = new Map<WebSocket, number>();
    ctx.httpServer.on('upgrade', (req, socket, head) => {
      const client = upgradeClient(ctx, req, socket);
      if (client === null) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ctx.addSubscribers(1);
        alive.set(ws, 0);
        const unsubscribe = ctx.hub.subscribe((m) => {
          if (visibleTo(m, client)) ws.send(m.data);
        });
        ws.on('message', (data, isBinary) => {
          ctx.countIn();
          if (ctx.options.echo) ws.send(data, { binary: isBinary });
        });
        ws.on('pong', () => alive.set(ws, 0));
        ws.on('error', () => ctx.countError());
        ws.on('close', () => {
          unsubscribe();
          alive.delete(ws);
          ctx.addSubscribers(-1);
        });
      });
    });
    if (ctx.options.heartbeatIntervalMs > 0) {
      const timer = setInterval(() => {
        for (const [ws, missed] of alive) {
          if (missed >= ctx.options.maxMissedPongs) {
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
    ctx.onClose(() => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    });
  });
}
