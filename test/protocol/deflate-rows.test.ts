/** The permessage-deflate rows: opt-in registry entries whose server and client negotiate compression. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transport, transportNames } from '../../transports/index.ts';
import { createClientFor, createServerFor } from '../../transports/load.ts';
import { waitFor } from '../helpers/wait.ts';

test('websocket+deflate and ws+deflate: by name only, same traits, and compressed on the wire', async (t) => {
  assert.deepEqual(transportNames(), ['polling', 'long-polling', 'sse', 'websocket', 'ws'], 'not in the default rows');
  assert.ok(transport('websocket+deflate').byNameOnly && transport('ws+deflate').byNameOnly, 'run only when named');
  for (const name of ['websocket+deflate', 'ws+deflate']) {
    const plain = transport(name.replace('+deflate', ''));
    assert.deepEqual(transport(name).traits, plain.traits);
    assert.equal(transport(name).role, undefined);
    const server = await createServerFor(name, { heartbeatIntervalMs: 0 });
    const port = await server.listen(0);
    t.after(() => server.close());
    const received: string[] = [];
    const client = await createClientFor(name, { baseUrl: `http://127.0.0.1:${port}`, clientId: 'a', onMessage: (d) => received.push(d) });
    await client.start();
    const before = server.counters().bytesRead;
    const text = `{"symbol":"ACME","price":101.5,"note":"${'the same words again '.repeat(40)}"}`;
    for (let i = 0; i < 20; i++) await client.send(text);
    await waitFor(() => received.length === 20, `${name}: every echo`);
    assert.ok(received.every((r) => r === text));
    const upward = server.counters().bytesRead - before;
    assert.ok(upward < (20 * text.length) / 5, `${name}: ${upward} bytes up for ${20 * text.length} of text`);
    // Broadcasts are compressed too.
    const written = server.counters().bytesWritten;
    for (let i = 0; i < 20; i++) server.hub.publish(text);
    await waitFor(() => received.length === 40, `${name}: every broadcast`);
    const downward = server.counters().bytesWritten - written;
    assert.ok(downward < (20 * text.length) / 5, `${name}: ${downward} bytes down for ${20 * text.length} of text`);
    await client.stop();
  }
});
