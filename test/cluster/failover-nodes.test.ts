/**
 * The failover scenario on two nodes behind the balancer, with the Redis backplane: a rolling
 * restart (each node says goodbye and its successor is up before the next goes) loses nothing for
 * SSE and for WebSocket clients that resume by cursor; one node killed leaves the other node's
 * clients connected, and a WebSocket client with policy none (no reconnect) on the killed node loses what
 * follows; polls made on a node's further address through a rolling restart are all answered or
 * refused, none left hanging. A Redis the file starts (scripts/ensure-redis.sh installs it).
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { test } from 'node:test';
import { FailoverCalls } from '../../runner/restart.ts';
import { Session } from '../../runner/session.ts';
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

test('a rolling restart leaves no connection unserved on the further addresses: every poll made meanwhile is answered or refused', {
  timeout: 120_000,
}, async (t) => {
  if (!fixture.redis) return t.skip(fixture.why);
  const s = new Session('polling-n2', {}, { wsClient: 'own', redisUrl: fixture.redis.url });
  t.after(() => s.close());
  await s.startServer({ spareLoad: false });
  // 127.0.0.2 is one of the further addresses every node also listens on (clients of the second load process use it).
  const poll = () =>
    new Promise<'answered' | 'refused' | 'hung'>((resolve) => {
      const req = get({ host: '127.0.0.2', port: s.port, path: '/poll?client=t', agent: false, timeout: 4000 }, (res) => {
        res.resume();
        res.once('end', () => resolve('answered'));
        res.once('error', () => resolve('refused'));
      });
      req.once('timeout', () => {
        req.destroy();
        resolve('hung');
      });
      req.once('error', () => resolve('refused'));
    });
  const seen = { answered: 0, refused: 0, hung: 0 };
  let rolling = true;
  // Fresh connections back to back through the whole restart, several at a time.
  const loops = Array.from({ length: 16 }, async () => {
    while (rolling) seen[await poll()]++;
  });
  await new FailoverCalls(s).nodeFailover('rolling');
  rolling = false;
  await Promise.all(loops);
  assert.ok(seen.answered > 50, `polls answered: ${JSON.stringify(seen)}`);
  assert.equal(seen.hung, 0, `a connection was left unserved: ${JSON.stringify(seen)}`);
});
