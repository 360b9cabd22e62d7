import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import {
  encodeFrame,
  encodeClosePayload,
  encodeClose,
  describeFrame,
  writeFrameHeader,
  frameHeaderSize,
  encodeFrameInto,
  encodeFrameParts,
  Opcode,
} from '../../protocol/frame.ts';
import { FrameParser, EventCollector, parseChunks } from '../../protocol/parser.ts';
import { isValidCloseCode } from '../../protocol/close.ts';
import { prng, randomSplit } from '../../bench/fuzz-frames.ts';
import { Utf8Validator } from '../../protocol/utf8.ts';
import { mask, xorMaskRange } from '../../protocol/mask.ts';
import { assertEvents, assertFails, binary, text, plain, chunkings } from './helpers.ts';

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const server = { role: 'server' } as const;
const client = { role: 'client' } as const;
/** A client→server (masked) frame. */
const c2s = (payload: Buffer | string, opcode: number = Opcode.TEXT, fin = true): Buffer => encodeFrame(payload, { opcode, fin, mask: KEY });
/** A server→client (unmasked) frame. */
const s2c = (payload: Buffer | string, opcode: number = Opcode.TEXT, fin = true): Buffer => encodeFrame(payload, { opcode, fin });
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const cat = (...b: Buffer[]): Buffer => Buffer.concat(b);
/** Raw header bytes with an explicit masking key, for frames the encoder refuses to make. */
const rawMasked = (b0: number, lenBytes: Buffer, payload: Buffer): Buffer => {
  const p = Buffer.from(payload);
  mask(p, KEY);
  return cat(Buffer.from([b0]), Buffer.from([lenBytes[0]! | 0x80]), lenBytes.subarray(1), KEY, p);
};

test('RFC 6455 §5.7 examples encode to the exact bytes', () => {
  assert.equal(s2c('Hello').toString('hex'), '810548656c6c6f');
  assert.equal(c2s('Hello').toString('hex'), '818537fa213d7f9f4d5158');
  assert.equal(s2c('Hel', Opcode.TEXT, false).toString('hex'), '010348656c');
  assert.equal(s2c('lo', Opcode.CONTINUATION).toString('hex'), '80026c6f');
  assert.equal(s2c('Hello', Opcode.PING).toString('hex'), '890548656c6c6f');
  assert.equal(encodeFrame('Hello', { opcode: Opcode.PONG, mask: KEY }).toString('hex'), '8a8537fa213d7f9f4d5158');
  assert.equal(s2c(Buffer.alloc(256), Opcode.BINARY).subarray(0, 4).toString('hex'), '827e0100');
  assert.equal(s2c(Buffer.alloc(65536), Opcode.BINARY).subarray(0, 10).toString('hex'), '827f0000000000010000');
});

test('RFC 6455 §5.7 examples decode', () => {
  assertEvents(hex('810548656c6c6f'), client, [text('Hello')]);
  assertEvents(hex('818537fa213d7f9f4d5158'), server, [text('Hello')]);
  assertEvents(hex('010348656c 80026c6f'), client, [text('Hello')]);
  assertEvents(hex('890548656c6c6f'), client, [{ type: 'ping', hex: Buffer.from('Hello').toString('hex') }]);
  assertEvents(hex('8a8537fa213d7f9f4d5158'), server, [{ type: 'pong', hex: Buffer.from('Hello').toString('hex') }]);
});

test('7-, 16- and 64-bit length forms at their boundaries, both directions, any chunking', () => {
  for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70001]) {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
    const form = size < 126 ? 7 : size < 65536 ? 16 : 64;
    for (const masked of [true, false]) {
      const f = masked ? c2s(payload, Opcode.BINARY) : s2c(payload, Opcode.BINARY);
      assert.equal(f.length, frameHeaderSize(size, masked) + size);
      const d = describeFrame(f);
      assert.equal(d.lengthForm, form, `length form for ${size}`);
      assert.equal(d.payloadLength, size);
      assert.equal(d[masked ? 'maskingKey' : 'opcodeName'], masked ? KEY.toString('hex') : 'binary');
      assert.equal(d.payload.equals(payload), true);
      assertEvents(f, masked ? server : client, [binary(payload)]);
    }
  }
});

