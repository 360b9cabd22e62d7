/**
 * socket.io-client as the load client of the socket.io rows, pinned to one Engine.IO
 * transport (no upgrade), so each row measures the transport it is named for.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientOptions, TransportClient } from './contract.ts';
import { profileHeaders } from './headers.ts';

/** The socket.io event of the lab's messages (servers/socket-io.ts uses the same). */
const EVENT = 'm';

/**
 * The request headers less Accept-Encoding: Engine.IO gzips a poll reply past 1 KiB for a client
 * that offers it, and socket.io-client's XMLHttpRequest under Node does not decode it (the
 * message is then lost), so this load client offers no compression, as a non-browser client.
 */
function withoutCompression(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'accept-encoding'));
}

abstract class SocketIoClient implements TransportClient {
  private socket: Socket | undefined;
  /** The handshake, then (polling) every GET and POST Engine.IO makes. */
  requests = 0;
  readonly emptyResponses = 0;

  constructor(
    private readonly o: ClientOptions,
    private readonly only: 'websocket' | 'polling',
  ) {}

  start(): Promise<void> {
    const origin = new URL(this.o.baseUrl).origin;
    const socket = io(this.o.baseUrl, {
      transports: [this.only],
      upgrade: false,
      forceNew: true,
      query: { client: this.o.clientId },
      extraHeaders: withoutCompression(profileHeaders(this.o.headers, this.only === 'websocket' ? 'webSocket' : 'fetch', origin)),
    });
    this.socket = socket;
    this.requests++;
    socket.io.on('open', () => {
      const t = socket.io.engine.transport;
      // Polling: each long poll and each POST of queued packets is one more request.
      t.on('poll', () => this.requests++);
      t.on('drain', () => this.requests++);
    });
    socket.on(EVENT, (data: unknown) => {
      const now = process.hrtime.bigint();
      if (typeof data === 'string') this.o.onMessage(data, now);
    });
    socket.on('connect_error', (e) => this.o.onError?.(e));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => {
        if (!socket.active) reject(e);
      });
    });
  }

  send(data: string): Promise<void> {
    const s = this.socket;
    if (!s?.connected) return Promise.reject(new Error('socket.io socket is not connected'));
    s.emit(EVENT, data);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.socket?.disconnect();
    return Promise.resolve();
  }
}

/** socket.io-client on the WebSocket transport only. */
export class SocketIoWsClient extends SocketIoClient {
  constructor(o: ClientOptions) {
    super(o, 'websocket');
  }
}

/** socket.io-client on the HTTP long-polling transport only. */
export class SocketIoPollingClient extends SocketIoClient {
  constructor(o: ClientOptions) {
    super(o, 'polling');
  }
}
