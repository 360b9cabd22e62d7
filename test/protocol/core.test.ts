/** The sans-I/O connection from memory: bytes in, events and bytes out, every closing rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { ConnectionProtocol, ReadyState } from '../../protocol/core.ts';
import { CloseCode, truncateReason } from '../../protocol/close.ts';
import { closeFrameForError, protocolError, type ProtocolErrorCode } from '../../protocol/errors.ts';
import { describeFrame, encodeClosePayload, encodeFrame, Opcode } from '../../protocol/frame.ts';
import { parseChunks } from '../../protocol/parser.ts';
import { binary, plain, text, type Plain } from './helpers.ts';

type Role = 'server' | 'client';
const peerOf = (role: Role): Role => (role === 'server' ? 'client' : 'server');

/** A frame as the peer of `role` would send it (clients mask, servers do not). */
function fromPeer(role: Role, payload: string | Buffer, opcode: number = Opcode.TEXT, fin = true): Buffer {
  return encodeFrame(payload, { opcode, fin, mask: role === 'server' });
}
const closeFromPeer = (role: Role, code?: number, reason = '') => fromPeer(role, encodeClosePayload(code, reason), Opcode.CLOSE);

/** Reads what `p` sent since the last call, as the peer's parser sees it. */
function sent(p: ConnectionProtocol, role: Role): Plain[] {
  return plain(parseChunks(p.dataToSend(), { role: peerOf(role) }));
}

/** Asserts that exactly these frames were sent since the last read. */
function assertFramesSent(p: ConnectionProtocol, role: Role, expected: Plain[]): void {
  assert.deepEqual(sent(p, role), expected);
}

/** Asserts that nothing was sent since the last read. */
function assertNothingSent(p: ConnectionProtocol): void {
  assert.deepEqual(p.dataToSend(), []);
}

/** Asserts the connection is failing with `code`: that close frame went out, then the end of output. */
function assertClosing(p: ConnectionProtocol, role: Role, code: number): void {
  assert.equal(p.state, ReadyState.CLOSING);
  assert.equal(p.closeCode, code);
  const frames = sent(p, role);
  assert.equal(frames.length, 1, JSON.stringify(frames));
  assert.equal(frames[0]!.type, 'close');
  assert.equal((frames[0] as { code: number }).code, code);
  assert.equal(p.eofSent, true);
}

const close = (code: number, reason = ''): Plain => ({ type: 'close', code, reason });

