/**
 * A subscriber that stops reading, over HTTP/2: a raw h2c client opens one stream (the event
 * stream, or a WebSocket by extended CONNECT) and never reads again, so it sends no WINDOW_UPDATE
 * and the server may put at most the initial 65,535-byte windows on the wire (RFC 9113 §6.9.2).
 * Everything else waits in the server's stream, where its own cap (`maxBufferedBytes`) must drop it as the HTTP/1.1 path does (servers-nonreader.test.ts), while a reader on its own
 * session gets every message. Server and clients share this process; what is alive in it after a
 * collection grows by less than 32 MiB while 200 × 1 MiB go out (without the cap, by 200 MiB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';
import { countingReader } from './helpers.ts';

const MiB = 1024 * 1024;
const PUBLISHES = 200;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** RFC 9113 §4.1: a frame of `type` with `flags` on `stream`. */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** RFC 7541 §5.2: a string literal, not Huffman-coded (all strings here are under 127 bytes). */
const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);

/**
 * RFC 7541 §6.2.2, literal header fields without indexing: by a static-table name index (under
 * 15) or with a new name (index 0). The dynamic table is never touched.
 */
function block(fields: [name: string | number, value: string][]): Buffer {
  return Buffer.concat(
    fields.map(([n, v]) => (typeof n === 'number' ? Buffer.concat([Buffer.from([n]), str(v)]) : Buffer.concat([Buffer.from([0]), str(n), str(v)]))),
  );
}

/** Static-table indexes (RFC 7541 Appendix A) used below. */
const AUTHORITY = 1;
const METHOD = 2;
const PATH = 4;
const SCHEME = 6;

/**
 * A raw h2c client that opens one stream with `fields`, answers the server's SETTINGS (so that
 * extended CONNECT, a setting of the server, is in force), then stops reading its socket.
 */
async function lazyStream(baseUrl: string, fields: [string | number, string][], endStream: boolean): Promise<net.Socket> {
  const sock = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
  sock.on('error', () => {});
  await once(sock, 'connect');
  // RFC 9113 §3.4: the preface, then SETTINGS (empty: the default 65,535-byte windows).
  sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(0x4, 0, 0)]));
  // The server's first frame is its SETTINGS (§3.4); read until it is whole.
  let got = Buffer.alloc(0);
  while (got.length < 9 || got.length < 9 + got.readUIntBE(0, 3)) {
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    got = Buffer.concat([got, chunk]);
  }
  assert.equal(got[3], 0x4, 'the server opens with SETTINGS');
  sock.pause(); // never reads again: no WINDOW_UPDATE goes out, the server's windows stay spent
  // SETTINGS ACK, then HEADERS (END_HEADERS, and END_STREAM for a GET) on stream 1.
  sock.write(Buffer.concat([frame(0x4, 0x1, 0), frame(0x1, 0x4 | (endStream ? 0x1 : 0), 1, block(fields))]));
  return sock;
}

for (const transport of ['sse-h2', 'websocket-h2'] as const) {
  test(`${transport}: a stream nobody reads costs bounded memory and is dropped; a reader on its own session gets all`, { timeout: 90_000 }, async (t) => {
    const ws = transport === 'websocket-h2';
    // Cleartext h2 (prior knowledge), so the raw client needs no TLS. The heartbeat is slower than
    // the cap is reached, as in the HTTP/1.1 test: the server stops reading a peer whose output
    // backs up, so its pongs go unread. The cap is the default one (16 MiB).
    const { server, baseUrl } = await startServer(t, transport, { tls: false, heartbeatIntervalMs: 2000, maxMissedPongs: 2 });
    assert.match(baseUrl, /^http:/);
    const reader = await countingReader(t, transport, baseUrl, MiB);

    const authority = new URL(baseUrl).host;
    const lazy = ws
      ? await lazyStream(
          baseUrl,
          [
            [METHOD, 'CONNECT'],
            [':protocol', 'websocket'],
            [SCHEME, 'http'],
            [PATH, '/?client=lazy'],
            [AUTHORITY, authority],
            ['sec-websocket-version', '13'],
          ],
          false,
        )
      : await lazyStream(
          baseUrl,
          [
            [METHOD, 'GET'],
            [SCHEME, 'http'],
            [PATH, '/events?client=lazy'],
            [AUTHORITY, authority],
          ],
          true,
        );
    t.after(() => lazy.destroy());
    await waitFor(() => server.counters().subscribers === 2, 'both subscriptions', 5000);
    // An empty masked pong every 50 ms, as a DATA frame of the WebSocket's stream: alive to the heartbeat, yet never reading.
    const pongs = ws ? setInterval(() => lazy.writable && lazy.write(frame(0x0, 0, 1, Buffer.from([0x8a, 0x80, 1, 2, 3, 4]))), 50) : undefined;
    t.after(() => clearInterval(pongs));

    // What is alive after a collection (heap and buffers outside it), not RSS: the reader's 200 MiB
    // of garbage leaves the allocator's pages behind, which is not what this test is about.
    // Two collections: buffers outside the heap are released by the first one's finalizers.
    const live = () => {
      collect();
      collect();
      const m = process.memoryUsage();
      return m.heapUsed + m.external;
    };
    const before = live();
    let peak = before;
    const payload = 'm'.repeat(MiB);
    for (let i = 1; i <= PUBLISHES; i++) {
      server.hub.publish(payload);
      await waitFor(() => reader.got() === i, `message ${i} at the reader`, 10_000);
      peak = Math.max(peak, live());
    }
    assert.equal(reader.wrongSize(), 0);
    assert.equal(reader.got(), PUBLISHES, 'the reader lost nothing');
    await waitFor(() => server.counters().subscribers === 1, 'the non-reader to be dropped', 5000);
    const c = server.counters();
    assert.equal(c.errors, 1, 'the drop is counted once');
    if (ws) assert.equal(c.droppedSlowReaders, 1, `dropped as a slow reader (${c.droppedMissedPongs} for missed pongs)`);
    const grew = (peak - before) / MiB;
    t.diagnostic(`live memory grew by ${grew.toFixed(1)} MiB`);
    assert.ok(grew < 32, `live memory grew by ${grew.toFixed(1)} MiB`);
  });
}
