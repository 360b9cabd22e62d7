/**
 * A load grows between steps without reconnecting what it holds: the processes running connect
 * their share of the new clients beside the old, and a process is forked only when more are asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../runner/session.ts';

// Short polling holds no subscription on the server: it shows the growth by its deliveries alone.
for (const row of ['websocket', 'sse', 'polling'] as const) {
  test(`${row}: growLoads adds subscribers beside those connected, forking only for new processes`, { timeout: 60_000 }, async () => {
    const s = new Session(row, {}, { wsClient: 'own' });
    try {
      await s.startServer();
      const spec = { pollIntervalMs: 100, headers: 'minimal' as const };
      await s.startLoad({ ...spec, clients: 2, processes: 1 });
      const first = s.loads[0];
      await s.growLoads({ ...spec, clients: 3, processes: 1 }, (i) => `a${i}c`);
      assert.equal(s.loads.length, 1, 'one process asked for: no fork');
      assert.equal(s.loads[0], first, 'the same process holds the new clients');
      if (row !== 'polling') assert.equal((await s.counters()).subscribers, 5);
      await s.growLoads({ ...spec, clients: 4, processes: 2 }, (i) => `b${i}c`);
      assert.equal(s.loads.length, 2, 'a second process for the second share');
      if (row !== 'polling') assert.equal((await s.counters()).subscribers, 9, 'nobody was reconnected twice or lost');
      // Every subscriber, old and new, gets what is published now.
      await s.arm(1);
      await s.measure(1);
      const pub = await s.server.ask({ type: 'publish', rate: 100, size: 64, durationMs: 50 }, 10_000);
      await s.drain(pub.last * 9, 10_000);
      const done = await Promise.all(s.loads.map((l) => l.ask({ type: 'finish', first: 1, last: pub.last }, 10_000)));
      assert.equal(
        done.reduce((a, r) => a + r.delivered, 0),
        pub.last * 9,
      );
    } finally {
      await s.close();
    }
  });
}
