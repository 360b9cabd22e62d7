/**
 * The Redis a run uses as its backplane and agent channel: Debian's redis-server
 * (scripts/ensure-redis.sh installs it), started on a free port with no persistence in a
 * temporary directory of its own, and stopped when the run ends.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../servers/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

const ENSURE = new URL('../scripts/ensure-redis.sh', import.meta.url).pathname;

/**
 * A client whose connection errors surface as failed commands (its 'error' events would otherwise
 * end the process). The URL is taken whole: `redis://:password@host:port` or
 * `redis://user:password@…` authenticates (Redis AUTH), `rediss://` speaks TLS, verifying the
 * server's certificate against the system's CAs or the PEM file named by LAB_REDIS_CA.
 */
export function redisClient(url: string) {
  const ca = process.env['LAB_REDIS_CA'];
  const c = createClient({ url, ...(ca && url.startsWith('rediss:') && { socket: { tls: true as const, ca: readFileSync(ca) } }) });
  c.on('error', () => {});
  return c;
}

/** A connected-or-not Redis client of the lab. */
export type RedisClient = ReturnType<typeof redisClient>;

/** A redis-server this process started. */
export interface LabRedis {
  /** `redis://host:port`. */
  url: string;
  pid: number;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Installs redis-server through the project's script when it is missing (needs root and apt-get). */
function ensureRedis(): void {
  execFileSync('sh', [ENSURE], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Where a lab Redis runs: by default 127.0.0.1 on a free port, in this network namespace. */
interface RedisPlace {
  /** The address clients reach it at (default 127.0.0.1). */
  host?: string;
  /** Addresses it binds (default `host`), e.g. `0.0.0.0` inside a namespace a test made. */
  bind?: string;
  /** Port (default: a free one on `host`, found from this namespace). */
  port?: number;
  /** A command prefix to run it in, e.g. `ip netns exec NS`. */
  wrap?: string[];
  /** A password clients must give (Redis AUTH as the default user); the URL carries it. */
  password?: string;
  /** Listen with TLS only, with this certificate and key (PEM); the URL is `rediss://`. */
  tls?: { cert: string; key: string };
}

/**
 * Starts a redis-server on `host` (default 127.0.0.1) and a free port; resolves once it
 * answers PING. `maxClients` is raised with the run's connections in mind (agents, nodes).
 */
export async function startRedis(o: RedisPlace = {}): Promise<LabRedis> {
  ensureRedis();
  const host = o.host ?? '127.0.0.1';
  const wrap = o.wrap ?? [];
  const port = o.port ?? (await freePort(host));
  const dir = mkdtempSync(join(tmpdir(), 'lab-redis-'));
  const args = [
    ...(o.tls ? tlsArgs(dir, port, o.tls) : ['--port', String(port)]),
    '--bind',
    o.bind ?? host,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--maxclients',
    '1000',
    '--loglevel',
    'warning',
  ];
  // From a file of its own, so the password is never on a command line (ps shows those).
  if (o.password !== undefined) {
    writeFileSync(join(dir, 'auth.conf'), `requirepass "${o.password.replace(/["\\]/g, '')}"\n`, { mode: 0o600 });
    args.unshift(join(dir, 'auth.conf'));
  }
  // `wrap` runs it inside something (`ip netns exec NS`): a test's network namespace.
  const [cmd, ...rest] = [...wrap, 'redis-server', ...args];
  const proc: ChildProcess = spawn(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let failed: Error | undefined;
  // A program that cannot be started (not installed) is reported here, not thrown from an unheard 'error' event.
  proc.once('error', (e) => {
    failed = e;
  });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-2000);
  });
  const auth = o.password === undefined ? '' : `:${encodeURIComponent(o.password)}@`;
  const url = `${o.tls ? 'rediss' : 'redis'}://${auth}${host}:${port}`;
  const deadline = Date.now() + 10_000;
  // A Redis that did not start leaves no directory behind.
  const giveUp = (message: string): Error => {
    rmSync(dir, { recursive: true, force: true });
    return new Error(message);
  };
  for (;;) {
    if (failed) throw giveUp(`cannot start ${cmd} (${failed.message}); scripts/ensure-redis.sh installs redis-server`);
    if (proc.exitCode !== null) throw giveUp(`redis-server exited (code ${proc.exitCode}): ${stderr.trim()}`);
    try {
      const c = createClient({ url, socket: { reconnectStrategy: false, ...(o.tls && { tls: true as const, ca: o.tls.cert }) } });
      c.on('error', () => {});
      await c.connect();
      await c.ping();
      c.destroy();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw giveUp(`redis-server did not answer on ${url} within 10 s: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: proc.pid!,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server's flags for TLS only on `port` (certificate and key written into its directory); clients need not show a certificate. */
function tlsArgs(dir: string, port: number, tls: { cert: string; key: string }): string[] {
  writeFileSync(join(dir, 'tls.crt'), tls.cert);
  writeFileSync(join(dir, 'tls.key'), tls.key, { mode: 0o600 });
  const files = ['--tls-cert-file', join(dir, 'tls.crt'), '--tls-key-file', join(dir, 'tls.key'), '--tls-ca-cert-file', join(dir, 'tls.crt')];
  return ['--port', '0', '--tls-port', String(port), ...files, '--tls-auth-clients', 'no'];
}

/** Redis's own CPU so far (user + system), ms, from INFO cpu. */
export function redisCpuMs(info: string): number {
  const v = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return Math.round((v('used_cpu_user') + v('used_cpu_sys')) * 1000);
}
