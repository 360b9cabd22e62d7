/** http-saturation for real at a tiny scale: autocannon in its own process against GET /poll, 204 and 200 variants. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpSaturation, type HttpSaturationParams, type HttpSaturationRowExtra } from '../../scenarios/http-saturation/index.ts';
import { liveChildren } from '../../runner/session.ts';
import { readHttpSaturation } from '../../scenarios/http-saturation/schema.ts';
import { whyNot, type RunContext } from '../../scenarios/contract.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };
const P: HttpSaturationParams = { connections: 4, durationSec: 1, warmupSec: 0, pollIntervalMs: 2000, size: 64, headers: 'minimal', longPollTimeoutMs: 25_000 };

test('skips the transports without a request per update, saying why from their delivery', () => {
  assert.match(whyNot(httpSaturation, 'sse', P) ?? '', /^SSE holds one streaming response per client/);
  for (const t of ['websocket', 'ws']) assert.match(whyNot(httpSaturation, t, P) ?? '', /^WebSocket sends frames on one upgraded connection/);
  for (const t of ['polling', 'long-polling']) assert.equal(whyNot(httpSaturation, t, P), null);
});

for (const t of ['polling', 'long-polling'] as const) {
  test(`${t}: requests/s, latency and CPU for an empty and a one-message poll`, { timeout: 30_000 }, async () => {
    const r = await httpSaturation.run(t, P, ctx);
    assert.equal(r.state, 'completed', r.error ?? '');
    assert.equal(liveChildren.size, 0, 'every child process is gone after the run');
    const x = r.extra as unknown as HttpSaturationRowExtra;
    const byName = new Map(x.variants.map((v) => [v.name, v]));
    const empty = byName.get('empty')!;
    const message = byName.get('message')!;
    assert.ok(empty.requestsPerSec > 0 && message.requestsPerSec > 0);
    assert.ok((empty.statusCodes['204'] ?? 0) > 0 && !empty.statusCodes['200'], JSON.stringify(empty.statusCodes));
    assert.ok((message.statusCodes['200'] ?? 0) > 0 && !message.statusCodes['204'], JSON.stringify(message.statusCodes));
    assert.ok(message.bytesDownPerRequest > empty.bytesDownPerRequest + P.size, 'the message poll carries the payload');
    for (const v of x.variants) {
      assert.equal(v.errors, 0);
      assert.equal(v.statusCodes[String(v.expectedStatus)], v.requests, 'every answer has the expected status');
      assert.ok(v.latencyMs.p50 !== undefined && v.latencyMs.p99 !== undefined && v.latencyMs.p99 >= v.latencyMs.p50);
      assert.ok(v.latencyMs.max! >= v.latencyMs.p99);
      // requests/s is the answers over autocannon's own run time, which is the run asked for.
      assert.ok(
        Math.abs(v.requestsPerSec * P.durationSec - v.requests) <= v.requests * 0.2,
        `${v.requestsPerSec} req/s for ${v.requests} answers in ${P.durationSec} s`,
      );
      assert.ok(v.server.cpuMs > 0 && v.client.cpuMs > 0);
      assert.equal(v.client.clientBound, v.client.cpuPct >= 90);
      const bound = v.server.cpuPct >= 90 ? (v.client.cpuPct >= 90 ? 'both' : 'server') : v.client.cpuPct >= 90 ? 'client' : 'neither';
      assert.equal(v.bound, bound);
      // A request line and a status line at the least each way.
      assert.ok(v.bytesUpPerRequest > 20 && v.bytesDownPerRequest > 20, `${v.bytesUpPerRequest} B up, ${v.bytesDownPerRequest} B down`);
    }
    const read = readHttpSaturation(x);
    assert.equal(read?.requestsPerSec, x.requestsPerSec);
    assert.equal(x.primary, t === 'polling' ? 'empty' : 'message');
    const primary = byName.get(x.primary)!;
    assert.equal(x.requestsPerSec, primary.requestsPerSec);
    if (t === 'polling') assert.equal(x.maxClientsAtPollInterval, Math.round(empty.requestsPerSec * 2));
    else assert.equal(x.maxClientsAtPollInterval, undefined, 'a capacity in polling clients only for short polling');
    assert.equal(r.client?.processes, 1);
    assert.equal(r.client?.clientBound, primary.client.clientBound);
    assert.equal(r.server?.cpuMs, primary.server.cpuMs);
    assert.ok(r.wire && r.wire.requests >= empty.requests + message.requests);
  });
}
