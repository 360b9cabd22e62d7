/**
 * A few large messages must not break resume. Poll replies are cut by bytes
 * as well as by count, the history is bounded by bytes as well as by count (a cursor behind it
 * learns of the gap), and a long SSE resume goes out a batch at a time. Sizes are kept small
 * (tens of kilobytes) by lowering the limits; the rules are the same at 64 MiB.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers.ts';
import { KINDS } from './helpers.ts';

interface PollBody {
  next: number;
  gap: { from: number; to: number } | null;
  more?: boolean;
  messages: { id: number; data: string }[];
}

const KB = 1024;

for (const { suffix, label } of KINDS) {
  describe(`resume under large messages (${label})`, () => {
    for (const base of ['polling', 'long-polling']) {
      test(`${base}: a poll reply is cut by bytes and the rest follows in order`, async (t) => {
        const { server, baseUrl } = await startServer(t, base + suffix, { maxBatchBytes: 4 * KB, longPollTimeoutMs: 200 });
        const sent = Array.from({ length: 10 }, (_, i) => String(i).repeat(3 * KB));
        for (const m of sent) server.hub.publish(m);
        const got: string[] = [];
        let cursor = 0;
        for (let polls = 0; got.length < sent.length; polls++) {
          assert.ok(polls < sent.length + 1, 'every poll makes progress');
          const body = (await (await fetch(`${baseUrl}/poll?cursor=${cursor}`)).json()) as PollBody;
          // One 3 KiB message fits the 4 KiB budget; a second would not.
          assert.equal(body.messages.length, 1, 'one message per 4 KiB reply');
          assert.equal(body.more, body.next < sent.length ? true : undefined);
          got.push(...body.messages.map((m) => m.data));
          cursor = body.next;
        }
        assert.deepEqual(got, sent);
      });
    }

    test('polling: one message larger than the batch budget still goes out, alone', async (t) => {
      const { server, baseUrl } = await startServer(t, `polling${suffix}`, { maxBatchBytes: KB });
      server.hub.publish('a'.repeat(8 * KB));
      server.hub.publish('b');
      const body = (await (await fetch(`${baseUrl}/poll?cursor=0`)).json()) as PollBody;
      assert.deepEqual(
        body.messages.map((m) => m.data.length),
        [8 * KB],
      );
      assert.equal(body.more, true);
    });

    test('polling: the history is bounded by bytes and a cursor behind it gets the gap', async (t) => {
      // 40 KiB of history: at most ten 4 KiB messages are kept, whatever the count bound.
      const { server, baseUrl } = await startServer(t, `polling${suffix}`, { historyBytes: 40 * KB, history: 10_000 });
      for (let i = 1; i <= 30; i++) server.hub.publish(String(i % 10).repeat(4 * KB));
      assert.equal(server.hub.firstKept, 21, 'the oldest twenty were dropped');
      const body = (await (await fetch(`${baseUrl}/poll?cursor=0`)).json()) as PollBody;
      assert.deepEqual(body.gap, { from: 1, to: 20 });
      assert.equal(body.messages[0]?.id, 21);
    });

    test('sse: a resume longer than one batch arrives whole, in order, after the gap', { timeout: 15_000 }, async (t) => {
      const { server, baseUrl } = await startServer(t, `sse${suffix}`, { maxBatchBytes: 8 * KB, historyBytes: 400 * KB });
      const total = 200;
      for (let i = 1; i <= total; i++) server.hub.publish(`${i}:${'x'.repeat(4 * KB)}`);
      // 200 × 4 KiB is twice the history: the first hundred or so are gone.
      const first = server.hub.firstKept;
      assert.ok(first > 1 && first < total, `history starts at ${first}`);
      const ac = new AbortController();
      t.after(() => ac.abort());
      const r = await fetch(`${baseUrl}/events`, { headers: { 'Last-Event-ID': '0' }, signal: ac.signal });
      assert.equal(r.status, 200);
      let text = '';
      const decoder = new TextDecoder();
      const reader = r.body!.getReader();
      const want = `id: ${total}\n`;
      while (!text.includes(want)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      assert.ok(text.includes(`event: gap\ndata: {"from":1,"to":${first - 1}}`), 'the gap comes first');
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      assert.deepEqual(
        ids,
        Array.from({ length: total - first + 1 }, (_, i) => first + i),
      );
    });
  });
}
