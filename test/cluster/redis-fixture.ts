/** A Redis for the tests of one file: started before them, stopped after; in CI a missing redis-server fails the file. */
import { after, before } from 'node:test';
import { type LabRedis, startRedis } from '../../cluster/redis.ts';

/** Registers the file's before/after hooks; `redis` is set once they ran, `why` says why not when it is not. */
export function redisForFile(): { redis: LabRedis | undefined; why: string } {
  const state: { redis: LabRedis | undefined; why: string } = { redis: undefined, why: '' };
  before(async () => {
    try {
      state.redis = await startRedis();
    } catch (e) {
      state.why = `no redis-server: ${(e as Error).message}`;
      if (process.env['CI'] === 'true') throw e;
    }
  });
  after(async () => {
    await state.redis?.stop();
  });
  return state;
}
