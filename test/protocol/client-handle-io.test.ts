/**
 * The engine's client on the handle path, as its server is: a plain ws:// connection takes it
 * unless `socketIo: 'stream'` is asked, messages go both ways, and the load client's gathered
 * sends of one tick leave in one write while its other sends leave one write each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from '../../protocol/client.ts';
import { EngineClient } from '../../clients/websocket.ts';
import { engineEchoServer } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { checkGatheredSends } from '../helpers/gather.ts';

test('a plain connection reads and writes through its handle; socketIo "stream" keeps the stream path', async (t) => {
  const { url } = await engineEchoServer(t, createServer());
  for (const [socketIo, expected] of [
    [undefined, 'handle'],
    ['stream', 'stream'],
  ] as const) {
    const conn = await connect(url, socketIo === undefined ? {} : { socketIo });
    assert.equal(conn.socketIo, expected);
    const texts: string[] = [];
    conn.on('message', (d: Buffer) => texts.push(d.toString()));
    for (let i = 0; i < 20; i++) conn.send(`message ${i}`);
    await waitFor(() => texts.length === 20, 'every echo');
    assert.deepEqual(
      texts,
      Array.from({ length: 20 }, (_, i) => `message ${i}`),
    );
    conn.close(1000);
    await once(conn, 'close');
  }
});

test('gathered sends of one tick leave in one write; sends without gather one write each, bytes as text frames', async (t) => {
  const { url } = await engineEchoServer(t, createServer());
  const got: string[] = [];
  const client = new EngineClient({ baseUrl: url.replace(/^ws/, 'http'), clientId: 'g', onMessage: (d) => got.push(d) });
  await client.start();
  t.after(() => client.stop());
  const socket = (client as unknown as { conn: { rawSocket: { _handle: Record<string, (...a: unknown[]) => unknown> } } }).conn.rawSocket;
  await checkGatheredSends(client, socket._handle, ['writeBuffer', 'writev'], got);
});
