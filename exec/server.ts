/**
 * websocketd mode: any program that reads stdin and writes stdout becomes a WebSocket server on
 * the lab's engine. One process per connection; each stdout line is one text message, each
 * message received is one stdin line; the process's exit closes the connection and the close
 * code says how it ended; a closed connection ends the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { delimiter, extname, join, resolve, sep } from 'node:path';
import type { Socket } from 'node:net';
import { abortHandshake, CloseCode, truncateReason, WebSocketServer, type HeartbeatEvent, type WebSocketConnection } from '../protocol/index.ts';

/** Settings of an exec server. */
export interface ExecOptions {
  /** The program (a path, or a name looked up on PATH). */
  program: string;
  /** Its arguments. */
  args?: string[];
  port?: number;
  host?: string;
  /** Allowed Origin values (403 for others); empty or absent = any origin. */
  allowOrigins?: string[];
  /** Serve this folder over plain HTTP on the same port. */
  staticDir?: string;
  /** Longest stdout line in bytes; a longer one closes the connection with 1009. Default 1 MiB. */
  maxLineBytes?: number;
  /** After the connection closes: ms between stdin end and SIGTERM, and between SIGTERM and SIGKILL. Default 2000. */
  killGraceMs?: number;
  /** Extra environment for every process (on top of ours and the CGI-style variables). */
  env?: Record<string, string>;
  /** Pause the program's stdout when this many bytes wait in the socket. Default 1 MiB. */
  highWaterMark?: number;
  /** Most programs running at once; an upgrade past it is answered 503. Default 128. */
  maxForks?: number;
  /** Ping every connection this often (0 = never). Default 30,000 ms, as the lab's servers. */
  heartbeatIntervalMs?: number;
  /** Unanswered pings before a connection is dropped (and its program ended). Default 2. */
  maxMissedPongs?: number;
  /** Log a line per connection (default: no logging). */
  log?: (line: string) => void;
}

/** A running exec server. */
export interface ExecServer {
  readonly port: number;
  readonly httpServer: Server;
  /** Live connections (each with its process). */
  readonly connections: number;
  /** Times a program's stdout was paused because its socket held too much (backpressure). */
  readonly pauses: number;
  /** Times a connection stopped being read because its program's stdin was backed up. */
  readonly inputPauses: number;
  /** Upgrades refused with 503 because `maxForks` programs were running. */
  readonly refusedForks: number;
  close(): Promise<void>;
}

/** Default longest line: 1 MiB. */
export const DEFAULT_MAX_LINE = 1024 * 1024;
/** Default cap on programs running at once. */
export const DEFAULT_MAX_FORKS = 128;
/** Default ping interval, the same as the lab's servers. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** Default number of unanswered pings before a connection is dropped. */
export const DEFAULT_MAX_MISSED = 2;

/** Why a program cannot be run, or undefined when it can. Resolves bare names on PATH. */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv = process.env): { path: string } | { error: string } {
  const candidates = program.includes('/')
    ? [resolve(program)]
    : (env['PATH'] ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, program));
  let seenNotExecutable: string | undefined;
  for (const c of candidates) {
    let st;
    try {
      st = statSync(c);
    } catch {
      continue;
    }
    if (!st.isFile()) {
      seenNotExecutable ??= `${c} is not a file`;
      continue;
    }
    try {
      accessSync(c, constants.X_OK);
      return { path: c };
    } catch {
      seenNotExecutable ??= `${c} is not executable (chmod +x ${c})`;
    }
  }
  if (seenNotExecutable) return { error: `cannot run ${program}: ${seenNotExecutable}` };
  return { error: program.includes('/') ? `cannot run ${program}: no such file` : `cannot run ${program}: not found on PATH` };
}

/**
 * The close code and reason for a process that ended: 1000 for exit 0; otherwise 1011
 * ("internal error" — the server side ended abnormally) with the exit code or signal.
 */