test('several frames written into one buffer parse back in order', () => {
  const payloads = ['a', 'x'.repeat(200), '', '€uro'].map((s) => Buffer.from(s));
  const total = payloads.reduce((n, p) => n + frameHeaderSize(p.length, true) + p.length, 0);
  const out = Buffer.alloc(total);
  let o = 0;
  for (const p of payloads) o = encodeFrameInto(out, o, p, Opcode.TEXT, true, false, true);
  assert.equal(o, total);
  assertEvents(
    out,
    server,
    payloads.map((p) => text(p.toString())),
  );
  // header-only writer + separate payload (vectored write)
  const h = Buffer.alloc(14);
  const end = writeFrameHeader(h, 0, 300, Opcode.BINARY, true, false, null);
  assert.equal(h.subarray(0, end).toString('hex'), '827e012c');
  const [head, body] = encodeFrameParts(Buffer.from('hi'), { opcode: Opcode.TEXT });
  assert.equal(cat(head, body).toString('hex'), '81026869');
});

test('§5.1 masking: server requires masked frames, client refuses them (1002)', () => {
  assertFails(s2c('hi'), server, 'WS_ERR_UNMASKED_FRAME', 1002);
  assertFails(c2s('hi'), client, 'WS_ERR_UNEXPECTED_MASK', 1002);
  // events before the bad frame still come out, nothing after it
  assertFails(cat(c2s('ok'), s2c('bad'), c2s('never')), server, 'WS_ERR_UNMASKED_FRAME', 1002, [text('ok')]);
});

test('§5.2 RSV bits: rejected unless an extension claims them', () => {
  for (const bit of [0x40, 0x20, 0x10]) {
    const f = c2s('x');
    f[0] = f[0]! | bit;
    assertFails(f, server, 'WS_ERR_UNEXPECTED_RSV', 1002);
  }
  const f = c2s('x');
  f[0] = f[0]! | 0x40;
  assertEvents(f, { role: 'server', extensionsRsv: 0x40 }, [text('x')]);
  const g = c2s('x');
  g[0] = g[0]! | 0x20;
  assertFails(g, { role: 'server', extensionsRsv: 0x40 }, 'WS_ERR_UNEXPECTED_RSV', 1002);
});

test('§5.2 unknown opcodes fail with 1002', () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assertFails(c2s('', op), server, 'WS_ERR_INVALID_OPCODE', 1002);
  }
});

test('§5.5 control frames: at most 125 bytes, never fragmented', () => {
  assertEvents(c2s(Buffer.alloc(125, 1), Opcode.PING), server, [{ type: 'ping', hex: Buffer.alloc(125, 1).toString('hex') }]);
  // 126 bytes needs the 16-bit form: hand-made, the encoder would not refuse it
  const big = rawMasked(0x89, Buffer.from([126, 0, 126]), Buffer.alloc(126));
  assertFails(big, server, 'WS_ERR_CONTROL_FRAME_TOO_LONG', 1002);
  assertFails(c2s('', Opcode.PING, false), server, 'WS_ERR_FRAGMENTED_CONTROL_FRAME', 1002);
  assertFails(c2s('', Opcode.CLOSE, false), server, 'WS_ERR_FRAGMENTED_CONTROL_FRAME', 1002);
});

test('§5.4 fragmentation: reassembly with pings and pongs interleaved', () => {
  const stream = cat(
    c2s('He', Opcode.TEXT, false),
    c2s('p1', Opcode.PING),
    c2s('ll', Opcode.CONTINUATION, false),
    c2s('', Opcode.PONG),
    c2s('o', Opcode.CONTINUATION, true),
    c2s(Buffer.from([1, 2]), Opcode.BINARY, false),
    c2s(Buffer.from([3]), Opcode.CONTINUATION, true),
    c2s('', Opcode.TEXT, false),
    c2s('', Opcode.CONTINUATION, true),
  );
  assertEvents(stream, server, [
    { type: 'ping', hex: Buffer.from('p1').toString('hex') },
    { type: 'pong', hex: '' },
    text('Hello'),
    binary(Buffer.from([1, 2, 3])),
    text(''),
  ]);
});

