/** Broadcast framing: one encoding, the same bytes written to every peer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { WebSocketConnection } from '../../protocol/index.ts';

test('prepare() makes an unmasked server frame that sendPrepared() writes as is', () => {
  const frame = WebSocketConnection.prepare('hi');
  assert.deepEqual([...frame], [0x81, 2, 0x68, 0x69]);
  assert.deepEqual([...WebSocketConnection.prepare(Buffer.from([1, 2]))], [0x82, 2, 1, 2]);
  const written: Buffer[] = [];
  const sink = () =>
    new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        written.push(chunk);
        cb();
      },
    });
  for (const s of [sink(), sink()]) {
    const conn = new WebSocketConnection(s, { role: 'server' });
    assert.equal(conn.sendPrepared(frame), true);
  }
  assert.equal(written.length, 2);
  for (const b of written) assert.deepEqual([...b], [0x81, 2, 0x68, 0x69]);
});

test('a client connection refuses prepared frames: every client frame needs its own mask', () => {
  const conn = new WebSocketConnection(new Duplex({ read() {}, write: (_c, _e, cb) => cb() }), { role: 'client' });
  assert.throws(() => conn.sendPrepared(WebSocketConnection.prepare('x')), /server role/);
});