function closeForExit(code: number | null, signal: NodeJS.Signals | null): { code: number; reason: string } {
  if (code === 0) return { code: CloseCode.NORMAL, reason: '' };
  if (code !== null) return { code: CloseCode.INTERNAL_ERROR, reason: `exit code ${code}` };
  return { code: CloseCode.INTERNAL_ERROR, reason: `killed by ${signal ?? 'a signal'}` };
}

/** The CGI-style variables websocketd gives its programs. */
function cgiEnv(req: IncomingMessage, serverPort: number, programName: string): Record<string, string> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const socket = req.socket;
  const env: Record<string, string> = {
    SERVER_SOFTWARE: 'transport-lab-exec',
    GATEWAY_INTERFACE: 'websocketd-CGI/0.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: (req.headers.host ?? '').replace(/:\d+$/, ''),
    SERVER_PORT: String(serverPort),
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: url,
    SCRIPT_NAME: '/',
    PATH_INFO: path,
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    REMOTE_ADDR: socket.remoteAddress ?? '',
    REMOTE_HOST: socket.remoteAddress ?? '',
    REMOTE_PORT: String(socket.remotePort ?? ''),
    PROGRAM: programName,
  };
  for (const [name, value] of headerEnv(req.rawHeaders)) env[name] = value;
  return env;
}

/**
 * The `HTTP_*` variables of a request's headers. Names that map to the same variable
 * (`X-Id`, `x_id`, a header sent twice) are folded into one comma-joined value, so none of them
 * silently replaces another; `Proxy` is dropped, since `HTTP_PROXY` names a proxy to many
 * programs (httpoxy, CVE-2016-5385).
 */
function headerEnv(raw: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = `HTTP_${raw[i]!.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    if (name === 'HTTP_PROXY') continue;
    const prev = out.get(name);
    out.set(name, prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`);
  }
  return out;
}

/** End of the line `buf[start, end)` without a '\r' just before its '\n'. */
function withoutCr(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === 0x0d ? end - 1 : end;
}

/**
 * Unmasked text frames (server role) for the lines `buf[bounds[0], bounds[1])`,
 * `buf[bounds[2], bounds[3])`, …, back to back in one buffer. Text frames must be UTF-8
 * (RFC 6455 §5.6): when the bytes are not, each line goes through a string, which turns bad
 * bytes into U+FFFD.
 */
function textFrames(buf: Buffer, bounds: number[]): Buffer {
  let lines: Buffer[] | undefined;
  if (!isUtf8(buf.subarray(bounds[0]!, bounds[bounds.length - 1]!))) {
    lines = [];
    for (let i = 0; i < bounds.length; i += 2) lines.push(Buffer.from(buf.toString('utf8', bounds[i]!, bounds[i + 1]!)));
  }
  const lengthOf = (i: number) => (lines ? lines[i / 2]!.length : bounds[i + 1]! - bounds[i]!);
  let total = 0;
  for (let i = 0; i < bounds.length; i += 2) {
    const n = lengthOf(i);
    total += n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < bounds.length; i += 2) {
    const n = lengthOf(i);
    out[o++] = 0x81; // FIN + text
    if (n < 126) out[o++] = n;
    else if (n < 65536) {
      out[o++] = 126;
      out.writeUInt16BE(n, o);
      o += 2;
    } else {
      out[o++] = 127;
      out.writeBigUInt64BE(BigInt(n), o);
      o += 8;
    }
    if (lines) o += lines[i / 2]!.copy(out, o);
    else if (n < 16) for (let k = bounds[i]!; k < bounds[i + 1]!; k++) out[o++] = buf[k]!;
    else o += buf.copy(out, o, bounds[i]!, bounds[i + 1]!);
  }
  return out;
}

