/**
 * The bare echo servers of `npm run bench:fixed -- --bare`, one per child process: the engine or
 * `ws` with nothing of the lab around them, or raw `node:net` as the ceiling. Started as
 * `node --import tsx bench/bare-echo.ts KIND`; prints its port on stdout once it listens.
 * Loopback only; the harness ends it with SIGTERM.
 */
import { createServer } from 'node:http';
import { createServer as createNetServer, Socket as NetSocket, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../protocol/server.ts';
import type { WebSocketConnection } from '../protocol/connection.ts';

/** The bare servers by name: what each one measures is in the harness's help and the README. */
export const BARE_SERVERS = ['engine', 'engine-stream', 'ws', 'net', 'net-onread', 'net-direct', 'net-onread-direct'] as const;

/** A bare server's name. */
export type BareServer = (typeof BARE_SERVERS)[number];

/** Whether a bare server speaks raw TCP (its clients are raw sockets, its echo the bytes as they come). */
export const isRawTcp = (kind: BareServer): boolean => kind.startsWith('net');

/** Starts the bare echo server `kind` on a free loopback port and prints the port. */
function serve(kind: BareServer): void {
  // Exit (not die) on SIGTERM, so a `--cpu-prof` run of this child writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  const listening = (server: { address(): AddressInfo | string | null }) => () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  if (kind === 'net') {
    // The ceiling: what one read and one write per message cost in Node, with no framing at all.
    const server = createNetServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', (d: Buffer) => socket.write(d));
    });
    server.listen(0, '127.0.0.1', listening(server));
    return;
  }
  if (isRawTcp(kind)) {
    const server = serveBelowStream(kind);
    server.listen(0, '127.0.0.1', listening(server));
    return;
  }
  const http = createServer();
  if (kind === 'ws') {
    const wss = new WsServer({ server: http, perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  } else {
    const wss = new WebSocketServer({ server: http, socketIo: kind === 'engine-stream' ? 'stream' : 'handle' });
    wss.on('connection', (c: WebSocketConnection) => c.on('message', (d: Buffer, isBinary: boolean) => c.send(d, { binary: isBinary })));
  }
  http.listen(0, '127.0.0.1', listening(http));
}

/**
 * The raw echo below Node's stream layer, to see what that layer costs per message:
 * - `net-onread`: the accepted socket's handle re-wrapped in a `net.Socket` with `onread`, so each
 *   read lands in one reused buffer and calls back, without a Buffer, a Readable push or a
 *   'data' event; writes still go through `socket.write`;
 * - `net-direct`: 'data' events as `net`, but each write goes straight to the handle
 *   (`writeBuffer` with a WriteWrap), without Writable.write and its after-write tick;
 * - `net-onread-direct`: both.
 * Harness only: no backpressure, a write the kernel did not take at once keeps its buffer.
 */
function serveBelowStream(kind: BareServer): ReturnType<typeof createNetServer> {
  const onread = kind.includes('onread');
  const direct = kind.includes('direct');
  // process.binding is deprecated, but it is the only way user code reaches WriteWrap.
  const sw = (process as unknown as { binding(name: string): Record<string, unknown> }).binding('stream_wrap') as {
    WriteWrap: new () => Record<string, unknown>;
    streamBaseState: Int32Array;
    kLastWriteWasAsync: number;
  };
  type Handle = { writeBuffer(req: object, b: Uint8Array): number };
  // A write that completes synchronously never binds its request object, so one spare serves them all.
  let spare = new sw.WriteWrap();
  const onComplete = (): void => {};
  const writeDirect = (handle: Handle, b: Buffer): void => {
    const req = spare;
    req.handle = handle;
    req.oncomplete = onComplete;
    const err = handle.writeBuffer(req, b);
    if (err !== 0) throw new Error(`write failed: ${err}`);
    if (sw.streamBaseState[sw.kLastWriteWasAsync] !== 0) {
      req.buffer = b;
      spare = new sw.WriteWrap();
    }
  };
  return createNetServer({ pauseOnConnect: onread }, (accepted) => {
    let socket: Socket = accepted;
    if (onread) {
      const internal = accepted as unknown as { _handle: unknown };
      const handle = internal._handle;
      internal._handle = null;
      const buffer = Buffer.allocUnsafe(64 * 1024);
      socket = new NetSocket({
        handle,
        onread: {
          buffer,
          callback: (n: number): boolean => {
            // The read buffer is reused: what leaves must be a copy.
            const out = Buffer.allocUnsafe(n);
            buffer.copy(out, 0, 0, n);
            if (direct) writeDirect((socket as unknown as { _handle: Handle })._handle, out);
            else socket.write(out);
            // false would pause the socket; reading goes on.
            return true;
          },
        },
      } as ConstructorParameters<typeof NetSocket>[0]);
      socket.once('close', () => accepted.destroy());
    } else {
      socket.on('data', (d: Buffer) => writeDirect((socket as unknown as { _handle: Handle })._handle, d));
    }
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
  });
}

// Run as a program (the harness's child), not when the harness imports the names above.
if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const kind = process.argv[2] as BareServer;
  if (!BARE_SERVERS.includes(kind)) {
    process.stderr.write(`bare-echo: unknown server "${kind}"; one of ${BARE_SERVERS.join(', ')}\n`);
    process.exit(2);
  }
  serve(kind);
}
