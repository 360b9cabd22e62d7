/**
 * A repeated poll over HTTP/2, byte for byte: the page's second identical request is a HEADERS
 * frame whose block is one byte per field (RFC 7541 §6.1, as in Appendix C.3's second request),
 * but for `:path`, which node's HPACK encoder never enters into the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameTap } from '../clients/h2-frames.ts';
import { H2Side, h2RequestHeaders } from '../clients/h2-side.ts';
import { startServer, trustedCa } from './helpers.ts';

/** RFC 7541 §5.1: an integer with an N-bit prefix at `at`; gives its value and the offset after it. */
function integer(b: Buffer, at: number, prefix: number): [number, number] {
  const max = (1 << prefix) - 1;
  let v = b[at]! & max;
  let i = at + 1;
  if (v < max) return [v, i];
  for (let m = 0; ; m += 7) {
    const byte = b[i++]!;
    v += (byte & 0x7f) * 2 ** m;
    if ((byte & 0x80) === 0) return [v, i];
  }
}

/** One field's representation (RFC 7541 §6): its kind, the index it names, and its bytes. */
interface Representation {
  kind: 'indexed' | 'incremental' | 'without' | 'never';
  index: number;
  bytes: Buffer;
}

/** Splits a header block into its representations, reading string lengths only (values stay Huffman-coded). */
function representations(block: Buffer): Representation[] {
  const out: Representation[] = [];
  let i = 0;
  while (i < block.length) {
    const start = i;
    const b = block[i]!;
    let kind: Representation['kind'];
    let index: number;
    if (b & 0x80) {
      // §6.1 Indexed Header Field
      [index, i] = integer(block, i, 7);
      out.push({ kind: 'indexed', index, bytes: block.subarray(start, i) });
      continue;
    }
    if (b & 0x40) [kind, [index, i]] = ['incremental', integer(block, i, 6)];
    else if ((b & 0xf0) === 0x10) [kind, [index, i]] = ['never', integer(block, i, 4)];
    else if ((b & 0xe0) === 0x20) throw new Error('dynamic table size update: not expected in a request');
    else [kind, [index, i]] = ['without', integer(block, i, 4)];
    // §6.2: a new name (index 0) comes as a string literal before the value.
    const strings = index === 0 ? 2 : 1;
    for (let k = 0; k < strings; k++) {
      const [len, after] = integer(block, i, 7);
      i = after + len;
    }
    out.push({ kind, index, bytes: block.subarray(start, i) });
  }
  return out;
}

test('a repeated poll over h2 sends the Chromium header set as one-byte indexes, :path as a literal', async (t) => {
  const { baseUrl } = await startServer(t, 'polling-h2');
  const side = new H2Side({ baseUrl, clientId: 'page', headers: 'browser', onMessage: () => {}, ca: trustedCa(baseUrl) });
  t.after(() => side.close());
  const taps: FrameTap[] = [];
  side.onTap = (tap) => {
    tap.up.blocks = [];
    tap.down.blocks = [];
    taps.push(tap);
  };
  assert.equal((await side.get('/poll?client=page')).status, 200);
  const path = '/poll?cursor=0&client=page';
  assert.equal((await side.get(path)).status, 204);
  assert.equal((await side.get(path)).status, 204);
  assert.equal(taps.length, 1, 'one session carries every poll of the page');
  const sent = taps[0]!.up.blocks!;
  assert.equal(sent.length, 3);

  // The fields in the order the request carried them: pseudo-header fields first (RFC 9113 §8.3).
  const fields = [':method', ':authority', ':scheme', ':path', ...Object.keys(h2RequestHeaders('browser', 'fetch', new URL(baseUrl).origin))];
  // The first request fills the table: each field is a static index or enters the dynamic table (§2.3.2).
  const first = representations(sent[0]!.block);
  assert.equal(first.length, fields.length);
  const inserted: string[] = [];
  const staticIndex = new Map<string, number>();
  first.forEach((r, k) => {
    if (r.kind === 'indexed') staticIndex.set(fields[k]!, r.index);
    if (r.kind === 'incremental') inserted.push(fields[k]!);
  });
  assert.ok(!inserted.includes(':path'), ':path is never indexed by node’s encoder');

  // The repeated request: every field but :path is the one-byte index of its entry, the newest entry being 62 (§2.3.3).
  const repeated = sent[2]!;
  const pathLiteral = representations(sent[1]!.block)[fields.indexOf(':path')]!;
  assert.equal(pathLiteral.kind, 'without');
  assert.equal(pathLiteral.index, 4, ':path names static entry 4');
  const expected = Buffer.concat(
    fields.map((f) => {
      if (f === ':path') return pathLiteral.bytes;
      const index = staticIndex.get(f) ?? 62 + (inserted.length - 1 - inserted.indexOf(f));
      assert.ok(index < 127, `${f}: an index that fits the 7-bit prefix`);
      return Buffer.from([0x80 | index]);
    }),
  );
  assert.deepEqual(repeated.block, expected);
  // The frame: HEADERS with END_STREAM and END_HEADERS (§6.2), no padding or priority, so the block is its payload.
  assert.equal(repeated.type, 'HEADERS');
  assert.equal(repeated.flags, 0x5);
  assert.equal(repeated.length, expected.length);
  assert.equal(repeated.length, fields.length - 1 + pathLiteral.bytes.length);

  // The answer's HEADERS (a 204 with its cursor): as small, only the changing fields spelled out.
  const answers = taps[0]!.down.blocks!.filter((b) => b.type === 'HEADERS');
  const reply = representations(answers.at(-1)!.block);
  assert.ok(
    reply.some((r) => r.kind === 'indexed' && r.bytes.length === 1),
    'the repeated answer reuses indexed fields',
  );
});
