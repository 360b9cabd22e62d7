/** Starting the lab's Redis (cluster/redis.ts) when the program cannot be run: a clear error, nothing thrown uncaught, nothing left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startRedis } from '../../cluster/redis.ts';

test('a Redis whose program cannot be started fails with the reason and leaves no directory', { timeout: 60_000 }, async () => {
  const dirs = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('lab-redis-')));
  const before = dirs();
  // The command prefix is a program that does not exist, as a missing redis-server would be.
  await assert.rejects(
    startRedis({ wrap: ['/nonexistent/lab-no-such-program'] }),
    /^Error: cannot start \/nonexistent\/lab-no-such-program \(spawn \S+ ENOENT\)/,
  );
  assert.deepEqual(
    [...dirs()].filter((d) => !before.has(d)),
    [],
    'its directory was removed',
  );
});
