/**
 * After a server restart the history starts again, and a client comes back
 * with a Last-Event-ID or cursor ahead of the newest message. Refusing it (400) ends a browser
 * EventSource for good; the servers answer with the stream or poll and an explicit reset.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { KINDS, raw } from './helpers.ts';

for (const { suffix, label } of KINDS) {
  describe(`a cursor from before a restart (${label})`, () => {
    test('sse: Last-Event-ID ahead of the newest message gets the stream with a reset event', async (t) => {
      const { server, baseUrl } = await startServer(t, `sse${suffix}`);
      for (const m of ['a', 'b', 'c']) server.hub.publish(m);
      const c = await raw(baseUrl);
      t.after(() => c.sock.destroy());
      c.sock.write('GET /events HTTP/1.1\r\nHost: lab\r\nLast-Event-ID: 500\r\n\r\n');
      await waitFor(() => c.text().includes('data: c'), 'the replay', 3000);
      assert.match(c.text(), /^HTTP\/1.1 200 /);
      assert.match(c.text(), /event: reset\ndata: \{"lastEventId":500,"newest":3\}\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n/);
      server.hub.publish('d');
      await waitFor(() => c.text().includes('id: 4\ndata: d'), 'live events after the replay', 3000);
    });

    for (const base of ['polling', 'long-polling']) {
      test(`${base}: a cursor ahead of the newest message is answered at once with reset and the history`, async (t) => {
        const { server, baseUrl } = await startServer(t, base + suffix, { longPollTimeoutMs: 30_000 });
        server.hub.publish('a');
        server.hub.publish('b');
        const r = await fetch(`${baseUrl}/poll?cursor=77`, { signal: AbortSignal.timeout(3000) });
        assert.equal(r.status, 200);
        const body = (await r.json()) as { next: number; reset?: boolean; messages: { id: number; data: string }[] };
        assert.equal(body.reset, true);
        assert.equal(body.next, 2);
        assert.deepEqual(
          body.messages.map((m) => m.data),
          ['a', 'b'],
        );
      });
    }

    test('polling: an empty history still answers a reset, with the cursor to use', async (t) => {
      const { baseUrl } = await startServer(t, `polling${suffix}`);
      const r = await fetch(`${baseUrl}/poll?cursor=9`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { next: 0, gap: null, reset: true, messages: [] });
    });
  });
}