for (const role of ['server', 'client'] as const) {
  test(`${role}: closing handshake started here — close frame, peer's answer, then end of output`, () => {
    const p = new ConnectionProtocol({ role });
    p.close(CloseCode.NORMAL, 'bye');
    assert.equal(p.state, ReadyState.CLOSING);
    assertFramesSent(p, role, [close(1000, 'bye')]);
    assert.equal(p.eofSent, false, 'waits for the peer before closing TCP');
    // §5.5.1: no data frames after a close frame.
    assert.equal(p.sendText('late'), false);
    assert.equal(p.ping(), false);
    assertNothingSent(p);
    p.receiveData(closeFromPeer(role, 1000, 'ok'));
    assert.deepEqual(plain(p.eventsReceived()), [close(1000, 'ok')]);
    assertNothingSent(p); // no second close frame
    assert.equal(p.eofSent, true);
    assert.equal(p.closeCode, 1000);
    p.connectionLost();
    assert.equal(p.state, ReadyState.CLOSED);
  });

  test(`${role}: closing handshake started by the peer — its code echoed, then end of output`, () => {
    const p = new ConnectionProtocol({ role });
    p.receiveData(closeFromPeer(role, 4001, 'custom'));
    assert.deepEqual(plain(p.eventsReceived()), [close(4001, 'custom')]);
    assertFramesSent(p, role, [close(4001, '')]);
    assert.equal(p.eofSent, true);
    assert.equal(p.state, ReadyState.CLOSING);
    assert.equal(p.closeCode, 4001);
    assert.equal(p.closeReason, 'custom');
    assert.equal(p.sendText('late'), false);
    assertNothingSent(p);
  });

  test(`${role}: a close frame without a code is answered without one (1005 never on the wire)`, () => {
    const p = new ConnectionProtocol({ role });
    p.receiveData(closeFromPeer(role));
    assert.deepEqual(plain(p.eventsReceived()), [close(1005)]);
    const bytes = Buffer.concat(p.dataToSend());
    const frame = describeFrame(bytes);
    assert.equal(frame.opcode, Opcode.CLOSE);
    assert.equal(frame.payloadLength, 0);
    assert.equal(p.closeCode, CloseCode.NO_STATUS);
  });

  test(`${role}: data after the peer's close frame is ignored, in the same chunk and later`, () => {
    const p = new ConnectionProtocol({ role });
    p.receiveData(Buffer.concat([fromPeer(role, 'before'), closeFromPeer(role, 1000), fromPeer(role, 'after')]));
    p.receiveData(fromPeer(role, 'later'));
    p.receiveData(fromPeer(role, 'ping', Opcode.PING));
    assert.deepEqual(plain(p.eventsReceived()), [text('before'), close(1000)]);
    assertFramesSent(p, role, [close(1000)]); // and no pong
  });

  test(`${role}: a ping is answered at once with the same payload; pongs are not answered`, () => {
    const p = new ConnectionProtocol({ role });
    p.receiveData(fromPeer(role, 'are you there', Opcode.PING));
    assert.deepEqual(plain(p.eventsReceived()), [{ type: 'ping', hex: Buffer.from('are you there').toString('hex') }]);
    assertFramesSent(p, role, [{ type: 'pong', hex: Buffer.from('are you there').toString('hex') }]);
    p.receiveData(fromPeer(role, 'x', Opcode.PONG));
    assert.equal(p.eventsReceived().length, 1);
    assertNothingSent(p);
  });

  test(`${role}: after our close frame, data still arrives but pings are no longer answered`, () => {
    const p = new ConnectionProtocol({ role });
    p.close(1001);
    p.dataToSend();
    p.receiveData(Buffer.concat([fromPeer(role, 'in flight'), fromPeer(role, '', Opcode.PING)]));
    assert.deepEqual(plain(p.eventsReceived()), [text('in flight'), { type: 'ping', hex: '' }]);
    assertNothingSent(p);
  });

  test(`${role}: autoPong off leaves the answer to the caller`, () => {
    const p = new ConnectionProtocol({ role, autoPong: false });
    p.receiveData(fromPeer(role, 'p', Opcode.PING));
    assertNothingSent(p);
    assert.equal(p.pong('p'), true);
    assertFramesSent(p, role, [{ type: 'pong', hex: '70' }]);
  });

  test(`${role}: messages → bytes → messages, text, binary and fragmented`, () => {
    const p = new ConnectionProtocol({ role });
    assert.equal(p.sendText('héllo'), true);
    assert.equal(p.sendBinary(Buffer.from([0, 1, 2])), true);
    assert.equal(p.sendBatch(['a', Buffer.from('b')]), true);
    assertFramesSent(p, role, [text('héllo'), binary(Buffer.from([0, 1, 2])), text('a'), binary(Buffer.from('b'))]);
    assert.equal(p.sendData('0123456789', false, 4), true);
    const bytes = Buffer.concat(p.dataToSend());
    // §5.4: first frame carries the opcode, then continuations, FIN only on the last.
    const frames = [];
    for (let at = 0; at < bytes.length; ) {
      const f = describeFrame(bytes.subarray(at));
      frames.push([f.opcode, f.fin, f.payload.toString(), f.masked]);
      at += f.frameLength;
    }
    const masked = role === 'client';
    assert.deepEqual(frames, [
      [Opcode.TEXT, false, '0123', masked],
      [Opcode.CONTINUATION, false, '4567', masked],
      [Opcode.CONTINUATION, true, '89', masked],
    ]);
  });

  test(`${role}: bytes → events in every chunking, one byte at a time included`, () => {
    const stream = Buffer.concat([
      fromPeer(role, 'ab', Opcode.TEXT, false),
      fromPeer(role, 'p', Opcode.PING),
      fromPeer(role, 'c', Opcode.CONTINUATION),
      fromPeer(role, Buffer.alloc(300, 7), Opcode.BINARY),
    ]);
    const expected = [{ type: 'ping', hex: '70' }, text('abc'), binary(Buffer.alloc(300, 7))];
    for (const step of [1, 2, 7, stream.length]) {
      const p = new ConnectionProtocol({ role });
      for (let at = 0; at < stream.length; at += step) p.receiveData(Buffer.from(stream.subarray(at, at + step)));
      assert.deepEqual(plain(p.eventsReceived()), expected, `chunks of ${step}`);
      assertFramesSent(p, role, [{ type: 'pong', hex: '70' }]);
    }
  });

  test(`${role}: end of input without a close frame half-closes and keeps 1006`, () => {
    const p = new ConnectionProtocol({ role });
    p.receiveEof();
    assert.equal(p.state, ReadyState.CLOSING);
    assert.equal(p.eofSent, true);
    assertNothingSent(p);
    p.receiveData(fromPeer(role, 'too late'));
    assert.deepEqual(p.eventsReceived(), []);
    p.connectionLost();
    assert.equal(p.closeCode, CloseCode.ABNORMAL);
  });
}

