/**
 * A node of a three-node cluster is killed (SIGKILL) while messages are being published. Its
 * SSE and polling clients reconnect through the balancer to the other nodes and resume from the
 * Redis stream: every message published reaches every client, and no gap is reported. WebSocket
 * clients of the killed node learn that their connection ended and reconnect to the others.
 * All on 127.0.0.1, with a Redis the test starts (scripts/ensure-redis.sh installs it when missing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool } from 'undici';
import type { TransportClient } from '../../clients/contract.ts';
import { redisForFile } from './redis-fixture.ts';
import { Session } from '../../runner/session.ts';
import type { ServerOptions } from '../../servers/contract.ts';
import { createClientFor } from '../../transports/load.ts';
import { sleep } from '../helpers/wait.ts';

const fixture = redisForFile();

/** A subscriber as the test watches it: what it received, the gaps and the errors it reported. */
interface Watched {
  client: TransportClient;
  got: Set<string>;
  gaps: string[];
  errors: number;
  /** Connections of the client's HTTP pool that ended under it (a killed node's sockets close). */
  drops: number;
  pool?: Pool;
}

async function subscribe(base: string, row: string, id: string, pollIntervalMs = 50): Promise<Watched> {
  const w: Watched = { client: undefined as unknown as TransportClient, got: new Set(), gaps: [], errors: 0, drops: 0 };
  // HTTP rows get a pool the test watches: a short poll between requests sees no error when its node dies,
  // only its kept-alive connection closing.
  if (row !== 'websocket') {
    w.pool = new Pool(base, { connections: 2, keepAliveTimeout: 60_000 });
    w.pool.on('disconnect', () => void w.drops++);
  }
  w.client = await createClientFor(row, {
    baseUrl: base,
    ...(w.pool && { dispatcher: w.pool }),
    clientId: id,
    pollIntervalMs,
    onMessage: (data) => void w.got.add(data),
    onGap: (from, to) => void w.gaps.push(`${from}-${to}`),
    onError: () => void w.errors++,
  });
  await w.client.start();
  return w;
}

/** Publishes `count` numbered messages through the balancer, one every `everyMs`; a failed publish is tried again. */
async function publishAll(base: string, prefix: string, count: number, everyMs: number, onEach?: (i: number) => void): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 1; i <= count; i++) {
    const text = `${prefix}${i}`;
    for (let attempt = 0; ; attempt++) {
      try {
        // A fresh connection per publish: a publish on the killed node's kept-alive socket would just fail.
        // A connection the balancer handed to the node as it died is never answered: give up on it and retry.
        const r = await fetch(`${base}/publish`, { method: 'POST', body: text, headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) });
        if (r.status === 202) break;
      } catch {
        /* the node holding this request died: the balancer gives the retry to another */
      }
      if (attempt > 20) throw new Error(`could not publish ${text}`);
      await sleep(20);
    }
    sent.push(text);
    onEach?.(i);
    await sleep(everyMs);
  }
  return sent;
}

async function clusterOf(row: string, options: ServerOptions): Promise<Session> {
  const s = new Session(row, options, { wsClient: 'own', redisUrl: fixture.redis!.url });
  await s.startServer();
  assert.equal(s.nodePids.length, 3);
  return s;
}

for (const row of ['sse', 'polling']) {
  test(`${row}: a node killed mid-run: its clients resume on the others from the Redis stream, nothing lost`, { timeout: 120_000 }, async (t) => {
    if (!fixture.redis) return t.skip(fixture.why);
    const s = await clusterOf(`${row}-n3`, { sseRetryMs: 100, longPollTimeoutMs: 2_000 });
    const clients: Watched[] = [];
    try {
      // Nine subscribers round-robin over three nodes: three (or more, with polling's second socket) on each.
      for (let i = 0; i < 9; i++) clients.push(await subscribe(s.baseUrl, row, `c${i}`));
      const victim = s.nodePids[1]!;
      const sent = await publishAll(s.baseUrl, 'm', 40, 10, (i) => {
        if (i === 15) process.kill(victim, 'SIGKILL');
      });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && clients.some((c) => sent.some((m) => !c.got.has(m)))) await sleep(50);
      const counters = await s.counters();
      assert.ok(counters.lastSeq >= 40, 'the surviving nodes read every message from the stream');
      for (const [i, c] of clients.entries()) {
        const missing = sent.filter((m) => !c.got.has(m));
        assert.deepEqual(missing, [], `client c${i} lost ${missing.length} message(s)`);
        assert.deepEqual(c.gaps, [], `client c${i} was told of a gap`);
      }
      // The kill was felt: some clients lost a connection to it (a request cut mid-way, or an idle kept-alive
      // socket closed) and carried on through the others.
      assert.ok(
        clients.some((c) => c.errors > 0 || c.drops > 0),
        'no client noticed the killed node',
      );
    } finally {
      await Promise.all(clients.map((c) => c.client.stop()));
      await Promise.all(clients.map((c) => c.pool?.destroy()));
      await s.close();
    }
  });
}

test('websocket: clients of a killed node reconnect through the balancer to the others', { timeout: 120_000 }, async (t) => {
  if (!fixture.redis) return t.skip(fixture.why);
  const s = await clusterOf('websocket-n3', {});
  const clients: Watched[] = [];
  try {
    for (let i = 0; i < 6; i++) clients.push(await subscribe(s.baseUrl, 'websocket', `w${i}`));
    const before = await s.counters();
    assert.equal(before.subscribers, 6);
    process.kill(s.nodePids[0]!, 'SIGKILL');
    // Two of six were on the killed node (round-robin): their connections end, and the client says so.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && clients.filter((c) => c.errors > 0).length < 2) await sleep(50);
    const dropped = clients.filter((c) => c.errors > 0);
    assert.equal(dropped.length, 2, 'the killed node held two of the six connections');
    for (const [i, c] of dropped.entries()) {
      await c.client.stop();
      c.client = (await subscribe(s.baseUrl, 'websocket', `r${i}`)).client;
    }
    const again = await subscribe(s.baseUrl, 'websocket', 'late');
    clients.push(again);
    const after = await s.counters();
    assert.equal(after.subscribers, 7, 'every client is held by the two nodes left');
    const sent = await publishAll(s.baseUrl, 'after', 10, 10);
    const end = Date.now() + 5_000;
    while (Date.now() < end && sent.some((m) => !again.got.has(m))) await sleep(50);
    assert.deepEqual(
      sent.filter((m) => !again.got.has(m)),
      [],
      'a client that connected after the kill gets every message',
    );
  } finally {
    await Promise.all(clients.map((c) => c.client.stop()));
    await s.close();
  }
});
