/**
 * The load process of the http-saturation scenario: autocannon, alone in its
 * own process (never the server's, never the runner's), so its CPU use can be
 * read with process.cpuUsage and a client-bound run can be told apart from a
 * server-bound one. Driven over IPC: `run` → `result`.
 */
import autocannon from 'autocannon';
import { installChildGuards, type Msg } from '../../runner/child.ts';

installChildGuards();
const reply = (m: Msg) => process.send!(m);

process.on('message', async (m: Msg) => {
  switch (m.type) {
    case 'run': {
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const r = await autocannon({
        url: String(m['url']),
        method: 'GET',
        connections: Number(m['connections']),
        pipelining: 1,
        duration: Number(m['durationSec']),
        headers: (m['headers'] as Record<string, string>) ?? {},
        // Only 127.0.0.1 is ever targeted; no retries, no redirects: every answer counts as it is.
        timeout: 10,
      });
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const statusCodes: Record<string, number> = {};
      for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = s.count ?? 0;
      reply({
        type: 'result',
        requests: r.requests.total,
        durationSec: r.duration,
        requestsPerSecAvg: r.requests.average,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p999: r.latency.p99_9, mean: r.latency.mean, max: r.latency.max, min: r.latency.min },
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        statusCodes,
        bytesRead: r.throughput.total,
        cpuMs,
        wallMs,
        cpuPct: wallMs > 0 ? (100 * cpuMs) / wallMs : 0,
      });
      break;
    }
    case 'exit':
      process.exit(0);
  }
});
