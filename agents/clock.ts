/**
 * Clocks across hosts. A load process times a delivery against the send time the publisher
 * stamped with its CLOCK_MONOTONIC; an agent on another host has a different monotonic clock.
 * Each side measures its offset to one shared reference, Redis's `TIME`, the way NTP does: of
 * several round trips, the shortest one's midpoint is taken as the moment Redis read its clock.
 * An agent adds (controller offset − its own offset) to its receive times, so latency stays
 * one-way, with an error no larger than half the two round trips (`errorNs`). On one host (or
 * network namespaces of one kernel) the true offset is 0, which the namespace test checks.
 */
import type { RedisClient } from '../cluster/redis.ts';

/** This process's monotonic clock minus Redis's clock, ns, and its uncertainty. */
export interface ClockOffset {
  offsetNs: bigint;
  /** Half the shortest round trip: the offset is right to within this. */
  errorNs: bigint;
}

/** Measures this process's offset to Redis's TIME over `samples` round trips. */
export async function offsetToRedis(client: RedisClient, samples = 9): Promise<ClockOffset> {
  let best: ClockOffset | undefined;
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    const [sec, usec] = (await client.sendCommand(['TIME'])) as [string, string];
    const t1 = process.hrtime.bigint();
    const redisNs = BigInt(sec) * 1_000_000_000n + BigInt(usec) * 1000n;
    const half = (t1 - t0) / 2n;
    if (!best || half < best.errorNs) best = { offsetNs: t0 + half - redisNs, errorNs: half };
  }
  return best!;
}
