/**
 * exec backpressure both ways: a client that sends faster than its
 * program reads is held back by TCP instead of queued in the server, nothing is lost for a
 * program that does read, and a client that never reads its `yes` costs a bounded amount.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startExec } from '../../exec/server.ts';
import { connect } from '../../protocol/index.ts';
import { rawUpgrade, rssOf, spawnExec } from './exec-helpers.ts';
import { sleep } from '../helpers/wait.ts';

const MiB = 1024 * 1024;

test('30 × 10 MB to a program that never reads stdin: server RSS grows by less than 64 MiB', async (t) => {
  const server = await spawnExec(t, ['--grace', '100', '--', 'sleep', '1000']);
  const conn = await connect(`ws://127.0.0.1:${server.port}/`);
  t.after(() => conn.terminate());
  await sleep(200);
  const before = await rssOf(server.pid);
  const message = Buffer.alloc(10 * MiB, 0x61);
  let sent = 0;
  let peak = 0;
  // Without backpressure the server takes all 300 MB (it grew by ~300 MiB); with it, the
  // client's own queue stays full after a message or two and it stops here after 5 s.
  const deadline = Date.now() + 5000;
  while (sent < 30 && Date.now() < deadline) {
    if (conn.bufferedAmount < MiB) {
      conn.send(message);
      sent++;
    } else await sleep(25);
    peak = Math.max(peak, await rssOf(server.pid));
  }
  await sleep(500);
  peak = Math.max(peak, await rssOf(server.pid));
  const growth = peak - before;
  t.diagnostic(`sent ${sent} × 10 MB; server RSS ${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB`);
  assert.ok(growth < 64 * MiB, `server RSS grew by ${(growth / MiB).toFixed(0)} MiB (bound 64 MiB) after ${sent} messages`);
  assert.ok(sent < 30, 'the client was held back');
});

test('a program that reads late still gets every message whole, after the connection was paused', async (t) => {
  // Sleeps first, so the messages back up in its stdin; then echoes every line.
  const SIZE = 2 * MiB;
  const server = await startExec({ port: 0, program: 'sh', args: ['-c', 'sleep 1; exec cat'], maxLineBytes: 2 * SIZE });
  t.after(() => server.close());
  const conn = await connect(`ws://127.0.0.1:${server.port}/`);
  const echoed: string[] = [];
  conn.on('message', (d: Buffer) => echoed.push(d.length === SIZE && d.every((b) => b === d[0]) ? String.fromCharCode(d[0]!) : `bad (${d.length} bytes)`));
  const COUNT = 30;
  const expected: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    while (conn.bufferedAmount >= MiB) await sleep(10);
    const letter = 0x61 + (i % 26);
    conn.send(Buffer.alloc(SIZE, letter));
    expected.push(String.fromCharCode(letter));
  }
  const deadline = Date.now() + 20_000;
  while (echoed.length < COUNT && Date.now() < deadline) await sleep(20);
  assert.deepEqual(echoed, expected);
  assert.ok(server.inputPauses > 0, 'the connection stopped being read while stdin was backed up');
  conn.close(1000);
  await once(conn, 'close');
});

test('a client that never reads its `yes`: server RSS grows by less than 64 MiB, other requests answered', async (t) => {
  const server = await spawnExec(t, ['--grace', '100', '--', 'yes']);
  await sleep(200);
  const before = await rssOf(server.pid);
  const { socket, status } = await rawUpgrade(server.port);
  t.after(() => socket.destroy());
  assert.equal(status, 101);
  // The socket stays paused: nothing is read from it, so the server's queue for it fills.
  let peak = 0;
  let slowest = 0;
  let answered = 0;
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    const started = Date.now();
    const r = await fetch(`http://127.0.0.1:${server.port}/`);
    await r.text();
    answered++;
    slowest = Math.max(slowest, Date.now() - started);
    peak = Math.max(peak, await rssOf(server.pid));
    await sleep(100);
  }
  // A reader on the same server keeps getting lines.
  const reader = await connect(`ws://127.0.0.1:${server.port}/`);
  let lines = 0;
  reader.on('message', () => lines++);
  const readerUntil = Date.now() + 5000;
  while (lines < 1000 && Date.now() < readerUntil) await sleep(20);
  reader.terminate();
  const growth = peak - before;
  t.diagnostic(`server RSS ${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB; ${answered} requests, slowest ${slowest} ms`);
  assert.ok(growth < 64 * MiB, `server RSS grew by ${(growth / MiB).toFixed(0)} MiB (bound 64 MiB)`);
  assert.ok(lines >= 1000, `a reading client got ${lines} lines`);
  // Generous: the failure this guards against stalled every request for 6–12 s.
  assert.ok(slowest < 3000, `slowest plain request took ${slowest} ms`);
});
