/**
 * The ceiling row: raw `node:net` behind the same server contract. A client
 * asks once for the connection with an HTTP Upgrade to `tcp` (so the shared
 * surface, the wire meter and the hub stay the same); from then on each
 * message is its text followed by a newline, nothing else. Whatever a
 * WebSocket server spends beyond this row is framing, masking and its own
 * bookkeeping, measured in the same run.
 */
import type { Socket } from 'node:net';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, upgradeClient } from './base.ts';
import { visibleTo } from './hub.ts';

const NL = 10;

export function createTcpServer(options?: ServerOptions): TransportServer {
  return buildServer('tcp', options, (ctx) => {
    const open = new Set<Socket>();
    ctx.httpServer.on('upgrade', (req, duplex, head) => {
      const client = upgradeClient(ctx, req, duplex);
      if (client === null) return;
      const socket = duplex as Socket;
      if ((req.headers['upgrade'] ?? '').toLowerCase() !== 'tcp') {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.setNoDelay(true);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n');
      open.add(socket);
      ctx.addSubscribers(1);
      // A peer that does not read must not grow the server without bound (the WebSocket rows' rule).
      const write = (text: string | Buffer) => {
        if (socket.writableLength > ctx.options.maxBufferedBytes) {
          ctx.countError();
          socket.destroy();
          return;
        }
        socket.write(text);
      };
      const unsubscribe = ctx.hub.subscribe((m) => {
        if (visibleTo(m, client)) write(`${m.data}\n`);
      });
      let rest: Buffer = head.length ? head : Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
        let start = 0;
        let nl = buf.indexOf(NL, start);
        // Every complete line is one message; echoes of one read leave in one write.
        let echoEnd = -1;
        while (nl >= 0) {
          ctx.countIn();
          echoEnd = nl + 1;
          start = nl + 1;
          nl = buf.indexOf(NL, start);
        }
        if (ctx.options.echo && echoEnd > 0) write(buf.subarray(0, echoEnd));
        rest = start < buf.length ? Buffer.from(buf.subarray(start)) : Buffer.alloc(0);
        if (rest.length > ctx.options.maxMessageBytes) {
          ctx.countError();
          socket.destroy();
        }
      };
      if (rest.length) {
        const first = rest;
        rest = Buffer.alloc(0);
        onData(first);
      }
      socket.on('data', onData);
      socket.on('error', () => ctx.countError());
      socket.once('close', () => {
        open.delete(socket);
        unsubscribe();
        ctx.addSubscribers(-1);
      });
    });
    ctx.onClose(() => {
      for (const s of open) s.destroy();
    });
  });
}
