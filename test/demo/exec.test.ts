/** websocketd mode: lines out, lines in, exit → close code, a closed connection ends the process. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type WebSocketConnection } from '../../protocol/index.ts';
import { UsageError } from '../../args.ts';
import { execCommand } from '../../exec/cli.ts';
import { startExec, type ExecOptions } from '../../exec/server.ts';

const COUNT = fileURLToPath(new URL('../../examples/count.sh', import.meta.url));

async function start(t: TestContext, o: ExecOptions) {
  const server = await startExec({ port: 0, ...o });
  t.after(() => server.close());
  return server;
}

/** Connects and collects messages until the close; resolves with both. */
async function collect(conn: WebSocketConnection): Promise<{ messages: string[]; code: number; reason: string }> {
  const messages: string[] = [];
  conn.on('message', (d: Buffer) => messages.push(d.toString()));
  const [code, reason] = (await once(conn, 'close')) as [number, string];
  return { messages, code, reason };
}

async function script(t: TestContext, body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exec-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'prog.sh');
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

test('count.sh: messages 1…10, then close 1000', async (t) => {
  const s = await start(t, { program: COUNT, env: { COUNT_DELAY: '0.01' } });
  const r = await collect(await connect(`ws://127.0.0.1:${s.port}/`));
  assert.deepEqual(r.messages, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.equal(r.code, 1000);
});

test('cat: each message is a stdin line and comes back as a stdout line', async (t) => {
  const s = await start(t, { program: 'cat' });
  const conn = await connect(`ws://127.0.0.1:${s.port}/`);
  const got: string[] = [];
  conn.on('message', (d: Buffer) => got.push(d.toString()));
  conn.send('hello');
  conn.send('wörld ✓');
  const deadline = Date.now() + 3000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, ['hello', 'wörld ✓']);
  conn.close(1000);
  await once(conn, 'close');
});

test('a closed connection ends the process (stdin end first)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exec-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const marker = join(dir, 'ended');
  const prog = await script(t, `echo ready\ncat >/dev/null\necho done > ${marker}`);
  const s = await start(t, { program: prog });
  const conn = await connect(`ws://127.0.0.1:${s.port}/`);
  await once(conn, 'message');
  conn.close(1000);
  await once(conn, 'close');
  const { existsSync } = await import('node:fs');
  const deadline = Date.now() + 3000;
  while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(marker), 'the program saw end of stdin and finished');
});

test('a program that ignores stdin end gets SIGTERM after the grace period', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'exec-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const prog = await script(t, `echo $$ > ${pidFile}\ntrap 'exit 0' TERM\necho up\nwhile :; do sleep 0.05; done`);
  const s = await start(t, { program: prog, killGraceMs: 100 });
  const conn = await connect(`ws://127.0.0.1:${s.port}/`);
  await once(conn, 'message');
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(alive());
  conn.close(1000);
  await once(conn, 'close');
  const deadline = Date.now() + 3000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(), false, 'SIGTERM ended the program');
});

test('a program that fails: close 1011 with its exit code', async (t) => {
  const prog = await script(t, 'echo partial\nexit 3');
  const s = await start(t, { program: prog });
  const r = await collect(await connect(`ws://127.0.0.1:${s.port}/`));
  assert.deepEqual(r.messages, ['partial']);
  assert.equal(r.code, 1011);
  assert.equal(r.reason, 'exit code 3');
});

test('a program killed by a signal: close 1011 naming the signal', async (t) => {
  const prog = await script(t, 'kill -KILL $$');
  const s = await start(t, { program: prog });
  const r = await collect(await connect(`ws://127.0.0.1:${s.port}/`));
  assert.equal(r.code, 1011);
  assert.equal(r.reason, 'killed by SIGKILL');
});

