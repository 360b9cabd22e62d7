/**
 * exec programs do not outlive their reason: each runs in its own process
 * group and the whole group is ended; a cap on programs answered with 503; pings drop a
 * silent client and end its program.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { startExec } from '../../exec/server.ts';
import { connect, type WebSocketConnection } from '../../protocol/index.ts';
import { alive, rawUpgrade, script } from './exec-helpers.ts';
import { sleep } from '../helpers/wait.ts';

/** The first message of `conn`, as text. */
async function firstMessage(conn: WebSocketConnection): Promise<string> {
  const [data] = (await once(conn, 'message')) as [Buffer];
  return data.toString();
}

/** Waits until none of `pids` is alive, up to `ms`; returns those still alive. */
async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await sleep(50);
    left = left.filter(alive);
  }
  return left;
}

test('closed connections running `sleep 1000` under a shell leave no process behind', async (t) => {
  // The shell starts sleep as its child and waits: SIGTERM to the shell alone would orphan it.
  const prog = await script(t, 'sleep 1000 &\necho $!\nwait');
  const server = await startExec({ port: 0, program: prog, killGraceMs: 150 });
  t.after(() => server.close());
  const sleeps: number[] = [];
  // Only processes this test started are ever signalled, by the pids they reported.
  t.after(() => {
    for (const pid of sleeps) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const conns: WebSocketConnection[] = [];
  for (let i = 0; i < 5; i++) {
    const conn = await connect(`ws://127.0.0.1:${server.port}/`);
    conns.push(conn);
    sleeps.push(Number(await firstMessage(conn)));
  }
  assert.equal(sleeps.filter(alive).length, 5, 'every sleep runs while its connection is open');
  for (const conn of conns) conn.close(1000);
  await Promise.all(conns.map((c) => once(c, 'close')));
  // stdin end, then SIGTERM after 150 ms, then SIGKILL after 150 ms more: 3 s is plenty.
  const left = await waitGone(sleeps, 3000);
  assert.deepEqual(left, [], 'sleep processes left after their connections closed');
});

test('--max-forks: past the cap an upgrade is answered 503; a slot frees when a program ends', async (t) => {
  const server = await startExec({ port: 0, program: 'sleep', args: ['1000'], maxForks: 2, killGraceMs: 100 });
  t.after(() => server.close());
  const a = await connect(`ws://127.0.0.1:${server.port}/`);
  const b = await connect(`ws://127.0.0.1:${server.port}/`);
  t.after(() => b.terminate());
  const refused = await rawUpgrade(server.port);
  refused.socket.destroy();
  assert.equal(refused.status, 503);
  assert.equal(server.refusedForks, 1);
  a.close(1000);
  await once(a, 'close');
  // sleep ignores stdin end: SIGTERM after 100 ms ends it, then the slot is free.
  const until = Date.now() + 3000;
  let status = 0;
  while (Date.now() < until) {
    const r = await rawUpgrade(server.port);
    r.socket.destroy();
    status = r.status;
    if (status === 101) break;
    await sleep(50);
  }
  assert.equal(status, 101);
});

test('heartbeat: a client that never answers pings is dropped and its program ended', async (t) => {
  const prog = await script(t, 'echo $$\nexec sleep 1000');
  const server = await startExec({ port: 0, program: prog, heartbeatIntervalMs: 100, maxMissedPongs: 2, killGraceMs: 100 });
  t.after(() => server.close());
  // A raw client: it reads what the server sends but never writes, so pings go unanswered.
  const { socket, status } = await rawUpgrade(server.port);
  t.after(() => socket.destroy());
  assert.equal(status, 101);
  let received = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => {
    received = Buffer.concat([received, c]);
  });
  socket.resume();
  const closed = once(socket, 'close');
  const dropped = await Promise.race([closed.then(() => true), sleep(4000).then(() => false)]);
  assert.ok(dropped, 'the server dropped a client that answered no ping within 4 s');
  // The first frame is the program's pid line: 0x81, length, text.
  const pid = Number(
    received
      .subarray(2, 2 + received[1]!)
      .toString()
      .trim(),
  );
  assert.ok(pid > 0);
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.deepEqual(await waitGone([pid], 3000), [], 'its program ended');
});
