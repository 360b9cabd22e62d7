/**
 * A request body sent a byte at a time must time out (408) — without the
 * timeout reaching the long polls and event streams the servers hold open on purpose. The
 * body timeout is lowered to 300 ms here; each wait is bounded to a few seconds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { KINDS, raw } from './helpers.ts';

for (const { suffix, label } of KINDS) {
  describe(`request bodies time out (${label})`, () => {
    for (const path of ['/publish', '/send?client=a']) {
      test(`POST ${path} trickled a byte at a time gets 408 and its connection closes`, async (t) => {
        const { server, baseUrl } = await startServer(t, `long-polling${suffix}`, { bodyTimeoutMs: 300 });
        const c = await raw(baseUrl);
        t.after(() => c.sock.destroy());
        c.sock.write(`POST ${path} HTTP/1.1\r\nHost: lab\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nx`);
        const trickle = setInterval(() => c.sock.writable && c.sock.write('x'), 100);
        t.after(() => clearInterval(trickle));
        await waitFor(() => c.text().startsWith('HTTP/1.1 408'), 'a 408', 3000);
        await waitFor(() => c.closed(), 'the connection to close', 3000);
        assert.equal(server.hub.lastSeq, 0, 'nothing was published');
      });
    }

    test('held long polls and event streams outlive the body timeout', async (t) => {
      const lp = await startServer(t, `long-polling${suffix}`, { bodyTimeoutMs: 200, longPollTimeoutMs: 60_000 });
      const sse = await startServer(t, `sse${suffix}`, { bodyTimeoutMs: 200, sseHeartbeatMs: 60_000 });
      const poll = await raw(lp.baseUrl);
      const stream = await raw(sse.baseUrl);
      t.after(() => {
        poll.sock.destroy();
        stream.sock.destroy();
      });
      poll.sock.write('GET /poll?cursor=0 HTTP/1.1\r\nHost: lab\r\n\r\n');
      stream.sock.write('GET /events HTTP/1.1\r\nHost: lab\r\n\r\n');
      await waitFor(() => stream.text().includes('retry:'), 'the stream to open', 3000);
      await delay(700);
      assert.equal(poll.text(), '', 'the long poll is still held');
      assert.ok(!poll.closed() && !stream.closed(), 'both connections are open');
      lp.server.hub.publish('late');
      sse.server.hub.publish('late');
      await waitFor(() => poll.text().includes('"data":"late"') && stream.text().includes('data: late'), 'both to deliver', 3000);
    });
  });
}
