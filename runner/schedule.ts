/**
 * Open-loop, constant-rate scheduling: message i is due at t0 + i/rate, no
 * matter how the previous ones fared. A late timer sends what fell due at
 * once, each with its own intended time, so the lateness is measured rather
 * than absorbed (coordinated omission).
 */

/** What a schedule did: first and last sequence number, count, and how late it ran at worst and at the end. */
export interface ScheduleResult {
  first: number;
  last: number;
  count: number;
  startNs: bigint;
  endNs: bigint;
  /** The latest any message left, ms after its due time. */
  maxLateMs: number;
  /**
   * How long after the last message's due time the schedule was done, ms: the backlog it still
   * had at the end. A sender that fell behind for good ends late; one that caught up after a
   * pause ends on time.
   */
  endLateMs: number;
}

/** How many messages a schedule of `rate` msg/s for `durationMs` sends (at least one). */
export function scheduleCount(rate: number, durationMs: number): number {
  return Math.max(1, Math.round((rate * durationMs) / 1000));
}

/** Calls `fire(seq, intendedNs)` for seq 1…rate×duration at a constant rate. */
export function runSchedule(rate: number, durationMs: number, fire: (seq: number, intendedNs: bigint) => void, firstSeq = 1): Promise<ScheduleResult> {
  const total = scheduleCount(rate, durationMs);
  const periodNs = 1e9 / rate;
  const startNs = process.hrtime.bigint() + 2_000_000n;
  let i = 0;
  let maxLateNs = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint();
      while (i < total) {
        const due = startNs + BigInt(Math.round(i * periodNs));
        if (due > now) break;
        const late = Number(now - due);
        if (late > maxLateNs) maxLateNs = late;
        fire(firstSeq + i, due);
        i++;
      }
      if (i >= total) {
        const endNs = process.hrtime.bigint();
        const lastDue = startNs + BigInt(Math.round((total - 1) * periodNs));
        resolve({
          first: firstSeq,
          last: firstSeq + total - 1,
          count: total,
          startNs,
          endNs,
          maxLateMs: maxLateNs / 1e6,
          endLateMs: Number(endNs - lastDue) / 1e6,
        });
        return;
      }
      const nextDue = startNs + BigInt(Math.round(i * periodNs));
      const waitMs = Number(nextDue - process.hrtime.bigint()) / 1e6;
      // No busy-waiting: it would bill the publisher's spinning to the server's CPU figure.
      // Timers fire up to ~1 ms late; that lateness stays visible in the corrected latency.
      setTimeout(tick, Math.max(0, Math.ceil(waitMs)));
    };
    tick();
  });
}
