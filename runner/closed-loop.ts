/**
 * The closed loop of a load process (ping-pong, pipelined echo): every sender keeps K messages
 * out, each sent when an echo of one before it returns. The echoes are awaited in one map the
 * receiving side wakes; one watchdog fails the echo that is overdue; and the first failure of
 * any loop fails every other awaited echo too, so no loop keeps sending after the run has failed.
 */

/** An echo awaited: who waits, and when its message left (`performance.now()`). */
export interface AwaitedEcho {
  wake: () => void;
  fail: (e: Error) => void;
  at: number;
}

/** How a closed loop runs. */
export interface ClosedLoopSpec {
  /** One send function per client: sends message `seq` (numbered from 1 across every loop). */
  senders: readonly ((seq: number) => Promise<void>)[];
  /** Messages each client keeps in flight. */
  inFlight: number;
  durationMs: number;
  /** How long an echo may take before the loop fails, ms. */
  timeoutMs: number;
  /** The echoes awaited, oldest first, by sequence number: the receiving side calls `wake`. Empty again when the loop ends. */
  awaiting: Map<number, AwaitedEcho>;
}

/** Runs the loops until `durationMs` has passed; resolves with the last sequence number sent, or rejects with the first failure. */
export async function runClosedLoop(spec: ClosedLoopSpec): Promise<{ last: number }> {
  const { awaiting, timeoutMs } = spec;
  const end = performance.now() + spec.durationMs;
  let next = 0;
  let failed: Error | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((r) => {
    stop = r;
  });
  // The first failure ends every loop: the echoes still awaited are failed with it.
  const failAll = (e: Error): void => {
    failed ??= e;
    stop();
    for (const [seq, w] of awaiting) {
      awaiting.delete(seq);
      w.fail(failed);
    }
  };
  // One watchdog fails the echo that is overdue, looking from the oldest awaited. A 10 s timer per
  // message kept hundreds of thousands alive at 40,000 round trips a second: a 140 MB heap whose
  // full collections stopped the loop for 280 ms.
  const watchdog = setInterval(
    () => {
      const now = performance.now();
      for (const [seq, w] of awaiting) {
        if (now - w.at < timeoutMs) break;
        failAll(new Error(`no echo of message ${seq} within ${timeoutMs / 1000} s`));
        break;
      }
    },
    Math.min(500, timeoutMs / 4),
  );
  const loop = async (send: (seq: number) => Promise<void>): Promise<void> => {
    try {
      for (let at = performance.now(); at < end && !failed; at = performance.now()) {
        const seq = ++next;
        const echoed = new Promise<void>((wake, fail) => {
          awaiting.set(seq, { wake, fail, at });
        });
        // Failed while its send is still under way (another loop failed): rejected before it is awaited.
        echoed.catch(() => {});
        await send(seq);
        await echoed;
      }
    } catch (e) {
      failAll(e as Error);
    }
  };
  try {
    // A send that never settles does not hold the failure back.
    await Promise.race([Promise.all(spec.senders.flatMap((send) => Array.from({ length: spec.inFlight }, () => loop(send)))), stopped]);
  } finally {
    clearInterval(watchdog);
  }
  if (failed) throw failed;
  return { last: next };
}
