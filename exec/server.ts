/**
 * websocketd mode: any program that reads stdin and writes stdout becomes a WebSocket server on
 * the lab's engine. One process per connection; each stdout line is one text message, each
 * message received is one stdin line; the process's exit closes the connection and the close
 * code says how it ended; a closed connection ends the process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { delimiter, join, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { LineFramer } from './lines.ts';
import { cgiEnv } from './cgi-env.ts';
import { serveStatic } from './static.ts';
import { ProcessGroups, signalGroup } from './process-groups.ts';
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

/** Counters a server reports: how often a program's stdout and a connection's input were paused. */
interface BridgeStats {
  pauses: number;
  inputPauses: number;
}

/** What one connection's program needs from its server. */
interface ProgramRun {
  /** Starts the program for the request (its CGI environment), in a process group of its own. */
  spawnProgram(req: IncomingMessage): ChildProcess;
  maxLine: number;
  /** Bytes queued on the socket past which the program's stdout is paused. */
  highWater: number;
  /** How long a program has after stdin ends (then SIGTERM) and after SIGTERM (then SIGKILL), ms. */
  grace: number;
  log: (line: string) => void;
  stats: BridgeStats;
  /** The program's process group exists (what `maxForks` counts) / should be ended. */
  started(pid: number): void;
  ended(pid: number): void;
}

/** One connection's program: spawned, bridged both ways with backpressure, ended with the connection. */
function runProcess(conn: WebSocketConnection, req: IncomingMessage, run: ProgramRun): void {
  const who = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  let child: ChildProcess;
  try {
    child = run.spawnProgram(req);
  } catch (_e) {
    conn.close(CloseCode.INTERNAL_ERROR, 'cannot start program');
    return;
  }
  const pid = child.pid;
  if (pid !== undefined) run.started(pid);
  run.log(`${who} connected, pid ${pid}`);
  let connOpen = true;
  const closeConn = (code: number, reason: string) => {
    if (!connOpen) return;
    connOpen = false;
    // §5.5: a close frame's body is at most 125 bytes, 2 of them the code.
    conn.close(code, truncateReason(reason));
  };
  const ending = processEnder(child, run.grace);
  conn.once('close', (code: number) => {
    connOpen = false;
    run.log(`${who} closed (${code})`);
    ending.end();
  });
  stdoutToConn(conn, child, run, () => connOpen, closeConn, ending.end);
  connToStdin(conn, child, run.stats, ending.exited);
  child.on('error', (err) => {
    closeConn(CloseCode.INTERNAL_ERROR, `cannot start program: ${err.message}`);
  });
  // 'close' comes after stdout has ended, so every line is out before the close frame.
  child.on('close', (code, signal) => {
    const c = closeForExit(code, signal);
    run.log(`${who} pid ${pid} ended (${c.reason || 'exit code 0'})`);
    closeConn(c.code, c.reason);
    // What the program started and left behind has lost its reason too.
    if (pid !== undefined) run.ended(pid);
  });
}

/**
 * Ending a program whose connection closed: stdin end, then SIGTERM, then SIGKILL, each to its
 * whole process group, `grace` ms apart; nothing once it has exited.
 */
function processEnder(child: ChildProcess, grace: number): { end(): void; exited(): boolean } {
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  child.on('close', () => {
    exited = true;
    if (killTimer) clearTimeout(killTimer);
  });
  return {
    exited: () => exited,
    end() {
      if (exited || killTimer) return;
      child.stdin!.end();
      killTimer = setTimeout(() => {
        if (exited) return;
        signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => {
          if (!exited) signalGroup(child.pid, 'SIGKILL');
        }, grace);
        killTimer.unref();
      }, grace);
      killTimer.unref();
    },
  };
}

/** The program's stdout to the connection, a text message per line, its reading paused while the socket holds too much. */
function stdoutToConn(
  conn: WebSocketConnection,
  child: ChildProcess,
  run: ProgramRun,
  open: () => boolean,
  closeConn: (code: number, reason: string) => void,
  endProcess: () => void,
): void {
  const stdout = child.stdout!;
  const lines = new LineFramer(run.maxLine);
  const send = (frames: Buffer) => {
    if (!open()) return;
    conn.sendPrepared(frames);
    if (conn.bufferedAmount > run.highWater && !stdout.isPaused()) {
      run.stats.pauses++;
      stdout.pause();
      conn.once('drain', () => stdout.resume());
    }
  };
  stdout.on('data', (chunk: Buffer) => {
    if (!open()) return;
    const r = lines.push(chunk);
    for (const f of r.frames) send(f);
    if (!r.tooLong) return;
    closeConn(CloseCode.MESSAGE_TOO_BIG, `line longer than ${run.maxLine} bytes`);
    stdout.destroy();
    endProcess();
  });
  // A last line without '\n' goes out before the close frame the exit sends.
  child.prependListener('close', () => {
    const last = lines.flush();
    if (last) send(last);
  });
}