test('protocol violations fail the connection with their close code (§7.1.7)', () => {
  const role: Role = 'server';
  const cases: Array<[string, Buffer, ProtocolErrorCode, number]> = [
    ['unmasked client frame', encodeFrame('x', { opcode: Opcode.TEXT }), 'WS_ERR_UNMASKED_FRAME', 1002],
    ['invalid UTF-8', fromPeer(role, Buffer.from([0xc3, 0x28])), 'WS_ERR_INVALID_UTF8', 1007],
    ['too big', fromPeer(role, Buffer.alloc(101), Opcode.BINARY), 'WS_ERR_MESSAGE_TOO_BIG', 1009],
    ['reserved opcode', fromPeer(role, 'x', 0x3), 'WS_ERR_INVALID_OPCODE', 1002],
    // §7.4.2: codes reserved for local use, such as 1005 and 1006, are invalid on the wire → 1002.
    ['close code 1005 on the wire', fromPeer(role, Buffer.from([0x03, 0xed]), Opcode.CLOSE), 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['close code 1006 on the wire', fromPeer(role, Buffer.from([0x03, 0xee]), Opcode.CLOSE), 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['close code 999', fromPeer(role, Buffer.from([0x03, 0xe7]), Opcode.CLOSE), 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['1-byte close body', fromPeer(role, Buffer.from([0x03]), Opcode.CLOSE), 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002],
  ];
  for (const [name, bytes, code, closeCode] of cases) {
    const p = new ConnectionProtocol({ role, maxMessageBytes: 100 });
    p.receiveData(Buffer.concat([bytes, fromPeer(role, 'after the error')]));
    const events = p.eventsReceived();
    assert.equal(events.length, 1, name);
    const e = events[0]!;
    assert.ok(e.type === 'error' && e.error.code === code && e.error.closeCode === closeCode, `${name}: ${JSON.stringify(plain(events))}`);
    assertClosing(p, role, closeCode);
    // §7.1.7: nothing is processed after failing, not even the peer's close frame.
    p.receiveData(closeFromPeer(role, 1000));
    assert.deepEqual(p.eventsReceived(), [], name);
    assertNothingSent(p);
  }
});

test('fail(): sends the code once, then ends; 1006 is never sent; a long reason is cut on a character', () => {
  for (const code of [1001, 1008, 1011, 4000]) {
    const p = new ConnectionProtocol({ role: 'client' });
    p.fail(code, 'why');
    assertClosing(p, 'client', code);
    p.fail(1002, 'again');
    assertNothingSent(p);
  }
  const lost = new ConnectionProtocol({ role: 'server' });
  lost.fail(CloseCode.ABNORMAL);
  assertNothingSent(lost);
  assert.equal(lost.eofSent, true);
  assert.equal(lost.closeCode, 1006);

  const p = new ConnectionProtocol({ role: 'server' });
  p.fail(1011, '€'.repeat(60)); // 180 bytes
  const frames = parseChunks(p.dataToSend(), { role: 'client' });
  const f = frames[0]!;
  assert.ok(f.type === 'close');
  assert.equal(f.reason, '€'.repeat(41)); // 123 bytes, exactly 41 characters
  assert.equal(p.closeReason, f.reason);
});

test('reason truncation is byte-safe for 2-, 3- and 4-byte characters', () => {
  assert.equal(truncateReason('short'), 'short');
  assert.equal(truncateReason('a'.repeat(123)), 'a'.repeat(123));
  for (const ch of ['é', '€', '😀']) {
    for (let prefix = 0; prefix < 4; prefix++) {
      const reason = 'a'.repeat(prefix) + ch.repeat(70);
      const cut = truncateReason(reason);
      const bytes = Buffer.from(cut);
      assert.ok(bytes.length <= 123 && bytes.length > 123 - Buffer.byteLength(ch), `${ch} +${prefix}: ${bytes.length}`);
      assert.ok(isUtf8(bytes));
      assert.ok(reason.startsWith(cut));
    }
  }
  // The one place errors become close frames uses it too.
  const err = protocolError('WS_ERR_INVALID_UTF8', '😀'.repeat(40));
  const frame = closeFrameForError(err);
  assert.equal(frame.code, 1007);
  assert.ok(Buffer.byteLength(frame.reason) <= 123 && err.message.startsWith(frame.reason));
  assert.ok(encodeClosePayload(frame.code, frame.reason).length <= 125);
});

test('close() refuses codes that may not be sent, and a second close() does nothing', () => {
  const p = new ConnectionProtocol({ role: 'server' });
  for (const code of [1005, 1006, 1015, 999, 2000]) assert.throws(() => p.close(code), RangeError);
  assert.equal(p.state, ReadyState.OPEN);
  assertNothingSent(p);
  p.close();
  assertFramesSent(p, 'server', [close(1005)]); // an empty close body, reported as 1005
  p.close(1000);
  assertNothingSent(p);
});

test('abort() records the code without sending anything; the frame observer sees both directions', () => {
  const p = new ConnectionProtocol({ role: 'server' });
  const seen: string[] = [];
  p.onFrame = (dir, bytes) => seen.push(`${dir}:${describeFrame(bytes).opcodeName}`);
  p.receiveData(fromPeer('server', 'hi'));
  p.sendText('ho');
  p.abort(CloseCode.POLICY_VIOLATION, 'slow reader');
  assert.deepEqual(seen, ['in:text', 'out:text']);
  assert.equal(p.closeCode, 1008);
  assert.equal(p.state, ReadyState.CLOSING);
  p.dataToSend();
  p.receiveData(fromPeer('server', 'ignored'));
  assert.deepEqual(plain(p.eventsReceived()), [text('hi')]);
  assertNothingSent(p);
});
