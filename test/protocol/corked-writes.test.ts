/** Corked sends: the frames of one cork leave as one socket write, byte for byte what separate writes would carry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { WebSocketConnection } from '../../protocol/index.ts';
import { parseChunks } from '../../protocol/parser.ts';
import { plain, text, binary, type Plain } from './helpers.ts';

/** A socket stand-in that records every chunk handed to it. */
function sink(): { socket: Duplex; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    writev: (parts: Array<{ chunk: Buffer }>, cb) => {
      for (const p of parts) chunks.push(Buffer.from(p.chunk));
      cb();
    },
    write: (chunk: Buffer, _enc, cb) => {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { socket, chunks };
}

/** What a client would read from `chunks`. */
function received(chunks: Buffer[]): Plain[] {
  return plain(parseChunks([Buffer.concat(chunks)], { role: 'client' }));
}

test('sends between cork() and uncork() reach the socket as one chunk, in order', () => {
  const { socket, chunks } = sink();
  const conn = new WebSocketConnection(socket, { role: 'server' });
  conn.cork();
  for (let i = 0; i < 64; i++) conn.send(`m${i}`);
  conn.send(Buffer.from([1, 2, 3]));
  assert.equal(chunks.length, 0, 'nothing is written while corked');
  assert.equal(conn.bufferedAmount, 10 * 4 + 54 * 5 + 5, 'held frames count as buffered');
  conn.uncork();
  assert.equal(chunks.length, 1);
  assert.deepEqual(received(chunks), [...Array.from({ length: 64 }, (_, i) => text(`m${i}`)), binary(Buffer.from([1, 2, 3]))]);
});

test('two connections corked at once keep their frames apart', () => {
  const a = sink();
  const b = sink();
  const ca = new WebSocketConnection(a.socket, { role: 'server' });
  const cb = new WebSocketConnection(b.socket, { role: 'server' });
  ca.cork();
  cb.cork();
  for (let i = 0; i < 10; i++) {
    ca.send(`a${i}`);
    cb.send(`b${i}`);
  }
  cb.uncork();
  ca.uncork();
  assert.deepEqual(
    received(a.chunks),
    Array.from({ length: 10 }, (_, i) => text(`a${i}`)),
  );
  assert.deepEqual(
    received(b.chunks),
    Array.from({ length: 10 }, (_, i) => text(`b${i}`)),
  );
});

test('a large frame between small ones keeps its place; nested corks flush at the outer uncork', () => {
  const { socket, chunks } = sink();
  const conn = new WebSocketConnection(socket, { role: 'server' });
  const big = Buffer.alloc(100_000, 7);
  conn.cork();
  conn.send('before');
  conn.cork();
  conn.send(big);
  conn.uncork();
  conn.send('after');
  assert.equal(chunks.length, 0);
  conn.uncork();
  assert.deepEqual(received(chunks), [text('before'), binary(big), text('after')]);
});

test('a close while corked still sends the held frames first, then the close frame', () => {
  const { socket, chunks } = sink();
  const conn = new WebSocketConnection(socket, { role: 'server' });
  conn.cork();
  conn.send('last words');
  conn.close(1000, 'bye');
  conn.uncork();
  assert.deepEqual(received(chunks), [text('last words'), { type: 'close', code: 1000, reason: 'bye' }]);
});

test('a client connection masks every corked frame with its own key', () => {
  const { socket, chunks } = sink();
  const conn = new WebSocketConnection(socket, { role: 'client' });
  conn.cork();
  conn.send('one');
  conn.send('two');
  conn.uncork();
  assert.equal(chunks.length, 1);
  const events = plain(parseChunks([Buffer.concat(chunks)], { role: 'server' }));
  assert.deepEqual(events, [text('one'), text('two')]);
});