/** Sends `signal` to every process of the group led by `pid`; false when the group is gone. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

async function serveStatic(dir: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!dir) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('This is a WebSocket endpoint (no --static folder to serve pages from).\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const root = resolve(dir);
  let file = resolve(root, `.${path}`);
  // Never outside the folder.
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
  }
}

/** Starts an exec server. Throws (before listening) when the program cannot be run. */
export async function startExec(o: ExecOptions): Promise<ExecServer> {
  const found = resolveProgram(o.program);
  if ('error' in found) throw new Error(found.error);
  const programPath = found.path;
  const args = o.args ?? [];
  const maxLine = o.maxLineBytes ?? DEFAULT_MAX_LINE;
  const grace = o.killGraceMs ?? 2000;
  const highWater = o.highWaterMark ?? 1024 * 1024;
  const maxForks = o.maxForks ?? DEFAULT_MAX_FORKS;
  const log = o.log ?? (() => {});
  /** Programs from spawn until their whole process group is gone: what `maxForks` counts. */
  const groups = new Set<number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let pauses = 0;
  let inputPauses = 0;
  let refusedForks = 0;

  const wss = new WebSocketServer({
    ...(o.allowOrigins && o.allowOrigins.length > 0 && { allowOrigins: o.allowOrigins }),
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS,
    maxMissedPongs: o.maxMissedPongs ?? DEFAULT_MAX_MISSED,
  });
  const httpServer = createServer((req, res) => void serveStatic(o.staticDir, req, res));
  httpServer.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  wss.on('rejected', (status: number, reason: string, req: IncomingMessage) =>
    log(`refused ${req.socket.remoteAddress}:${req.socket.remotePort}: ${status} ${reason}`),
  );
  let boundPort = 0;

  httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // Checked before the handshake, so a refused client sees a plain HTTP status it can retry on.
    if (groups.size >= maxForks) {
      refusedForks++;
      log(`refused ${req.socket.remoteAddress}:${req.socket.remotePort}: 503 ${groups.size} programs running (--max-forks ${maxForks})`);
      abortHandshake(socket, 503, `${maxForks} programs are running, the most this server runs at once`, { 'Retry-After': '1' });
      return;
    }
    wss.handleUpgrade(req, socket, head, (conn) => runProcess(conn, req));
  });

  /** Ends the process group led by `pid`: SIGTERM now, SIGKILL after the grace period if any member is left. */
  function endGroup(pid: number): void {
    if (!signalGroup(pid, 'SIGTERM')) {
      groups.delete(pid);
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      signalGroup(pid, 'SIGKILL');
      groups.delete(pid);
    }, grace);
    t.unref();
    timers.add(t);
  }

  function runProcess(conn: WebSocketConnection, req: IncomingMessage): void {
    const who = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let child: ChildProcess;
    try {
      child = spawn(programPath, args, {
        // The operator's environment wins over what the request chose (headers, path, query).
        env: { ...cgiEnv(req, boundPort, o.program), ...process.env, ...o.env },
        stdio: ['pipe', 'pipe', 'inherit'],
        // Its own process group, so ending the program also ends whatever it started.
        detached: true,
      });
    } catch (_e) {
      conn.close(CloseCode.INTERNAL_ERROR, 'cannot start program');
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) groups.add(pid);
    log(`${who} connected, pid ${pid}`);
    let connOpen = true;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stdout = child.stdout!;
    const stdin = child.stdin!;
    stdin.on('error', () => {}); // EPIPE once the program stopped reading: nothing to do.

    const closeConn = (code: number, reason: string) => {
      if (!connOpen) return;
      connOpen = false;
      // §5.5: a close frame's body is at most 125 bytes, 2 of them the code.
      conn.close(code, truncateReason(reason));
    };

    // Lines: cut at '\n' (a '\r' before it goes too); a line over the limit closes with 1009.
    // The lines of one stdout chunk leave as one buffer of frames in one socket write: a write
    // per line would queue an object per line, and a chunk of `yes` holds 32,768 lines.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const send = (frames: Buffer) => {
      if (!connOpen) return;
      conn.sendPrepared(frames);
      // Backpressure: stop reading the program while the socket holds too much.
      if (conn.bufferedAmount > highWater && !stdout.isPaused()) {
        pauses++;
        stdout.pause();
        conn.once('drain', () => stdout.resume());
      }
    };
    const tooLong = () => {
      closeConn(CloseCode.MESSAGE_TOO_BIG, `line longer than ${maxLine} bytes`);
      stdout.destroy();
      endProcess();
    };
    const sendPending = (tail: Buffer) => {
      pending.push(tail);
      const line = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      send(textFrames(line, [0, withoutCr(line, 0, line.length)]));
    };
    stdout.on('data', (chunk: Buffer) => {
      if (!connOpen) return;
      let start = 0;
      let nl = chunk.indexOf(0x0a);
      if (pendingBytes > 0 && nl >= 0) {
        if (pendingBytes + nl > maxLine) return tooLong();
        sendPending(chunk.subarray(0, nl));
        start = nl + 1;
        nl = chunk.indexOf(0x0a, start);
      }
      const bounds: number[] = [];
      for (; nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        if (nl - start > maxLine) break;
        bounds.push(start, withoutCr(chunk, start, nl));
        start = nl + 1;
      }
      if (bounds.length > 0) send(textFrames(chunk, bounds));
      if (nl >= 0) return tooLong();
      if (!connOpen || start >= chunk.length) return;
      const rest = chunk.subarray(start);
      if (pendingBytes + rest.length > maxLine) return tooLong();
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    });

    child.on('error', (err) => {
      closeConn(CloseCode.INTERNAL_ERROR, `cannot start program: ${err.message}`);
    });
    // 'close' comes after stdout has ended, so every line is out before the close frame.
    child.on('close', (code, signal) => {
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      if (pendingBytes > 0) sendPending(Buffer.alloc(0)); // a last line without '\n'
      const c = closeForExit(code, signal);
      log(`${who} pid ${pid} ended (${c.reason || 'exit code 0'})`);
      closeConn(c.code, c.reason);
      // What the program started and left behind has lost its reason too.
      if (pid !== undefined) endGroup(pid);
    });

    // Backpressure the other way: while the program's stdin is backed up, the connection is not
    // read, so a client that sends faster than the program reads is held back by TCP.
    const input = conn.rawSocket;
    let inputPaused = false;
    stdin.on('drain', () => {
      if (!inputPaused) return;
      inputPaused = false;
      input.resume();
    });
    conn.on('message', (data: Buffer) => {
      if (exited || !stdin.writable) return;
      stdin.write(data);
      if (!stdin.write('\n') && !inputPaused) {
        inputPaused = true;
        inputPauses++;
        input.pause();
      }
    });
    // A connection not being read cannot see pongs: its pings do not count while it waits.
    conn.on('heartbeat', (e: HeartbeatEvent) => {
      if (inputPaused && e.type === 'ping') conn.missedPongs = 0;
    });
    conn.on('error', () => {});

    // A closed connection ends the process: stdin end, then SIGTERM, then SIGKILL, each to the
    // program's whole process group.
    function endProcess(): void {
      if (exited || killTimer) return;
      stdin.end();
      killTimer = setTimeout(() => {
        if (exited) return;
        signalGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => {
          if (!exited) signalGroup(pid, 'SIGKILL');
        }, grace);
        killTimer.unref();
      }, grace);
      killTimer.unref();
    }
    conn.once('close', (code: number) => {
      connOpen = false;
      log(`${who} closed (${code})`);
      endProcess();
    });
  }

  boundPort = await new Promise<number>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => {
      httpServer.off('error', reject);
      const a = httpServer.address();
      resolveListen(typeof a === 'object' && a ? a.port : (o.port ?? 8080));
    });
  });

  return {
    port: boundPort,
    httpServer,
    get connections() {
      return wss.clients.size;
    },
    get pauses() {
      return pauses;
    },
    get inputPauses() {
      return inputPauses;
    },
    get refusedForks() {
      return refusedForks;
    },
    async close() {
      await Promise.race([wss.close(), new Promise((r) => setTimeout(r, 1000))]);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const pid of groups) signalGroup(pid, 'SIGKILL');
      groups.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
