/**
 * The failover scenario with a few clients: loss and duplicates counted by sequence number per
 * client (through the load process's own counting), recovery across a crash and a graceful
 * restart on the same port, resume by cursor losing nothing where a WebSocket client without reconnect (policy none) loses
 * everything after the crash, and the kernel's listen counters read from /proc/net/netstat.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../args.ts';
import { parseListenCounters } from '../../metrics/netstat.ts';
import { readFlags } from '../../runner/flags.ts';
import { FailoverCalls } from '../../runner/restart.ts';
import { Session } from '../../runner/session.ts';
import { type FailoverParams, failover } from '../../scenarios/failover/index.ts';
import { readFailover } from '../../scenarios/failover/schema.ts';
import type { RunContext } from '../../scenarios/contract.ts';

const ctx = (): RunContext => ({ wsClient: 'own', progress: () => {}, signal: new AbortController().signal });

/** A short run: 4 clients, 20 msg/s, 1 s before the failure, 1.5 s after. */
const SMALL: FailoverParams = {
  modes: ['crash'],
  clientCounts: [4],
  downMs: 300,
  rate: 20,
  size: 64,
  beforeMs: 1000,
  afterMs: 1500,
  drainMs: 6000,
  pollIntervalMs: 200,
  longPollTimeoutMs: 25_000,
  headers: 'minimal',
  loadProcesses: 1,
};

test('loss and duplicates are counted per client by sequence number', async (t) => {
  const s = new Session('websocket', {}, { wsClient: 'own' });
  t.after(() => s.close());
  await s.startServer();
  await s.startLoad({ clients: 3, processes: 1, pollIntervalMs: 100, headers: 'minimal' });
  await s.measure(1);
  // 1..5, then 4..6 again: 4 and 5 arrive twice; 7 and 8 are owed and never published.
  await s.server.ask({ type: 'publish', rate: 200, size: 64, durationMs: 25, firstSeq: 1 }, 10_000);
  await s.server.ask({ type: 'publish', rate: 200, size: 64, durationMs: 15, firstSeq: 4 }, 10_000);
  await s.drain(3 * 8, 1500, undefined, 500);
  const [r] = await Promise.all(s.loads.map((l) => l.ask({ type: 'finish', first: 1, last: 8 }, 10_000)));
  assert.equal(r!.owed, 24);
  assert.equal(r!.delivered, 18, 'messages 1..6 to each of 3 clients');
  assert.equal(r!.duplicates, 6, '4 and 5 twice to each');
  assert.equal(r!.lost, 6, '7 and 8 to each');
  assert.equal(r!.clientsLosing, 3);
});

