/**
 * Short-polling client: polls on a fixed schedule (every `pollIntervalMs`
 * from the first poll, not after each response, so a slow answer does not
 * stretch the interval), re-polling at once only when a reply was cut at the
 * server's batch limit.
 */
import type { ClientOptions, TransportClient } from './contract.ts';
import { deliverPoll, HttpSide, sleep, type PollBody } from './http-base.ts';

export class PollingClient implements TransportClient {
  private readonly http: HttpSide;
  private readonly stopper = new AbortController();
  private cursor = 0;
  private loop: Promise<void> | undefined;
  emptyResponses = 0;

  constructor(private readonly o: ClientOptions) {
    this.http = new HttpSide(o, 1);
  }

  get requests(): number {
    return this.http.requests;
  }

  async start(): Promise<void> {
    const first = await this.http.get(`/poll?client=${encodeURIComponent(this.o.clientId)}`);
    if (first.status !== 200) throw new Error(`GET /poll answered ${first.status}: ${first.text}`);
    this.cursor = (JSON.parse(first.text) as PollBody).next;
    this.loop = this.run();
  }

  /** One poll; returns whether the server has more waiting. */
  protected async pollOnce(): Promise<boolean> {
    const r = await this.http.get(`/poll?cursor=${this.cursor}&client=${encodeURIComponent(this.o.clientId)}`, undefined, this.stopper.signal);
    if (r.status === 204) {
      this.emptyResponses++;
      const next = r.headers['x-next-cursor'];
      if (typeof next === 'string') this.cursor = Number(next);
      return false;
    }
    if (r.status !== 200) throw new Error(`GET /poll answered ${r.status}: ${r.text}`);
    const body = JSON.parse(r.text) as PollBody;
    this.cursor = deliverPoll(this.o, body);
    return body.more === true;
  }

  protected async run(): Promise<void> {
    const interval = this.o.pollIntervalMs ?? 1000;
    const t0 = performance.now();
    let k = 0;
    while (!this.stopper.signal.aborted) {
      try {
        // A batch cut at the server's limit is fetched on at once, not a whole interval later.
        while ((await this.pollOnce()) && !this.stopper.signal.aborted);
      } catch (e) {
        if (this.stopper.signal.aborted) return;
        this.o.onError?.(e as Error);
      }
      // Next slot on the fixed schedule; skip slots already missed rather than bunching up.
      k = Math.max(k + 1, Math.ceil((performance.now() - t0) / interval));
      await sleep(t0 + k * interval - performance.now(), this.stopper.signal);
    }
  }

  send(data: string): Promise<void> {
    return this.http.send(data);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop?.catch(() => {});
    await this.http.close();
  }
}
