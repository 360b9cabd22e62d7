/** A program's stdout as text frames, a line each (exec/lines.ts), tested without a process or a socket. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineFramer } from '../../exec/lines.ts';

/** The payloads of the unmasked text frames back to back in `b` (every frame FIN + text). */
function texts(frames: Buffer[]): string[] {
  const out: string[] = [];
  for (const b of frames) {
    for (let o = 0; o < b.length; ) {
      assert.equal(b[o], 0x81, 'FIN + text');
      let n = b[o + 1]!;
      o += 2;
      if (n === 126) {
        n = b.readUInt16BE(o);
        o += 2;
      } else if (n === 127) {
        n = Number(b.readBigUInt64BE(o));
        o += 8;
      }
      out.push(b.toString('utf8', o, o + n));
      o += n;
    }
  }
  return out;
}

test('lines of one chunk leave as one buffer; a line split over chunks waits for its end; \\r\\n loses its \\r', () => {
  const f = new LineFramer(100);
  const a = f.push(Buffer.from('one\r\ntwo\nthr'));
  assert.equal(a.frames.length, 1, 'one buffer for the chunk');
  assert.deepEqual(texts(a.frames), ['one', 'two']);
  assert.equal(a.tooLong, false);
  const b = f.push(Buffer.from('ee\nfour'));
  assert.deepEqual(texts(b.frames), ['three']);
  assert.deepEqual(texts([f.flush()!]), ['four'], 'a last line without its newline');
  assert.equal(f.flush(), undefined);
});

test('the kept part of a line is a copy: the stream may reuse its chunk', () => {
  const f = new LineFramer(100);
  const chunk = Buffer.from('par');
  f.push(chunk);
  chunk.fill(0x7a);
  assert.deepEqual(texts(f.push(Buffer.from('t\n')).frames), ['part']);
});

test('a line over the limit: the lines before it go out, then the stream must end', () => {
  const f = new LineFramer(5);
  const r = f.push(Buffer.from('ok\ntoo long a line\nnever\n'));
  assert.deepEqual(texts(r.frames), ['ok']);
  assert.equal(r.tooLong, true);
  // Split over chunks, the limit counts the whole line.
  const g = new LineFramer(5);
  assert.equal(g.push(Buffer.from('abc')).tooLong, false);
  assert.equal(g.push(Buffer.from('def')).tooLong, true);
  const h = new LineFramer(5);
  h.push(Buffer.from('abc'));
  assert.equal(h.push(Buffer.from('defg\n')).tooLong, true);
});

test('frames past 125 and 65,535 bytes take the 16- and 64-bit lengths; bytes that are not UTF-8 become U+FFFD', () => {
  const f = new LineFramer(1 << 20);
  const mid = 'm'.repeat(300);
  const big = 'b'.repeat(70_000);
  assert.deepEqual(texts(f.push(Buffer.from(`${mid}\n${big}\n`)).frames), [mid, big]);
  assert.deepEqual(texts(f.push(Buffer.from([0x61, 0xff, 0x62, 0x0a])).frames), ['a\uFFFDb']);
});
