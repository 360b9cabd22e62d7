/**
 * A subscriber that stops reading is dropped once its unsent output passes
 * `maxBufferedBytes` (16 MiB by default), on every row that holds a subscription — the `ws`
 * row included, and a peer that keeps sending unsolicited pongs is no exception. A reader that
 * keeps up meanwhile loses nothing. Server and clients share this process; its RSS grows by
 * less than 64 MiB while 200 × 1 MiB go out (without the cap the non-reader alone kept ~200 MiB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { transport as describe_ } from '../../transports/index.ts';
import { startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { countingReader, raw } from './helpers.ts';

const MiB = 1024 * 1024;
const PUBLISHES = 200;

// The reader in this process leaves 1 MiB of garbage per message; when V8 collects it differs
// from one Node to the next (Node 24 let it pile up past the bound). A collection before each
// reading makes RSS show what is alive: the output queues this test is about.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

// The SSE rows apply the same cap (test/wire.test.ts); here the WebSocket rows, the one that writes pre-framed broadcasts below ws's sender included.
for (const transport of ['ws', 'websocket', 'ws+preframed']) {
  test(`${transport}: one non-reader among readers costs bounded memory and is dropped; the reader gets all`, { timeout: 60_000 }, async (t) => {
    const frames = describe_(transport).traits.delivery === 'frames';
    // The heartbeat runs, but slower than the cap is reached even on a busy machine: the server
    // stops reading this peer once its output backs up, so the pongs go unread and a fast
    // heartbeat would drop the peer for missed pongs before its output reached the cap.
    const { server, baseUrl } = await startServer(t, transport, { heartbeatIntervalMs: 2000, maxMissedPongs: 2 });
    const reader = await countingReader(t, transport, baseUrl, MiB);

    const lazy = await raw(baseUrl);
    t.after(() => lazy.sock.destroy());
    lazy.sock.pause(); // never reads: the kernel's buffers fill, then the server's
    if (frames) {
      lazy.sock.write(
        `GET /?client=lazy HTTP/1.1\r\nHost: lab\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 9).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    } else lazy.sock.write('GET /events?client=lazy HTTP/1.1\r\nHost: lab\r\n\r\n');
    await waitFor(() => server.counters().subscribers === 2, 'both subscriptions', 5000);
    // An empty masked pong every 50 ms: the peer looks alive to the heartbeat without reading.
    const pongs = frames ? setInterval(() => lazy.sock.writable && lazy.sock.write(Buffer.from([0x8a, 0x80, 1, 2, 3, 4])), 50) : undefined;
    t.after(() => clearInterval(pongs));

    collect();
    const before = process.memoryUsage().rss;
    let peak = before;
    // One string for every publish: the history holds references, not copies, so what grows is the output queues.
    const payload = 'm'.repeat(MiB);
    for (let i = 1; i <= PUBLISHES; i++) {
      server.hub.publish(payload);
      await waitFor(() => reader.got() === i, `message ${i} at the reader`, 10_000);
      collect();
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    assert.equal(reader.wrongSize(), 0);
    assert.equal(reader.got(), PUBLISHES, 'the reader lost nothing');
    await waitFor(() => server.counters().subscribers === 1, 'the non-reader to be dropped', 5000);
    const c = server.counters();
    assert.equal(c.errors, 1, 'the drop is counted once');
    assert.equal(c.droppedSlowReaders, 1, `dropped as a slow reader (${c.droppedMissedPongs} for missed pongs)`);
    const grew = (peak - before) / MiB;
    t.diagnostic(`RSS grew by ${grew.toFixed(0)} MiB`);
    assert.ok(grew < 64, `RSS grew by ${grew.toFixed(0)} MiB`);
  });
}
