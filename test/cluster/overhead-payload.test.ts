/**
 * The overhead sweep's payload kinds reach clustered rows too: each node publishes the same
 * JSON-like or random text a single server process does, so a deflate row behind the balancer
 * compresses the one and not the other. With a Redis the test starts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisForFile } from './redis-fixture.ts';
import type { TransportName } from '../../metrics/results.ts';
import type { RunContext } from '../../scenarios/contract.ts';
import { overhead } from '../../scenarios/overhead/index.ts';
import { BOTH_PAYLOADS_SWEEP } from '../helpers.ts';
import { readPayloadPoints } from '../../scenarios/overhead/schema.ts';

const fixture = redisForFile();

test('websocket+deflate on two nodes: compressible text shrinks, random base64 does not', { timeout: 120_000 }, async (t) => {
  const redis = fixture.redis;
  if (!redis) return t.skip(fixture.why);
  const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own', redisUrl: redis.url };
  const row = await overhead.run('websocket+deflate-n2' as TransportName, BOTH_PAYLOADS_SWEEP, ctx);
  assert.equal(row.state, 'completed', row.error ?? '');
  const [squeezed, random] = readPayloadPoints(row.extra)!;
  assert.ok(squeezed!.steadyBytesPerMessage! < 0.5 * 512, `compressible: ${squeezed!.steadyBytesPerMessage} B/msg`);
  assert.ok(random!.steadyBytesPerMessage! > 0.7 * 512, `incompressible: ${random!.steadyBytesPerMessage} B/msg`);
});
