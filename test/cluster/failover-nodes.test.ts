/**
 * The failover scenario on two nodes behind the balancer, with the Redis backplane: a rolling
 * restart (each node says goodbye and its successor is up before the next goes) loses nothing for
 * SSE and for WebSocket clients that resume by cursor; one node killed leaves the other node's
 * clients connected, and today's WebSocket client (no reconnect) on the killed node loses what
 * follows. A Redis the file starts (scripts/ensure-redis.sh installs it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FailoverParams, failover } from '../../scenarios/failover/index.ts';
import { readFailover } from '../../scenarios/failover/schema.ts';
import { redisForFile } from './redis-fixture.ts';

const fixture = redisForFile();

const SMALL: FailoverParams = {
  modes: ['rolling'],
  clientCounts: [6],
  downMs: 0,
  rate: 20,
  size: 64,
  beforeMs: 1000,
  afterMs: 2000,
  drainMs: 8000,
  pollIntervalMs: 200,
  longPollTimeoutMs: 25_000,
  headers: 'minimal',
  loadProcesses: 1,
};

async function runOf(transport: string, p: FailoverParams) {
  const row = await failover.run(transport, p, { wsClient: 'own', redisUrl: fixture.redis!.url, progress: () => {}, signal: new AbortController().signal });
  const run = readFailover(row.extra)?.runs[0];
  assert.ok(run, `${transport}: a failover run in the row (${row.error ?? ''})`);
  return run;
}

for (const transport of ['sse-n2', 'websocket+resume-n2']) {
  test(`${transport}: a rolling restart loses nothing and duplicates nothing`, { timeout: 120_000 }, async (t) => {
    if (!fixture.redis) return t.skip(fixture.why);
    const run = await runOf(transport, SMALL);
    assert.equal(run.mode, 'rolling');
    assert.ok(run.published > SMALL.rate, `published ${run.published}`);
    assert.equal(run.lost, 0, `lost ${run.lost}; errors: ${run.clientErrors?.join(' | ')}`);
    assert.equal(run.duplicates, 0);
    assert.equal(run.recovery.back, 6);
  });
}

test('websocket-n2 (policy none): one node killed; the other node keeps its clients, the killed node’s lose what follows', { timeout: 120_000 }, async (t) => {
  if (!fixture.redis) return t.skip(fixture.why);
  const run = await runOf('websocket-n2', { ...SMALL, modes: ['node-crash'] });
  // Round-robin over two nodes: both hold some of the six.
  const kept = run.recovery.kept ?? 0;
  assert.ok(kept >= 1 && kept <= 5, `kept ${kept}`);
  assert.equal(run.recovery.back, kept, 'only the kept ones: nobody reconnects');
  assert.equal(run.clientsLosing, 6 - kept);
  assert.ok(run.lost >= 6 - kept, `lost ${run.lost}`);
});
