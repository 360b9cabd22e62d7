/** Shared by the exec hardening tests: an exec server in its own process, its RSS, raw clients. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../run.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Resolves after `ms`. */

/** `run.ts exec` in a child process (so its RSS is the server's alone), on a free port. */
export async function spawnExec(t: TestContext, argv: string[]): Promise<{ pid: number; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, 'exec', '--port', '0', ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => {
    child.kill('SIGTERM');
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('exec server did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      const m = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error('exec server exited')));
  });
  return { pid: child.pid!, port };
}

/** Resident set size of process `pid` in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** True while process `pid` exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; Z is a zombie not yet reaped by its parent.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A shell script in a temporary folder, removed after the test. */
export async function script(t: TestContext, body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'exec-hardening-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'prog.sh');
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** A raw TCP client that completes a WebSocket handshake on `port`, then is left to the caller. */
export async function rawUpgrade(port: number, extra: string[] = []): Promise<{ socket: Socket; status: number }> {
  const socket = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET / HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      ...extra,
      '',
      '',
    ].join('\r\n'),
  );
  // Read just the status line and head; the frames after it are left in the socket.
  const status = await new Promise<number>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return { socket, status };
}
