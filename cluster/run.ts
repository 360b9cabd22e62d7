/** What a bench run needs for `--nodes`: the node counts, and a Redis for as long as the run lasts. */
import { UsageError } from '../args.ts';
import { transport } from '../transports/index.ts';
import { startRedis } from './redis.ts';

/** The node counts of `--nodes` (none when absent). */
export function nodeCounts(raw: string | undefined): number[] {
  if (raw === undefined) return [];
  const out = raw.split(',').map((s) => s.trim());
  for (const s of out)
    if (!/^\d{1,3}$/.test(s) || Number(s) < 1 || Number(s) > 64) throw new UsageError(`--nodes takes node counts from 1 to 64, comma-separated; got "${s}"`);
  return [...new Set(out.map(Number))].sort((a, b) => a - b);
}

/**
 * Runs `fn` with the run's Redis: `given` (`--redis`, where agents listen) when set, else one
 * started for the run when a row runs as nodes, else none (undefined).
 */
export async function withRunRedis<T>(rows: readonly string[], given: string | undefined, fn: (redisUrl: string | undefined) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  if (!rows.some((r) => transport(r).nodes !== undefined)) return fn(undefined);
  const redis = await startRedis();
  process.stderr.write(`redis-server ${redis.url} (pid ${redis.pid}): the backplane of the clustered rows\n`);
  try {
    return await fn(redis.url);
  } finally {
    await redis.stop();
  }
}
