import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../clients/sse-parser.ts';

/** Parses `text` fed as reads cut at every `step` bytes; returns what was dispatched and the parser. */
function parse(text: string | Buffer, step = Number.POSITIVE_INFINITY) {
  const events: string[] = [];
  const p = new SseParser({
    onMessage: (data) => events.push(`message:${data.toString('utf8')}`),
    onEvent: (type, data) => events.push(`${type}:${data}`),
  });
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let i = 0; i < bytes.length; i += step) p.push(Buffer.from(bytes.subarray(i, Math.min(bytes.length, i + step))));
  return { events, p };
}

const STREAM =
  ': hello\n\nretry: 1500\nid: 7\ndata: first\n\nid: 8\r\ndata:second\r\n\r\nevent: gap\rdata: {"from":1,"to":2}\r\rdata: a\ndata:\ndata:  b\n\nid: 9\ndata: é—ünï\n\n';
const EXPECTED = ['message:first', 'message:second', 'gap:{"from":1,"to":2}', 'message:a\n\n b', 'message:é—ünï'];

test('events, ids, retry and comments as WHATWG §9.2.6 reads them, in one read', () => {
  const { events, p } = parse(STREAM);
  assert.deepEqual(events, EXPECTED);
  assert.equal(p.lastEventId, '9');
  assert.equal(p.retryMs, 1500);
});

test('the same stream cut into reads of every size down to one byte', () => {
  for (let step = 1; step <= 12; step++) {
    const { events, p } = parse(STREAM, step);
    assert.deepEqual(events, EXPECTED, `reads of ${step} bytes`);
    assert.equal(p.lastEventId, '9');
    assert.equal(p.retryMs, 1500);
  }
});

test('a CR that ends one read and the LF that starts the next are one line end', () => {
  const p = new SseParser({ onMessage: (d) => got.push(d.toString()), onEvent: () => {} });
  const got: string[] = [];
  p.push(Buffer.from('data: x\r'));
  p.push(Buffer.from('\n\r'));
  p.push(Buffer.from('\n'));
  assert.deepEqual(got, ['x']);
});

test('an id with NUL is ignored, a retry that is not all digits is ignored, unknown fields and data-less events dispatch nothing', () => {
  const { events, p } = parse('id: 3\n\nid: a\0b\ndata: x\n\nretry: 12a\nretry\nfoo: bar\nevent: e\n\n');
  assert.deepEqual(events, ['message:x']);
  assert.equal(p.lastEventId, '3');
  assert.equal(p.retryMs, undefined);
});

test("a message's bytes stay whole when the read they came in is reused after the call", () => {
  const got: string[] = [];
  const p = new SseParser({ onMessage: (d) => got.push(d.toString()), onEvent: () => {} });
  const read = Buffer.from('data: one\ndata: two\n');
  p.push(read);
  read.fill(0x21);
  p.push(Buffer.from('\n'));
  assert.deepEqual(got, ['one\ntwo']);
});
