/** WebSocket load client on the lab's own engine (its client side: masking, handshake checks). */
import { connect, type WebSocketConnection } from '../protocol/index.ts';
import type { ClientOptions, TransportClient } from './contract.ts';
import { Comeback } from './reconnect.ts';
import { profileHeaders } from './headers.ts';

/** Bytes handed to `sendNow` are text (UTF-8), not a binary message. */
const TEXT = { binary: false } as const;

function endGathering(client: EngineClient): void {
  client.releaseGathered();
}

export class EngineClient implements TransportClient {
  private conn: WebSocketConnection | undefined;
  /** Set by stop(): the close that follows is ours, not a failure. */
  private stopping = false;
  requests = 0;
  readonly emptyResponses = 0;
  /** Frames sent with `gather` are held until the end of this tick (see `endGathering`). */
  private gathering = false;

  constructor(protected readonly o: ClientOptions) {
    this.back = new Comeback(o);
  }

  /** Its way back after a connection ended unasked: the reconnect policy, and the cursor to resume from. */
  private readonly back: Comeback;

  /** Sends the frames gathered this tick, in one write. */
  releaseGathered(): void {
    this.gathering = false;
    this.conn?.uncork();
  }

  async start(): Promise<void> {
    this.requests++;
    const conn = await this.open(this.back.url());
    // Stopped while a reconnect was on its way: this connection is not wanted.
    if (this.stopping) {
      conn.terminate();
      return;
    }
    this.conn = conn;
    const bytes = this.o.onMessageBytes;
    if (this.back.resume)
      conn.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) this.o.onMessage(data.toString('latin1'), process.hrtime.bigint());
        else this.back.deliver(data.toString('utf8'), process.hrtime.bigint());
      });
    else if (bytes !== undefined) conn.on('message', (data: Buffer) => bytes(data, process.hrtime.bigint()));
    else
      conn.on('message', (data: Buffer, isBinary: boolean) => {
        const now = process.hrtime.bigint();
        this.o.onMessage(data.toString(isBinary ? 'latin1' : 'utf8'), now);
      });
    conn.on('error', (e: Error) => this.o.onError?.(e));
    // A connection that ends while the load still runs loses every message after it: say so and
    // why (the close code and reason, 1006 when TCP just went), so the loss is not silent.
    conn.on('close', (code: number, reason: string) => {
      if (this.stopping) return;
      this.o.onError?.(new Error(`WebSocket closed by the server or the network: ${code}${reason ? ` ${reason}` : ''}`));
      void this.back.comeBack(() => this.start());
    });
    this.o.onConnected?.();
  }

  /** Opens the connection (over HTTP/1.1; the HTTP/2 client opens it on its page's session). */
  protected open(url: string): Promise<WebSocketConnection> {
    return connect(url, {
      ...(this.o.ca !== undefined && { tls: { ca: this.o.ca } }),
      perMessageDeflate: this.o.perMessageDeflate === true && { threshold: 0 },
      headers: profileHeaders(this.o.headers, 'webSocket', new URL(this.o.baseUrl).origin),
    });
  }

  async send(data: string): Promise<void> {
    this.sendNow(data);
  }

  get bufferedBytes(): number {
    return this.conn?.bufferedAmount ?? 0;
  }

  sendNow(data: string | Uint8Array, gather = false): void {
    const c = this.conn;
    if (c?.readyState !== 1) throw new Error('WebSocket is not open');
    if (gather && !this.gathering) {
      this.gathering = true;
      c.cork();
      process.nextTick(endGathering, this);
    }
    // Bytes go as the text frame their string would make: the wire sees the same frame.
    if (typeof data === 'string') c.send(data);
    else c.send(data, TEXT);
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.back.stop();
    const c = this.conn;
    if (!c || c.readyState === 3) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        c.terminate();
        resolve();
      }, 1000);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      c.close(1000);
    });
  }
}
