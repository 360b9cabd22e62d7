/** http-saturation for real at a tiny scale: autocannon in its own process against GET /poll, 204 and 200 variants. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpSaturation, type HttpSaturationParams, type HttpSaturationRowExtra } from '../../scenarios/http-saturation/index.ts';
import { liveChildren } from '../../runner/session.ts';
import { readHttpSaturation } from '../../scenarios/http-saturation/schema.ts';
import type { RunContext } from '../../scenarios/contract.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal };
const P: HttpSaturationParams = { connections: 4, durationSec: 1, warmupSec: 0, pollIntervalMs: 2000, size: 64, headers: 'minimal', longPollTimeoutMs: 25_000 };

test('skips the transports without a request per update', () => {
  for (const t of ['sse', 'websocket', 'ws'] as const) assert.match(httpSaturation.skipReason!(t, P) ?? '', /./);
  for (const t of ['polling', 'long-polling'] as const) assert.equal(httpSaturation.skipReason!(t, P), null);
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
      assert.ok(v.latencyMs.p50 !== undefined && v.latencyMs.p99 !== undefined && v.latencyMs.p99 >= v.latencyMs.p50);
      assert.ok(v.server.cpuMs > 0 && v.client.cpuMs > 0);
    }
    const read = readHttpSaturation(x);
    assert.equal(read?.requestsPerSec, x.requestsPerSec);
    assert.equal(x.primary, t === 'polling' ? 'empty' : 'message');
    if (t === 'polling') assert.equal(x.maxClientsAtPollInterval, Math.round(empty.requestsPerSec * 2));
    assert.equal(r.client?.processes, 1);
    assert.equal(typeof r.client?.clientBound, 'boolean');
    for (const v of x.variants) assert.match(v.bound, /^(server|client|both|neither)$/);
    assert.ok(r.wire && r.wire.requests >= empty.requests + message.requests);
  });
}
