/**
 * The load process of the http-saturation scenario: autocannon, alone in its
 * own process (never the server's, never the runner's), so its CPU use can be
 * read with process.cpuUsage and a client-bound run can be told apart from a
 * server-bound one. Driven over IPC: `run` → `result`.
 */
import autocannon from 'autocannon';
import { serveParent } from '../../runner/child.ts';
import type { CannonCalls } from './cannon.ts';

serveParent<CannonCalls>({
  async run(m) {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const r = await autocannon({
      url: m.url,
      method: 'GET',
      connections: m.connections,
      pipelining: 1,
      duration: m.durationSec,
      headers: m.headers,
      // Only 127.0.0.1 is ever targeted; no retries, no redirects: every answer counts as it is.
      timeout: 10,
    });
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const statusCodes: Record<string, number> = {};
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
    return {
      requests: r.requests.total,
      durationSec: r.duration,
      requestsPerSecAvg: r.requests.average,
      latency: {
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        p999: r.latency.p99_9,
        mean: r.latency.mean,
        max: r.latency.max,
        min: r.latency.min,
      },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      statusCodes,
      bytesRead: r.throughput.total,
      cpuMs,
      wallMs,
      cpuPct: wallMs > 0 ? (100 * cpuMs) / wallMs : 0,
    };
  },
});