/**
 * Messages to the program's stdin, a line each. Backpressure the other way: while stdin is backed
 * up the connection is not read, so a client that sends faster than the program reads is held
 * back by TCP.
 */
function connToStdin(conn: WebSocketConnection, child: ChildProcess, stats: BridgeStats, exited: () => boolean): void {
  const stdin = child.stdin!;
  stdin.on('error', () => {}); // EPIPE once the program stopped reading: nothing to do.
  const input = conn.rawSocket;
  let inputPaused = false;
  stdin.on('drain', () => {
    if (!inputPaused) return;
    inputPaused = false;
    input.resume();
  });
  conn.on('message', (data: Buffer) => {
    if (exited() || !stdin.writable) return;
    stdin.write(data);
    if (!stdin.write('\n') && !inputPaused) {
      inputPaused = true;
      stats.inputPauses++;
      input.pause();
    }
  });
  // A connection not being read cannot see pongs: its pings do not count while it waits.
  conn.on('heartbeat', (e: HeartbeatEvent) => {
    if (inputPaused && e.type === 'ping') conn.missedPongs = 0;
  });
  conn.on('error', () => {});
}

/** The engine's server for the programs' connections: the allowed origins and heartbeat asked for; each refusal logged. */
function execWebSocketServer(o: ExecOptions, log: (line: string) => void): WebSocketServer {
  const wss = new WebSocketServer({
    ...(o.allowOrigins && o.allowOrigins.length > 0 && { allowOrigins: o.allowOrigins }),
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS,
    maxMissedPongs: o.maxMissedPongs ?? DEFAULT_MAX_MISSED,
  });
  wss.on('rejected', (status: number, reason: string, req: IncomingMessage) =>
    log(`refused ${req.socket.remoteAddress}:${req.socket.remotePort}: ${status} ${reason}`),
  );
  return wss;
}

/** Listens on `port` (0: one the system picks) and resolves with the port bound. */
function listen(httpServer: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      const a = httpServer.address();
      resolveListen(typeof a === 'object' && a ? a.port : port);
    });
  });
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
  const groups = new ProcessGroups(grace);
  const sockets = new Set<Socket>();
  const stats: BridgeStats = { pauses: 0, inputPauses: 0 };
  let refusedForks = 0;

  const wss = execWebSocketServer(o, log);
  const httpServer = createServer((req, res) => void serveStatic(o.staticDir, req, res));
  httpServer.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  let boundPort = 0;
  const run: ProgramRun = {
    spawnProgram: (req) =>
      spawn(programPath, args, {
        // The operator's environment wins over what the request chose (headers, path, query).
        env: { ...cgiEnv(req, boundPort, o.program), ...process.env, ...o.env },
        stdio: ['pipe', 'pipe', 'inherit'],
        // Its own process group, so ending the program also ends whatever it started.
        detached: true,
      }),
    maxLine,
    highWater,
    grace,
    log,
    stats,
    started: (pid) => groups.add(pid),
    ended: (pid) => groups.end(pid),
  };

  httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // Checked before the handshake, so a refused client sees a plain HTTP status it can retry on.
    if (groups.size >= maxForks) {
      refusedForks++;
      log(`refused ${req.socket.remoteAddress}:${req.socket.remotePort}: 503 ${groups.size} programs running (--max-forks ${maxForks})`);
      abortHandshake(socket, 503, `${maxForks} programs are running, the most this server runs at once`, { 'Retry-After': '1' });
      return;
    }
    wss.handleUpgrade(req, socket, head, (conn) => runProcess(conn, req, run));
  });

  boundPort = await listen(httpServer, o.port ?? 8080, o.host ?? '127.0.0.1');

  return {
    port: boundPort,
    httpServer,
    get connections() {
      return wss.clients.size;
    },
    get pauses() {
      return stats.pauses;
    },
    get inputPauses() {
      return stats.inputPauses;
    },
    get refusedForks() {
      return refusedForks;
    },
    async close() {
      await Promise.race([wss.close(), new Promise((r) => setTimeout(r, 1000))]);
      groups.killAll();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
