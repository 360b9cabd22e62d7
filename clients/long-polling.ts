/**
 * Long-polling client: one request always held at the server; as soon as it
 * returns (a message or a timeout) the next one goes out with the new cursor.
 * It holds one connection with the poll and sends on a second, as a browser does.
 */
import type { ClientOptions } from './contract.ts';
import { PollerBase, sleep } from './http-base.ts';

export class LongPollingClient extends PollerBase {
  constructor(o: ClientOptions) {
    super(o, 2);
  }

  protected async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopper.signal.aborted) {
      try {
        await this.pollOnce();
        backoff = 0;
      } catch (e) {
        if (this.stopper.signal.aborted) return;
        this.o.onError?.(e as Error);
        backoff = Math.min(1000, backoff * 2 || 50);
        await sleep(backoff, this.stopper.signal);
      }
    }
  }
}
