/** WebSocket load client on the lab's own engine (its client side: masking, handshake checks). */
import { connect, type WebSocketConnection } from '../protocol/index.ts';
import { type ClientOptions, type TransportClient, webSocketUrl } from './contract.ts';
import { profileHeaders } from './headers.ts';

export class EngineClient implements TransportClient {
  private conn: WebSocketConnection | undefined;
  /** Set by stop(): the close that follows is ours, not a failure. */
  private stopping = false;
  requests = 0;
  readonly emptyResponses = 0;

  constructor(protected readonly o: ClientOptions) {}

  async start(): Promise<void> {
    this.requests++;
    const url = webSocketUrl(this.o.baseUrl, this.o.clientId);
    const conn = await this.open(url);
    this.conn = conn;
    conn.on('message', (data: Buffer, isBinary: boolean) => {
      const now = process.hrtime.bigint();
      this.o.onMessage(data.toString(isBinary ? 'latin1' : 'utf8'), now);
    });
    conn.on('error', (e: Error) => this.o.onError?.(e));
    // A connection that ends while the load still runs loses every message after it: say so and
    // why (the close code and reason, 1006 when TCP just went), so the loss is not silent.
    conn.on('close', (code: number, reason: string) => {
      if (!this.stopping) this.o.onError?.(new Error(`WebSocket closed by the server or the network: ${code}${reason ? ` ${reason}` : ''}`));
    });
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
    const c = this.conn;
    if (c?.readyState !== 1) throw new Error('WebSocket is not open');
    c.send(data);
  }

  stop(): Promise<void> {
    this.stopping = true;
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