test('§5.4 continuation without a start, and a new data frame inside a message, fail with 1002', () => {
  assertFails(c2s('x', Opcode.CONTINUATION), server, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002);
  assertFails(cat(c2s('a', Opcode.TEXT, false), c2s('b')), server, 'WS_ERR_EXPECTED_CONTINUATION', 1002);
  assertFails(cat(c2s('a', Opcode.BINARY, false), c2s('b', Opcode.BINARY)), server, 'WS_ERR_EXPECTED_CONTINUATION', 1002);
  assertFails(cat(c2s('a'), c2s('b', Opcode.CONTINUATION)), server, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002, [text('a')]);
});

test('§8.1 text: a code point split across fragments and across chunks is fine', () => {
  const s = 'a€😀ü';
  const bytes = Buffer.from(s);
  // split the bytes at every position into two fragments
  for (let cut = 0; cut <= bytes.length; cut++) {
    const stream = cat(c2s(bytes.subarray(0, cut), Opcode.TEXT, false), c2s(bytes.subarray(cut), Opcode.CONTINUATION));
    assertEvents(stream, server, [text(s)]);
  }
  // one fragment per byte
  const frags = [...bytes].map((b, i) => c2s(Buffer.from([b]), i === 0 ? Opcode.TEXT : Opcode.CONTINUATION, i === bytes.length - 1));
  assertEvents(cat(...frags), server, [text(s)]);
});

test('§8.1 invalid UTF-8 fails with 1007: overlongs, surrogates, > U+10FFFF, truncation', () => {
  const bad = ['c080', 'c1bf', 'e08080', 'e09fbf', 'eda080', 'edbfbf', 'f08f8080', 'f4908080', 'f5', 'ff', '80', 'bf', 'e282', 'f09f98', 'c3', '61e28261'];
  for (const h of bad) {
    assertFails(c2s(hex(h)), server, 'WS_ERR_INVALID_UTF8', 1007);
    // the same bytes in fragments, truncated sequences detected at the message end
    const b = hex(h);
    assertFails(cat(c2s(b.subarray(0, 1), Opcode.TEXT, false), c2s(b.subarray(1), Opcode.CONTINUATION)), server, 'WS_ERR_INVALID_UTF8', 1007);
  }
  const good = ['', '7f', 'c280', 'dfbf', 'e0a080', 'ed9fbf', 'ee8080', 'efbfbf', 'f0908080', 'f48fbfbf', 'f09f9880'];
  for (const h of good) assertEvents(c2s(hex(h)), server, [{ type: 'message', hex: h, isBinary: false }]);
  // binary messages carry any bytes
  assertEvents(c2s(hex('ff'), Opcode.BINARY), server, [binary(hex('ff'))]);
  // an invalid fragment fails before the message ends
  assertFails(c2s(hex('ff'), Opcode.TEXT, false), server, 'WS_ERR_INVALID_UTF8', 1007);
});

test('streaming UTF-8 validator agrees with a one-shot check on random input and random splits', () => {
  const rand = prng(42);
  const alphabet = [0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff];
  for (let n = 0; n < 3000; n++) {
    const len = Math.floor(rand() * 80);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = rand() < 0.5 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
    if (rand() < 0.3) b.write('€😀', Math.floor(rand() * Math.max(1, len - 7)));
    const expected = isUtf8(b);
    const v = new Utf8Validator();
    let ok = true;
    for (const piece of randomSplit(b, rand, 1 + Math.floor(rand() * 40))) ok = ok && v.update(piece);
    ok = ok && v.finish();
    assert.equal(ok, expected, b.toString('hex'));
  }
  // long valid text goes through the native path with edges handled in JS
  const long = Buffer.from('€'.repeat(1000) + '😀'.repeat(500));
  const v = new Utf8Validator();
  for (const piece of randomSplit(long, rand, 333)) assert.equal(v.update(piece), true);
  assert.equal(v.finish(), true);
});

