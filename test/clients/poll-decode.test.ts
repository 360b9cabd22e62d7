import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliverPollText } from '../../clients/poll-decode.ts';
import type { ClientOptions } from '../../clients/contract.ts';
import { pollBody } from '../../servers/poll-body.ts';
import type { HubMessage } from '../../servers/hub.ts';

/** What a client is handed for `text`: gaps and messages in order, and the cursor fields. */
function read(text: string) {
  const got: string[] = [];
  const o: ClientOptions = { baseUrl: 'http://x', clientId: 'c', onMessage: (d) => got.push(`m:${d}`), onGap: (f, t) => got.push(`gap:${f}-${t}`) };
  const head = deliverPollText(o, text, 1n);
  return { got, next: head.next, more: head.more === true };
}

/** The same, read by JSON.parse as the client read answers before. */
function readJson(text: string) {
  const b = JSON.parse(text) as { next: number; gap: { from: number; to: number } | null; more?: boolean; messages: { data: string }[] };
  return { got: [...(b.gap ? [`gap:${b.gap.from}-${b.gap.to}`] : []), ...b.messages.map((m) => `m:${m.data}`)], next: b.next, more: b.more === true };
}

const msg = (seq: number, data: string) => ({ seq, data }) as HubMessage;

test("the servers' answers read as JSON.parse reads them: empty, many, with gap, more and reset, escapes and non-ASCII", () => {
  const answers = [
    pollBody({ messages: [], next: 4, gap: null, more: false, reset: false }),
    pollBody({ messages: [msg(5, '1.abc.0.xxxx')], next: 6, gap: null, more: false, reset: false }),
    pollBody({
      messages: Array.from({ length: 300 }, (_, i) => msg(i + 1, `${i}.z.0.${'x'.repeat(i % 7)}`)),
      next: 301,
      gap: { from: 1, to: 3 },
      more: true,
      reset: false,
    }),
    pollBody({ messages: [msg(1, 'é—ü'), msg(2, '')], next: 3, gap: null, more: false, reset: true }),
    pollBody({ messages: [msg(1, 'a "quoted" \\ line\nnext'), msg(2, 'plain')], next: 3, gap: null, more: false, reset: false }),
  ];
  for (const text of answers) assert.deepEqual(read(text), readJson(text), text.slice(0, 120));
});

test('text in another shape is read by JSON.parse; text that is not JSON throws as it did', () => {
  const spaced = '{ "next": 9, "gap": null, "messages": [ { "id": 8, "data": "a" } ] }';
  assert.deepEqual(read(spaced), readJson(spaced));
  const reordered = '{"messages":[{"data":"b","id":1}],"next":2,"gap":null}';
  assert.deepEqual(read(reordered), readJson(reordered));
  assert.throws(() => read('{"next":1,"gap":null,"messages":[{"id":1,"data":"x"}'));
  assert.throws(() => read('not json'));
});
