/**
 * The `ws` row's load client: sends gathered in one tick leave in one write (the same frames, in
 * order), sends without gather one write each, as a page's do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { WsClient } from '../../clients/ws.ts';
import { waitFor } from '../helpers/wait.ts';

test('gathered sends of one tick leave in one write; sends without gather one write each', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
  const got: string[] = [];
  const client = new WsClient({ baseUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, clientId: 'g', onMessage: (d) => got.push(d) });
  await client.start();
  // The server's close waits for its connections: the client goes first.
  t.after(async () => {
    await client.stop();
    await new Promise((r) => wss.close(r));
  });
  // Counts the writes that reach the TCP handle.
  const handle = (client as unknown as { socket: { _socket: { _handle: Record<string, (...a: unknown[]) => unknown> } } }).socket._socket._handle;
  let writes = 0;
  for (const name of ['writeBuffer', 'writev', 'writeLatin1String', 'writeUtf8String']) {
    const original = handle[name]!;
    handle[name] = function (this: unknown, ...a: unknown[]) {
      writes++;
      return original.apply(this, a);
    };
  }
  for (let i = 0; i < 8; i++) client.sendNow(Buffer.from(`gathered ${i}`), true);
  assert.equal(writes, 0, 'held until the end of the tick');
  await new Promise((r) => process.nextTick(r));
  assert.equal(writes, 1);
  for (let i = 0; i < 3; i++) client.sendNow(`alone ${i}`);
  assert.equal(writes, 4);
  await waitFor(() => got.length === 11, 'every echo');
  assert.deepEqual(got, [...Array.from({ length: 8 }, (_, i) => `gathered ${i}`), 'alone 0', 'alone 1', 'alone 2']);
});
