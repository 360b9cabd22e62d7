/**
 * socket.io as two peer rows: its WebSocket transport alone, and its HTTP long-polling
 * transport alone (Engine.IO). Both sit on the lab's node:http server, so the lab's wire
 * meter counts their socket bytes like any other row's, and `/publish`, `/send` and
 * `/stats` are the shared ones. A publish is one `io.emit` to every connected socket
 * (socket.io encodes the packet once for all), as an application would broadcast; a
 * message from a client is emitted back to that socket alone.
 */
import { Server, type Socket } from 'socket.io';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, type ServerContext } from './base.ts';

/** The event name both directions use: one event, so a message costs what socket.io adds to it. */
export const SOCKET_IO_EVENT = 'm';

type EngineTransport = 'websocket' | 'polling';

function socketIoServer(name: string, only: EngineTransport, options: ServerOptions | undefined): TransportServer {
  let io: Server | undefined;
  let context: ServerContext | undefined;
  const server = buildServer(name, options, (ctx) => {
    context = ctx;
    const sockets = new Map<string, Socket>();
    io = new Server({
      transports: [only],
      allowUpgrades: false,
      serveClient: false,
      maxHttpBufferSize: ctx.options.maxMessageBytes,
    });
    const all = io;
    ctx.setAudience(() => all.engine.clientsCount);
    ctx.hub.subscribe((m) => {
      if (m.to === undefined) all.emit(SOCKET_IO_EVENT, m.data);
      else sockets.get(m.to)?.emit(SOCKET_IO_EVENT, m.data);
    });
    all.on('connection', (socket) => {
      let client: string | undefined;
      try {
        client = clientIdOf(socket.handshake.query, false);
      } catch {
        ctx.countError();
        socket.disconnect(true);
        return;
      }
      ctx.addSubscribers(1);
      if (client !== undefined) sockets.set(client, socket);
      socket.on(SOCKET_IO_EVENT, (data: unknown) => {
        ctx.countIn();
        if (ctx.options.echo && typeof data === 'string') socket.emit(SOCKET_IO_EVENT, data);
      });
      socket.on('error', () => ctx.countError());
      socket.on('disconnect', () => {
        if (client !== undefined && sockets.get(client) === socket) sockets.delete(client);
        ctx.addSubscribers(-1);
      });
    });
    ctx.onClose(() => new Promise<void>((resolve) => all.close(() => resolve())));
  });
  // Attached after buildServer mounted its own request listeners: Engine.IO takes its path and
  // hands every other request to them, so /publish, /send and /stats keep working.
  io!.attach(server.httpServer);
  // Engine.IO answers its requests itself: each handshake, poll and upgrade counts as a request here.
  io!.engine.on('headers', () => context!.countRequest());
  return server;
}

/** socket.io with its WebSocket transport only (no polling handshake first). */
export function createSocketIoWsServer(options?: ServerOptions): TransportServer {
  return socketIoServer('socket.io-ws', 'websocket', options);
}

/** socket.io with its HTTP long-polling transport only (Engine.IO polling, no upgrade). */
export function createSocketIoPollingServer(options?: ServerOptions): TransportServer {
  return socketIoServer('socket.io-polling', 'polling', options);
}
