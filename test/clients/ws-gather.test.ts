/**
 * The `ws` row's load client: sends gathered in one tick leave in one write (the same frames, in
 * order), sends without gather one write each, as a page's do.
 */
import { test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { WsClient } from '../../clients/ws.ts';
import { checkGatheredSends } from '../helpers/gather.ts';

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
  const handle = (client as unknown as { socket: { _socket: { _handle: Record<string, (...a: unknown[]) => unknown> } } }).socket._socket._handle;
  await checkGatheredSends(client, handle, ['writeBuffer', 'writev', 'writeLatin1String', 'writeUtf8String'], got);
});