test('§7.4 size limit: 1009 as soon as the length is known, also across fragments', () => {
  const options = { role: 'server', maxMessageBytes: 1000 } as const;
  assertEvents(c2s(Buffer.alloc(1000), Opcode.BINARY), options, [binary(Buffer.alloc(1000))]);
  const tooBig = c2s(Buffer.alloc(1001), Opcode.BINARY);
  assertFails(tooBig, options, 'WS_ERR_MESSAGE_TOO_BIG', 1009);
  // only the header arrived: already refused
  assert.deepEqual(plain(parseChunks([tooBig.subarray(0, 4)], options)).at(-1), { type: 'error', code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 });
  const frags = cat(c2s(Buffer.alloc(600), Opcode.BINARY, false), c2s(Buffer.alloc(401), Opcode.CONTINUATION));
  assertFails(frags, options, 'WS_ERR_MESSAGE_TOO_BIG', 1009);
  // a 2^63-ish length is a protocol error (§5.2: most significant bit MUST be 0)
  assertFails(hex('82ff 8000000000000000 00000000'), server, 'WS_ERR_INVALID_LENGTH', 1002);
  assertFails(hex('82ff 0000ffffffffffff 00000000'), server, 'WS_ERR_MESSAGE_TOO_BIG', 1009);
});

test('§5.2 lengths in their shortest form only: a longer encoding fails with 1002, both roles', () => {
  const client = { role: 'client' } as const;
  // 2 bytes of payload announced in 16 bits, then in 64 bits; 300 bytes in 64 bits.
  assertFails(hex('81fe 0002 00000000 6869'), server, 'WS_ERR_NON_MINIMAL_LENGTH', 1002);
  assertFails(hex('817e 007d'), client, 'WS_ERR_NON_MINIMAL_LENGTH', 1002);
  assertFails(hex('82ff 0000000000000002 00000000 0000'), server, 'WS_ERR_NON_MINIMAL_LENGTH', 1002);
  assertFails(hex('827f 000000000000ffff'), client, 'WS_ERR_NON_MINIMAL_LENGTH', 1002);
  // A control frame never has an extended length: that is the earlier, more specific error.
  assertFails(hex('887e 0002 03e8'), client, 'WS_ERR_CONTROL_FRAME_TOO_LONG', 1002);
  // The boundaries themselves are the shortest forms and pass.
  assertEvents(
    cat(
      s2c(Buffer.alloc(125), Opcode.BINARY),
      s2c(Buffer.alloc(126), Opcode.BINARY),
      s2c(Buffer.alloc(65535), Opcode.BINARY),
      s2c(Buffer.alloc(65536), Opcode.BINARY),
    ),
    client,
    [binary(Buffer.alloc(125)), binary(Buffer.alloc(126)), binary(Buffer.alloc(65535)), binary(Buffer.alloc(65536))],
  );
});

test('§5.5.1 close frames: codes allowed on the wire, body rules, reason UTF-8', () => {
  assertEvents(c2s('', Opcode.CLOSE), server, [{ type: 'close', code: 1005, reason: '' }]);
  assertFails(c2s(Buffer.from([0x03]), Opcode.CLOSE), server, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002);
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  for (const code of valid) {
    assert.equal(isValidCloseCode(code), true);
    assertEvents(c2s(encodeClosePayload(code, 'bye ✓'), Opcode.CLOSE), server, [{ type: 'close', code, reason: 'bye ✓' }]);
  }
  const invalid = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  for (const code of invalid) {
    assert.equal(isValidCloseCode(code), false);
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    assertFails(c2s(body, Opcode.CLOSE), server, 'WS_ERR_INVALID_CLOSE_CODE', 1002);
    assert.throws(() => encodeClosePayload(code), RangeError);
  }
  assertFails(c2s(cat(hex('03e8'), hex('c0af')), Opcode.CLOSE), server, 'WS_ERR_INVALID_UTF8', 1007);
  // §5.5.1: after a close frame nothing more is data
  assertEvents(cat(c2s(encodeClosePayload(1000), Opcode.CLOSE), c2s('ignored'), s2c('bad')), server, [{ type: 'close', code: 1000, reason: '' }]);
  assert.equal(encodeClose(1000, 'ok').toString('hex'), '880403e86f6b');
  assert.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), RangeError);
});

