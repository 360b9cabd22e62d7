/**
 * The verbs a scenario speaks to its session with: each one asks every process it concerns and
 * adds their answers up, so a scenario with two load processes reads what one with one would.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../../runner/session.ts';

const spec = { pollIntervalMs: 100, headers: 'minimal' as const };

test('send, delivered and finish add up every load process; publish reaches every subscriber', { timeout: 60_000 }, async () => {
  const s = new Session('ws', {}, { wsClient: 'own' });
  try {
    await s.startServer({ nodeFlags: ['--expose-gc'] });
    // Echo mode over two processes: 2 clients in one, 1 in the other.
    await s.startLoad({ ...spec, clients: 3, processes: 2, mode: 'echo' });
    assert.equal(s.loads.length, 2);
    await s.arm(1);
    await s.measure(1);
    const sent = await s.send({ ratePerClient: 50, size: 64, durationMs: 400 });
    // Each client sends its own numbers 1..n: the total is three clients' worth, the last number one client's.
    assert.ok(sent.sent >= 3 * 15 && sent.sent <= 3 * 25, `sent ${sent.sent}`);
    assert.equal(sent.first, 1);
    assert.ok(sent.last * 3 >= sent.sent && sent.last < sent.sent, `last ${sent.last} of ${sent.sent}`);
    await s.drain(sent.sent, 10_000);
    assert.equal(await s.delivered(), sent.sent, 'every echo counted, over both processes');
    const each = await s.finish(1, sent.last);
    assert.equal(each.length, 2, 'one result per load process, in load order');
    assert.equal(
      each.reduce((a, r) => a + r.sent, 0),
      sent.sent,
    );
    assert.equal(await s.settle(500), 0, 'nothing of the sends is still out');

    const usage = await s.usage();
    assert.ok(usage.rssBytes > 10 * 1024 * 1024 && usage.heapUsedBytes > 0 && usage.cpuMs > 0, JSON.stringify(usage));
    assert.equal(usage.counters.connectionsOpen, 3);
    assert.equal(await s.collectGarbage(), true, 'the server was started with --expose-gc');
    const totals = await s.totals();
    assert.ok(totals.counters.messagesIn >= sent.sent, `${totals.counters.messagesIn} messages in`);
  } finally {
    await s.close();
  }
});

test('pingPong closes the loop on every load process; collectGarbage says when gc is not exposed', { timeout: 60_000 }, async () => {
  const s = new Session('websocket', {}, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ ...spec, clients: 2, processes: 2, mode: 'echo' });
    await s.measure(1);
    const done = await s.pingPong({ size: 32, durationMs: 300 });
    assert.equal(done.first, 1);
    assert.ok(done.sent >= 2 * 10, `${done.sent} round trips over two processes`);
    assert.ok(done.last < done.sent, 'each client numbers its own messages');
    assert.equal(await s.collectGarbage(), false);
  } finally {
    await s.close();
  }
});

test("publish's schedule numbers what every subscriber is owed", { timeout: 60_000 }, async () => {
  const s = new Session('sse', {}, { wsClient: 'own' });
  try {
    await s.startServer();
    await s.startLoad({ ...spec, clients: 2, processes: 1 });
    await s.arm(1);
    await s.measure(1);
    const pub = await s.publish({ rate: 100, size: 64, durationMs: 200 });
    assert.equal(pub.first, 1);
    assert.ok(pub.last >= 10, `published ${pub.last}`);
    await s.drain(pub.last * 2, 10_000);
    assert.equal(await s.delivered(), pub.last * 2);
  } finally {
    await s.close();
  }
});

test("a new measured phase takes over the server's samples: Child.handle replaces the handler it had", { timeout: 60_000 }, async () => {
  const s = new Session('ws', {}, { wsClient: 'own' });
  try {
    await s.startServer({ spareLoad: false });
    let first = 0;
    let second = 0;
    await s.measure(1, undefined, () => first++);
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(ok());
    };
    await until(() => first > 0);
    await s.measure(1, undefined, () => second++);
    const firstAtSwitch = first;
    await until(() => second >= 2);
    assert.equal(first, firstAtSwitch, 'the first handler got no sample after the second phase began');
  } finally {
    await s.close();
  }
});

test('a publish held open while its server dies fails where it is awaited, not as an unhandled rejection', { timeout: 60_000 }, async () => {
  const s = new Session('sse', {}, { wsClient: 'own' });
  const unhandled: unknown[] = [];
  const note = (e: unknown) => void unhandled.push(e);
  process.on('unhandledRejection', note);
  try {
    await s.startServer();
    // A scenario's shape: the publish runs under the phase while the scenario does other things.
    const publishing = s.publish({ rate: 10, size: 64, durationMs: 30_000 });
    s.server.proc.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(unhandled, [], 'the server dying reached no one before the await');
    await assert.rejects(publishing, /server process exited \(SIGKILL\)/);
  } finally {
    process.off('unhandledRejection', note);
    await s.close();
  }
});
