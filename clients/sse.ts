/**
 * SSE client on undici's streaming body. On a dropped stream it reconnects
 * after the server's `retry:` time with `Last-Event-ID`, so nothing published
 * meanwhile is lost (the server replays from its history).
 */
import { StringDecoder } from 'node:string_decoder';
import type { ClientOptions } from './contract.ts';
import { profileHeaders } from './headers.ts';
import { HttpClientBase, sleep } from './http-base.ts';
import { SseParser } from './sse-parser.ts';

export class SseClient extends HttpClientBase {
  private readonly parser: SseParser;
  /** Reconnections made after the first connect. */
  reconnects = 0;
  protected current: AbortController | undefined;
  /** What a page's EventSource sends (the profile's; Accept and Cache-Control in both). */
  private readonly streamHeaders: Record<string, string>;

  /** The stream holds one connection; messages upward go on a second. */
  constructor(o: ClientOptions) {
    super(o, 2);
    this.streamHeaders = profileHeaders(o.headers, 'eventSource', new URL(o.baseUrl).origin);
    this.parser = new SseParser((e) => {
      if (e.type === 'message') o.onMessage(e.data, process.hrtime.bigint());
      else if (e.type === 'gap') {
        const g = JSON.parse(e.data) as { from: number; to: number };
        o.onGap?.(g.from, g.to);
      }
    });
  }

  /** The Last-Event-ID the next reconnect will send. */
  get lastEventId(): string {
    return this.parser.lastEventId;
  }

  async start(): Promise<void> {
    const body = await this.open();
    this.loop = this.run(body);
  }

  /** Opens the stream; resolves when the response headers have arrived. */
  protected async open(): Promise<AsyncIterable<Buffer>> {
    this.http.requests++;
    this.current = new AbortController();
    const signal = AbortSignal.any([this.stopper.signal, this.current.signal]);
    const headers: Record<string, string> = { ...this.streamHeaders };
    if (this.parser.lastEventId) headers['last-event-id'] = this.parser.lastEventId;
    const r = await this.http.dispatcher.request({
      origin: this.http.origin,
      path: `${this.http.prefix}/events?client=${encodeURIComponent(this.o.clientId)}`,
      method: 'GET',
      headers,
      signal,
    });
    if (r.statusCode !== 200) {
      const text = await r.body.text();
      throw new Error(`GET /events answered ${r.statusCode}: ${text}`);
    }
    return r.body;
  }

  private async run(body: AsyncIterable<Buffer>): Promise<void> {
    for (;;) {
      const decoder = new StringDecoder('utf8');
      try {
        for await (const chunk of body) this.parser.push(decoder.write(chunk));
      } catch (e) {
        if (this.stopper.signal.aborted) return;
        this.o.onError?.(e as Error);
      }
      if (this.stopper.signal.aborted) return;
      // The stream ended: wait the announced reconnection time, then resume from the last id.
      for (;;) {
        await sleep(this.parser.retryMs ?? 2000, this.stopper.signal);
        if (this.stopper.signal.aborted) return;
        try {
          this.reconnects++;
          body = await this.open();
          break;
        } catch (e) {
          if (this.stopper.signal.aborted) return;
          this.o.onError?.(e as Error);
        }
      }
    }
  }

  /** Drops the current stream as a network failure would; the client reconnects by itself. */
  dropConnection(): void {
    this.current?.abort();
  }
}