test('a close frame in the middle of a fragmented message still closes', () => {
  assertEvents(cat(c2s('par', Opcode.TEXT, false), c2s(encodeClosePayload(1001), Opcode.CLOSE)), server, [{ type: 'close', code: 1001, reason: '' }]);
});

test('nothing is delivered after an error, and stop() halts parsing from a handler', () => {
  const parser = new FrameParser(server, {
    onMessage: () => parser.stop(),
    onPing: () => assert.fail('no ping after stop'),
    onPong: () => {},
    onClose: () => {},
    onError: () => {},
  });
  parser.push(cat(c2s('a'), c2s('', Opcode.PING)));
  assert.equal(parser.finished, true);
});

test('the frame observer sees the raw (masked) bytes of every frame in any chunking', () => {
  const frames = [c2s('hello'), c2s('x', Opcode.PING), c2s(Buffer.alloc(300, 9), Opcode.BINARY, false), c2s('', Opcode.CONTINUATION)];
  const stream = cat(...frames);
  for (const way of chunkings(stream, 7)) {
    const seen: string[] = [];
    const p = new FrameParser({ role: 'server', onFrame: (b) => seen.push(b.toString('hex')) }, new EventCollector());
    for (const c of way.chunks) p.push(Buffer.from(c));
    assert.deepEqual(
      seen,
      frames.map((f) => f.toString('hex')),
      way.name,
    );
  }
});

test('describeFrame annotates every field', () => {
  const d = describeFrame(hex('818537fa213d7f9f4d5158'));
  assert.deepEqual(
    { fin: d.fin, rsv1: d.rsv1, rsv2: d.rsv2, rsv3: d.rsv3, op: d.opcodeName, masked: d.masked, form: d.lengthForm, len: d.payloadLength, key: d.maskingKey },
    { fin: true, rsv1: false, rsv2: false, rsv3: false, op: 'text', masked: true, form: 7, len: 5, key: '37fa213d' },
  );
  assert.equal(d.maskedPayload?.toString('hex'), '7f9f4d5158');
  assert.equal(d.payload.toString(), 'Hello');
  assert.equal(d.complete, true);
  assert.deepEqual(describeFrame(encodeClose(1000, 'bye')).close, { code: 1000, reason: 'bye' });
  assert.equal(describeFrame(hex('817e00ff61')).complete, false);
});

test('masking matches the definition at every alignment, length and phase', () => {
  const rand = prng(3);
  const backing = Buffer.alloc(400);
  for (let i = 0; i < 400; i++) backing[i] = Math.floor(rand() * 256);
  for (const len of [0, 1, 3, 4, 5, 63, 64, 65, 127, 200, 333]) {
    for (let offset = 0; offset < 4; offset++) {
      for (let phase = 0; phase < 4; phase++) {
        const buf = Buffer.from(backing.subarray(0, 400));
        const expected = Buffer.from(buf);
        for (let i = 0; i < len; i++) expected[offset + i] = expected[offset + i]! ^ KEY[(phase + i) & 3]!;
        xorMaskRange(buf, offset, offset + len, KEY, 0, phase);
        assert.equal(buf.equals(expected), true, `len ${len} offset ${offset} phase ${phase}`);
      }
    }
  }
  const data = Buffer.from('round trip');
  mask(data, KEY);
  mask(data, KEY);
  assert.equal(data.toString(), 'round trip');
});
