/**
 * Short-polling client: polls on a fixed schedule (every `pollIntervalMs`
 * from the first poll, not after each response, so a slow answer does not
 * stretch the interval), re-polling at once only when a reply was cut at the
 * server's batch limit. Its brief requests share one connection.
 */
import type { ClientOptions } from './contract.ts';
import { PollerBase, sleep } from './http-base.ts';

export class PollingClient extends PollerBase {
  constructor(o: ClientOptions) {
    super(o, 1);
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
}
