/** WebSocket client on the `ws` package, for the `ws` reference row. */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { ClientOptions, TransportClient } from './contract.ts';
import { Comeback } from './reconnect.ts';
import { profileHeaders } from './headers.ts';
import { HANDSHAKE_TIMEOUT_MS } from '../protocol/index.ts';

function endGathering(client: WsClient): void {
  client.releaseGathered();
}

export class WsClient implements TransportClient {
  private socket: WebSocket | undefined;
  /** The socket corked for the frames gathered this tick (see `sendNow`), until the tick ends. */
  private gathering: Duplex | false = false;

  /** Sends the frames gathered this tick, in one write. */
  releaseGathered(): void {
    const socket = this.gathering;
    this.gathering = false;
    if (socket) socket.uncork();
  }
  /** Set by stop(): the close that follows is ours, not a failure. */
  private stopping = false;
  requests = 0;
  readonly emptyResponses = 0;

  /** Its way back after a connection ended unasked: the reconnect policy, and the cursor to resume from. */
  private readonly back: Comeback;

  constructor(private readonly o: ClientOptions) {
    this.back = new Comeback(o);
  }

  start(): Promise<void> {
    this.requests++;
    const ws = new WebSocket(this.back.url(), {
      // The engine's client gives up on a handshake after this long; ws waits forever unless told.
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...(this.o.ca !== undefined && { ca: this.o.ca }),
      perMessageDeflate: this.o.perMessageDeflate === true && { threshold: 0 },
      headers: profileHeaders(this.o.headers, 'webSocket', new URL(this.o.baseUrl).origin),
    });
    this.socket = ws;
    const bytes = this.o.onMessageBytes;
    if (this.back.resume)
      ws.on('message', (data, isBinary) => {
        if (isBinary) this.o.onMessage((data as Buffer).toString('latin1'), process.hrtime.bigint());
        else this.back.deliver(data.toString(), process.hrtime.bigint());
      });
    // Without fragments a message is one Buffer (binaryType 'nodebuffer'); else it is made one.
    else if (bytes !== undefined) ws.on('message', (data) => bytes(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), process.hrtime.bigint()));
    else
      ws.on('message', (data, isBinary) => {
        const now = process.hrtime.bigint();
        this.o.onMessage(isBinary ? (data as Buffer).toString('latin1') : data.toString(), now);
      });
    ws.on('error', (e) => this.o.onError?.(e));
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        // Stopped while a reconnect was on its way: this connection is not wanted.
        if (this.stopping) {
          ws.terminate();
          return resolve();
        }
        // As the engine's client: a connection that ends while the load runs says so, with its close code.
        ws.on('close', (code, reason) => {
          if (this.stopping) return;
          this.o.onError?.(new Error(`WebSocket closed by the server or the network: ${code}${reason.length ? ` ${reason.toString()}` : ''}`));
          void this.back.comeBack(() => this.start());
        });
        this.o.onConnected?.();
        resolve();
      });
      ws.once('error', reject);
    });
  }

  send(data: string): Promise<void> {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('WebSocket is not open'));
    return new Promise((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())));
  }

  get bufferedBytes(): number {
    return this.socket?.bufferedAmount ?? 0;
  }

  sendNow(data: string | Uint8Array, gather = false): void {
    const ws = this.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('WebSocket is not open');
    // ws corks its socket around each frame; a cork held over the tick keeps its frames for one write.
    if (gather && !this.gathering) {
      const socket = (ws as unknown as { _socket?: Duplex })._socket;
      if (socket) {
        this.gathering = socket;
        socket.cork();
        process.nextTick(endGathering, this);
      }
    }
    // No callback: a write that fails later surfaces as the connection's 'error' and 'close', and its echo as lost.
    if (typeof data === 'string') ws.send(data);
    // ws keeps the bytes while it compresses: then they must be its own copy.
    else ws.send(this.o.perMessageDeflate === true ? Buffer.from(data) : data, { binary: false });
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.back.stop();
    const ws = this.socket;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000);
    });
  }
}
