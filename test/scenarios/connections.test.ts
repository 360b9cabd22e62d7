/** connections for real at a tiny scale: idle subscribers held, memory and CPU per connection read from the server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connections, fdsPerClient, openFilesLimit, processesFor, type ConnectionsParams, type ConnectionsRowExtra } from '../../scenarios/connections/index.ts';
import { liveChildren } from '../../runner/session.ts';
import { readConnections } from '../../scenarios/connections/schema.ts';
import type { RunContext } from '../../scenarios/contract.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal };
const P: ConnectionsParams = {
  steps: [200],
  holdMs: 1000,
  heartbeatIntervalMs: 500,
  maxMissed: 2,
  pollIntervalMs: 500,
  longPollTimeoutMs: 25_000,
  headers: 'minimal',
  loadProcesses: 1,
};

test('load processes are added when the open-files limit asks', () => {
  assert.equal(fdsPerClient('ws'), 1);
  assert.equal(fdsPerClient('polling'), 2);
  assert.equal(fdsPerClient('sse'), 1);
  assert.equal(processesFor('ws', 1000, 20_000, 1), 1);
  assert.equal(processesFor('ws', 10_000, 1024, 1), Math.ceil(10_000 / Math.floor(1024 * 0.9 - 64)));
  assert.equal(processesFor('polling', 10_000, 20_000, 1), 2);
  assert.equal(processesFor('ws', 3, null, 8), 3, 'never more processes than subscribers');
  const lim = openFilesLimit();
  if (process.platform === 'linux') assert.ok(lim && lim.soft > 0 && lim.hard >= lim.soft);
});

for (const t of ['ws', 'sse', 'polling'] as const) {
  test(`${t}: 200 idle connections cost memory and some CPU`, { timeout: 30_000 }, async () => {
    // A second step beyond any open-files limit is skipped with its reason, not run.
    const r = await connections.run(t, { ...P, steps: [200, 1_000_000] }, ctx);
    assert.equal(r.state, 'completed', r.error ?? '');
    assert.equal(liveChildren.size, 0, 'every child process is gone after the run');
    const x = r.extra as unknown as ConnectionsRowExtra;
    const steps = readConnections(x)?.steps;
    assert.ok(steps && steps.length === 1, 'one step measured');
    const s = x.steps[0]!;
    assert.equal(s.connections, 200);
    assert.ok(s.rssPerConnBytes > 0 && s.rssPerConnBytes < 1_000_000, `rssPerConnBytes ${s.rssPerConnBytes}`);
    assert.ok(s.heapBytes > x.baseline.heapBytes, 'the heap grew');
    assert.ok(s.cpuPct >= 0 && s.cpuPct < 200);
    assert.ok(s.socketsOpen >= 200, `sockets open ${s.socketsOpen}`);
    if (t !== 'polling') assert.equal(s.subscribers, 200);
    else assert.ok(s.requestsPerSec > 200, `polls/s ${s.requestsPerSec}`);
    assert.equal(x.gcExposed, true);
    if (openFilesLimit()) assert.equal(x.skipped[0]?.connections, 1_000_000);
    assert.equal(r.server?.connections, 200);
    assert.ok(r.wire && r.wire.requests >= 200);
  });
}
