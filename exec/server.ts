/**
 * websocketd mode: any program that reads stdin and writes stdout becomes a WebSocket server on
 * the lab's engine. One process per connection; each stdout line is one text message, each
 * message received is one stdin line; the process's exit closes the connection and the close
 * code says how it ended; a closed connection ends the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { delimiter, extname, join, resolve, sep } from 'node:path';
import type { Socket } from 'node:net';
import { CloseCode, truncateReason, WebSocketServer, type WebSocketConnection } from '../protocol/index.ts';

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
  close(): Promise<void>;
}

/** Default longest line: 1 MiB. */
export const DEFAULT_MAX_LINE = 1024 * 1024;

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
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  return env;
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
  const log = o.log ?? (() => {});
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  let pauses = 0;

  const wss = new WebSocketServer({ ...(o.allowOrigins && o.allowOrigins.length > 0 && { allowOrigins: o.allowOrigins }) });
  const httpServer = createServer((req, res) => void serveStatic(o.staticDir, req, res));
  httpServer.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  wss.on('rejected', (status: number, reason: string, req: IncomingMessage) =>
    log(`refused ${req.socket.remoteAddress}:${req.socket.remotePort}: ${status} ${reason}`),
  );
  let boundPort = 0;

  httpServer.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (conn) => runProcess(conn, req));
  });

  function runProcess(conn: WebSocketConnection, req: IncomingMessage): void {
    const who = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let child: ChildProcess;
    try {
      child = spawn(programPath, args, {
        env: { ...process.env, ...cgiEnv(req, boundPort, o.program), ...o.env },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
    } catch (_e) {
      conn.close(CloseCode.INTERNAL_ERROR, 'cannot start program');
      return;
    }
    children.add(child);
    log(`${who} connected, pid ${child.pid}`);
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
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const sendLine = (line: Buffer) => {
      if (!connOpen) return;
      let end = line.length;
      if (end > 0 && line[end - 1] === 0x0d) end--;
      conn.send(line.toString('utf8', 0, end));
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
    stdout.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0 && connOpen; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (pendingBytes + piece.length > maxLine) return tooLong();
        if (pendingBytes > 0) {
          pending.push(piece);
          sendLine(Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        } else sendLine(piece);
      }
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
      children.delete(child);
      if (killTimer) clearTimeout(killTimer);
      if (pendingBytes > 0) sendLine(Buffer.concat(pending)); // a last line without '\n'
      const c = closeForExit(code, signal);
      log(`${who} pid ${child.pid} ended (${c.reason || 'exit code 0'})`);
      closeConn(c.code, c.reason);
    });

    conn.on('message', (data: Buffer) => {
      if (exited || !stdin.writable) return;
      stdin.write(data);
      stdin.write('\n');
    });
    conn.on('error', () => {});

    // A closed connection ends the process: stdin end, then SIGTERM, then SIGKILL.
    function endProcess(): void {
      if (exited || killTimer) return;
      stdin.end();
      killTimer = setTimeout(() => {
        if (exited) return;
        child.kill('SIGTERM');
        killTimer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
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
    async close() {
      await Promise.race([wss.close(), new Promise((r) => setTimeout(r, 1000))]);
      for (const c of children) c.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