test('a line over --max-line closes with 1009; a last line without newline is still sent', async (t) => {
  const prog = await script(t, `echo short\nhead -c 5000 /dev/zero | tr '\\\\0' x\necho`);
  const s = await start(t, { program: prog, maxLineBytes: 1000 });
  const r = await collect(await connect(`ws://127.0.0.1:${s.port}/`));
  assert.deepEqual(r.messages, ['short']);
  assert.equal(r.code, 1009);
  assert.match(r.reason, /longer than 1000 bytes/);

  const tail = await script(t, `printf 'one\\ntwo'`);
  const s2 = await start(t, { program: tail });
  const r2 = await collect(await connect(`ws://127.0.0.1:${s2.port}/`));
  assert.deepEqual(r2.messages, ['one', 'two']);
  assert.equal(r2.code, 1000);
});

test('the program sees the CGI-style environment', async (t) => {
  const prog = await script(t, 'echo "$REMOTE_ADDR|$SERVER_PORT|$PATH_INFO|$QUERY_STRING|$HTTP_ORIGIN|$REQUEST_URI"\n[ -n "$REMOTE_PORT" ] && echo port-ok');
  const s = await start(t, { program: prog });
  const r = await collect(await connect(`ws://127.0.0.1:${s.port}/room/7?user=ada`, { origin: 'http://example.test' }));
  assert.deepEqual(r.messages, [`127.0.0.1|${s.port}|/room/7|user=ada|http://example.test|/room/7?user=ada`, 'port-ok']);
});

test('--allow-origin refuses other origins with 403', async (t) => {
  const s = await start(t, { program: 'cat', allowOrigins: ['http://good.test'] });
  await assert.rejects(connect(`ws://127.0.0.1:${s.port}/`, { origin: 'http://evil.example' }), (e: Error & { status?: number }) => e.status === 403);
  const ok = await connect(`ws://127.0.0.1:${s.port}/`, { origin: 'http://good.test' });
  ok.close(1000);
  await once(ok, 'close');
});

test('missing or non-executable program: a one-line usage error before listening', async (t) => {
  await assert.rejects(execCommand(['--port', '0', '--', './no-such-program']), (e: Error) => e instanceof UsageError && /no such file/.test(e.message));
  await assert.rejects(execCommand(['--port', '0', '--', 'no-such-program-xyz']), (e: Error) => e instanceof UsageError && /not found on PATH/.test(e.message));
  const prog = await script(t, 'echo hi');
  await chmod(prog, 0o644);
  await assert.rejects(execCommand(['--port', '0', '--', prog]), (e: Error) => e instanceof UsageError && /not executable/.test(e.message));
  await assert.rejects(execCommand(['--port', '0']), UsageError);
  await assert.rejects(execCommand(['--max-line', 'lots', '--', 'cat']), /--max-line must be a number/);
});

test('backpressure: a reader that stops reading pauses the program; nothing is lost', async (t) => {
  // 20,000 numbered lines of 1 KB: more than the kernel's socket buffers hold on loopback.
  const N = 20_000;
  const prog = await script(t, `i=0; pad=$(printf '%01000d' 0); seq 1 ${N} | while read i; do echo "$i $pad"; done`);
  const s = await start(t, { program: prog, highWaterMark: 64 * 1024 });
  const conn = await connect(`ws://127.0.0.1:${s.port}/`);
  const socket = conn.rawSocket;
  socket.pause();
  let count = 0;
  let last = '';
  let inOrder = true;
  conn.on('message', (d: Buffer) => {
    const v = d.toString().split(' ')[0]!;
    if (Number(v) !== count + 1) inOrder = false;
    count++;
    last = v;
  });
  const closed = once(conn, 'close');
  // While nobody reads, the program's output backs up into the socket and the server pauses it.
  const deadline = Date.now() + 3000;
  while (s.pauses === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(s.pauses > 0, 'stdout was paused');
  socket.resume();
  const [code] = (await closed) as [number];
  assert.equal(code, 1000);
  assert.equal(count, N);
  assert.equal(last, String(N));
  assert.ok(inOrder);
});
