/**
 * Long-polling client: one request always held at the server; as soon as it
 * returns (a message or a timeout) the next one goes out with the new cursor.
 */
import type { ClientOptions, TransportClient } from './contract.ts';
import { deliverPoll, HttpSide, sleep, type PollBody } from './http-base.ts';

export class LongPollingClient implements TransportClient {
  private readonly http: HttpSide;
  private readonly stopper = new AbortController();
  private cursor = 0;
  private loop: Promise<void> | undefined;
  emptyResponses = 0;

  constructor(private readonly o: ClientOptions) {
    this.http = new HttpSide(o);
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

  private async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopper.signal.aborted) {
      try {
        const r = await this.http.get(`/poll?cursor=${this.cursor}&client=${encodeURIComponent(this.o.clientId)}`, undefined, this.stopper.signal);
        if (r.status === 204) {
          this.emptyResponses++;
          const next = r.headers['x-next-cursor'];
          if (typeof next === 'string') this.cursor = Number(next);
        } else if (r.status === 200) {
          this.cursor = deliverPoll(this.o, JSON.parse(r.text) as PollBody);
        } else {
          throw new Error(`GET /poll answered ${r.status}: ${r.text}`);
        }
        backoff = 0;
      } catch (e) {
        if (this.stopper.signal.aborted) return;
        this.o.onError?.(e as Error);
        backoff = Math.min(1000, backoff * 2 || 50);
        await sleep(backoff, this.stopper.signal);
      }
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
