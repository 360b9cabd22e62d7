/**
 * nginx running in front of a session's server (`--via nginx`): started with the config of
 * path/nginx.ts in a directory of its own, on a free port, and what it costs read from /proc of
 * its master and workers. The session starts and stops it (runner/session.ts tracks it with the
 * run's other children, so an interrupted run ends it too).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { treeUsage } from '../metrics/process.ts';
import { accepts, freePort } from '../servers/ports.ts';
import { NGINX_BIN, nginxConfig } from './nginx.ts';
import type { RunPath } from './route.ts';

/** What the proxy cost during the measured phase (a row's `extra.proxy`). */
export interface ProxyTotals {
  /** CPU of nginx's master and workers during the phase, ms. */
  cpuMs: number;
  /** Their resident memory at the end, and its peak, bytes. */
  rssBytes: number;
  rssPeakBytes: number;
  processes: number;
}

/** A running nginx in front of one server. */
export class NginxProcess {
  /** Its tree's CPU when the measured phase began. */
  private cpuAtMeasure = 0;
  private stderr = '';
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly proc: ChildProcess,
    /** Its config, certificate and logs; removed when it stops. */
    readonly dir: string,
    /** The port the clients reach it on. */
    readonly port: number,
  ) {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (t: string) => {
      this.stderr = (this.stderr + t).slice(-1000);
    });
  }

  /**
   * Starts nginx in front of 127.0.0.1:`upstreamPort` on the run's path (its proxy settings, and
   * TLS ending at nginx when the run is over TLS); resolves once it accepts connections.
   * `started` is called with the process right after the spawn, so the caller can track it.
   */
  static async start(route: RunPath, upstreamPort: number, started: (p: NginxProcess) => void): Promise<NginxProcess> {
    const dir = mkdtempSync(path.join(tmpdir(), 'transport-lab-nginx-'));
    const tls = route.tls ? { certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } : undefined;
    if (tls && route.tls) {
      writeFileSync(tls.certFile, route.tls.cert);
      writeFileSync(tls.keyFile, route.tls.key, { mode: 0o600 });
    }
    const port = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(conf, nginxConfig({ ...route.via!.proxy, dir, listenPort: port, upstreamPort, maxBodyBytes: 64 * 1024 * 1024 + 4096, ...(tls && { tls }) }));
    const proc = spawn(NGINX_BIN, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const nginx = new NginxProcess(proc, dir, port);
    started(nginx);
    await new Promise<void>((resolve, reject) => {
      proc.once('error', (e) => reject(new Error(`cannot start ${NGINX_BIN} (${e.message}); scripts/ensure-nginx.sh installs it`)));
      proc.once('spawn', () => resolve());
    });
    const end = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nginx exited at start: ${nginx.stderr.trim() || `code ${proc.exitCode}`}`);
      if (await accepts(port)) return nginx;
      if (Date.now() > end) throw new Error(`nginx did not listen on ${port} within 10 s: ${nginx.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  /** The measured phase begins: its cost counts from here. */
  markMeasure(): void {
    if (this.proc.pid) this.cpuAtMeasure = treeUsage(this.proc.pid).cpuMs;
  }

  /** Its cost since the measured phase began, or undefined once it is gone. */
  totals(): ProxyTotals | undefined {
    if (!this.proc.pid || this.stopped) return undefined;
    const u = treeUsage(this.proc.pid);
    return { cpuMs: Math.round(u.cpuMs - this.cpuAtMeasure), rssBytes: u.rssBytes, rssPeakBytes: u.rssPeakBytes, processes: u.processes };
  }

  /** Ends nginx (SIGTERM, its fast shutdown: master and workers at once; SIGKILL after 2 s) and removes its files; again, the same promise. */
  kill(): Promise<void> {
    this.stopped ??= (async () => {
      const p = this.proc;
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 2000);
        await gone;
        clearTimeout(t);
      }
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}
