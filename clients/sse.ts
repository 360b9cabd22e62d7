/**
 * SSE client on undici, its body read below the body stream (sse-stream.ts). On a dropped
 * stream it reconnects after the server's `retry:` time with `Last-Event-ID`, so nothing
 * published meanwhile is lost (the server replays from its history).
 */
import type { Readable } from 'node:stream';
import type { ClientOptions } from './contract.ts';
import { profileHeaders } from './headers.ts';
import { HttpClientBase, sleep } from './http-base.ts';
import { SseParser } from './sse-parser.ts';
import { type OpenStream, openStream } from './sse-stream.ts';
import { eventSourceDelayMs } from './reconnect.ts';

export class SseClient extends HttpClientBase {
  private readonly parser: SseParser;
  /** When the read being parsed arrived: every event in one read arrived together. */
  private readAt = 0n;
  /** Reconnections made after the first connect. */
  reconnects = 0;
  protected current: AbortController | undefined;
  /** What a page's EventSource sends (the profile's; Accept and Cache-Control in both). */
  private readonly streamHeaders: Record<string, string>;

  /** The stream holds one connection; messages upward go on a second. */
  constructor(o: ClientOptions) {
    super(o, 2);
    this.streamHeaders = profileHeaders(o.headers, 'eventSource', new URL(o.baseUrl).origin);
    const bytes = o.onMessageBytes;
    this.parser = new SseParser({
      onMessage: (data) => {
        if (bytes !== undefined) bytes(data, this.readAt);
        else o.onMessage(data.toString('utf8'), this.readAt);
      },
      onEvent: (type, data) => {
        if (type !== 'gap') return;
        const g = JSON.parse(data) as { from: number; to: number };
        o.onGap?.(g.from, g.to);
      },
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
  protected async open(): Promise<OpenStream> {
    this.http.requests++;
    this.current = new AbortController();
    const signal = AbortSignal.any([this.stopper.signal, this.current.signal]);
    const headers: Record<string, string> = { ...this.streamHeaders };
    if (this.parser.lastEventId) headers['last-event-id'] = this.parser.lastEventId;
    return openStream(
      this.http.dispatcher,
      { origin: this.http.origin, path: `${this.http.prefix}/events?client=${encodeURIComponent(this.o.clientId)}`, method: 'GET', headers },
      signal,
      (chunk) => this.onRead(chunk),
    ).then((stream) => {
      this.o.onConnected?.();
      return stream;
    });
  }

  /** One read of the stream: every event in it arrived together. */
  private onRead(chunk: Buffer): void {
    this.readAt = process.hrtime.bigint();
    this.parser.push(chunk);
  }

  /** A stream given as a Readable (an HTTP/2 stream) read as `open`'s is: a read at a time, from its 'data' events. */
  protected readBody(body: Readable): OpenStream {
    const ended = new Promise<void>((resolve, reject) => {
      body.on('data', (chunk: Buffer) => this.onRead(chunk));
      body.once('error', reject);
      body.once('end', resolve);
      // An abort ends the stream with 'error' first; a close without either is an end too.
      body.once('close', resolve);
    });
    return { ended };
  }

  private async run(body: OpenStream): Promise<void> {
    for (;;) {
      try {
        await body.ended;
      } catch (e) {
        if (this.stopper.signal.aborted) return;
        this.o.onError?.(e as Error);
      }
      if (this.stopper.signal.aborted) return;
      this.o.onDropped?.();
      // The stream ended: wait the announced reconnection time (3 s when none was), then resume from the last id.
      for (;;) {
        await sleep(eventSourceDelayMs(this.parser.retryMs), this.stopper.signal);
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
