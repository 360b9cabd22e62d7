/**
 * The HTTP transports' load clients over HTTP/2: the same polling loops and SSE reading as their
 * HTTP/1.1 clients, on one h2 session per simulated page (`H2Side`).
 */
import type { ClientOptions } from './contract.ts';
import { H2Side, h2RequestHeaders } from './h2-side.ts';
import type { HttpSide } from './http-base.ts';
import { LongPollingClient } from './long-polling.ts';
import { PollingClient } from './polling.ts';
import { SseClient } from './sse.ts';

/** Short polling over HTTP/2: each poll a stream of the page's one session. */
export class PollingH2Client extends PollingClient {
  protected override openSide(o: ClientOptions): HttpSide {
    return new H2Side(o);
  }
}

/** Long polling over HTTP/2: the held poll and the POSTs are streams of one session, not two connections. */
export class LongPollingH2Client extends LongPollingClient {
  protected override openSide(o: ClientOptions): HttpSide {
    return new H2Side(o);
  }
}

/** SSE over HTTP/2: the event stream and the POSTs share the page's session. */
export class SseH2Client extends SseClient {
  protected override openSide(o: ClientOptions): HttpSide {
    return new H2Side(o);
  }

  protected override async open(): Promise<AsyncIterable<Buffer>> {
    const side = this.http as H2Side;
    side.requests++;
    const fields = h2RequestHeaders(this.o.headers, 'eventSource', side.origin);
    if (this.lastEventId) fields['last-event-id'] = this.lastEventId;
    this.current = new AbortController();
    const signal = AbortSignal.any([this.stopper.signal, this.current.signal]);
    const stream = side.request('GET', `/events?client=${encodeURIComponent(this.o.clientId)}`, fields, signal);
    const head = await H2Side.response(stream);
    const status = Number(head[':status']);
    if (status !== 200) {
      stream.close();
      throw new Error(`GET /events answered ${status}`);
    }
    return stream;
  }
}