describe('failover runs with a few clients', () => {
  const rowOf = async (transport: string, p: FailoverParams = SMALL) => {
    const row = await failover.run(transport, p, ctx());
    const x = readFailover(row.extra);
    assert.ok(x, `${transport}: the row's extra parses`);
    return { row, run: x.runs[0]!, x };
  };

  for (const transport of ['sse', 'long-polling', 'polling', 'websocket+resume', 'ws+resume']) {
    test(`${transport}: back after a crash with nothing lost or duplicated`, async () => {
      const { row, run } = await rowOf(transport);
      assert.equal(run.published > SMALL.rate, true, 'messages were published on both sides of the crash');
      assert.equal(run.owed, run.published * 4);
      assert.equal(run.lost, 0, `lost ${run.lost}; errors: ${run.clientErrors?.join(' | ')}`);
      assert.equal(run.duplicates, 0);
      assert.equal(run.recovery.back, 4);
      assert.ok(
        run.recovery.p100Ms !== null && run.recovery.p100Ms >= SMALL.downMs,
        `every client back, not before the server was (${run.recovery.p100Ms} ms)`,
      );
      assert.ok(run.upAtS > run.downAtS);
      assert.equal(row.messages?.lost, 0);
      // The timeline shows the clients gone and back.
      assert.ok(run.timeline.some((p) => p.connected === 4));
    });
  }

  test('websocket (policy none): stays away and loses every message published after the crash, counted exactly', async () => {
    const { run, x } = await rowOf('websocket');
    assert.equal(x.reconnect, 'none');
    assert.equal(x.resumes, false);
    assert.equal(run.recovery.back, 0);
    assert.equal(run.recovery.p50Ms, null);
    // Nothing the new server published arrives; of the old server's, at most the one in flight at the kill.
    const fromNew = run.published - run.firstAfter! + 1;
    assert.ok(fromNew >= (SMALL.afterMs / 1000) * SMALL.rate * 0.9, `the new server published ${fromNew}`);
    assert.ok(run.lost >= 4 * fromNew && run.lost <= 4 * (fromNew + 1), `lost ${run.lost}, the new server published ${fromNew}`);
    assert.equal(run.lost, run.owed - run.delivered);
    assert.equal(run.duplicates, 0);
    assert.equal(run.clientsLosing, 4);
  });

  test('graceful: the WebSocket client hears 1001 and, with resume, loses nothing', async () => {
    const { run } = await rowOf('websocket+resume', { ...SMALL, modes: ['graceful'] });
    assert.equal(run.mode, 'graceful');
    assert.equal(run.lost, 0);
    assert.ok(
      run.clientErrors?.some((e) => /1001/.test(e)),
      `errors: ${run.clientErrors?.join(' | ')}`,
    );
  });
});

test('listen counters: ListenOverflows and ListenDrops from the TcpExt lines, undefined without them', () => {
  const text = 'TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\nTcpExt: 0 17 21 5\nIpExt: InNoRoutes\nIpExt: 0\n';
  assert.deepEqual(parseListenCounters(text), { overflows: 17, drops: 21 });
  assert.equal(parseListenCounters('IpExt: InNoRoutes\nIpExt: 0\n'), undefined);
  assert.equal(parseListenCounters('TcpExt: ListenOverflows\nTcpExt: x\n'), undefined);
});

test('--failover takes a comma list of its modes; anything else is a usage error naming the flag', () => {
  const specs = failover.flags!;
  assert.deepEqual(readFlags(specs, { failover: 'graceful, crash' }, 'quick').strs('failover'), ['graceful', 'crash']);
  assert.deepEqual(readFlags(specs, {}, 'quick').strs('failover'), ['crash', 'graceful', 'rolling', 'node-crash']);
  assert.deepEqual(readFlags(specs, {}, 'full').nums('failover-clients'), [1000, 10_000]);
  assert.throws(
    () => readFlags(specs, { failover: 'crash,bogus' }, 'quick'),
    (e: Error) => e instanceof UsageError && /^--failover takes/.test(e.message),
  );
  assert.throws(() => readFlags(specs, { failover: ',' }, 'quick'), UsageError);
});

test('rows: each WebSocket row brings its reconnect variants; other rows stand alone', () => {
  assert.deepEqual(failover.rows!(['sse', 'ws'], SMALL), ['sse', 'ws', 'ws+immediate', 'ws+exponential', 'ws+full-jitter', 'ws+resume']);
});

test('a crash the load saw before its mark arrived still counts its clients as cut, not as kept', { timeout: 60_000 }, async () => {
  const s = new Session('websocket', {}, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ clients: 3, processes: 1, pollIntervalMs: 100, headers: 'minimal' });
    const f = new FailoverCalls(s);
    // The order a loaded machine can give: the server gone and its clients' closes seen first.
    s.server.proc.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await f.mark(process.hrtime.bigint());
    const [rec] = await f.recovery();
    assert.equal(rec!.kept, 0, 'no client kept its connection through the crash');
    assert.deepEqual(rec!.ms, [null, null, null], 'and none came back (policy none)');
  } finally {
    await s.close();
  }
});
