/**
 * permessage-deflate without zlib's internal handle: the codec's self-test finds the handle gone
 * (or reading wrong) and the engine falls back to zlib's public one-shot functions, with context
 * takeover still working against `ws` in both directions and the bomb check still closing 1009.
 * Each case runs in its own process, whose zlib streams are altered before the engine loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deflateCodecKind, PerMessageDeflate } from '../../protocol/deflate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the child does to the zlib streams the engine's codec makes (and no others: `ws` and the
 * public one-shot functions keep theirs), before the engine is loaded. An accessor on the raw
 * stream classes' prototypes catches the constructor's own assignment; the stack says who made it.
 */
const ALTERATIONS = {
  // The engine's streams have no handle.
  'the handle removed': ['_handle', 'undefined'],
  // The state array the handle writes is not the one the engine reads back.
  'the write state no longer read back': ['_writeState', 'new Uint32Array(2)'],
} as const;

/** Code that applies an alteration to the streams zlib makes for the engine. */
function alter([field, altered]: readonly [string, string]): string {
  return `
    import zlib from 'node:zlib';
    const real = Symbol('real');
    const mine = Symbol('made for the engine');
    for (const C of [zlib.DeflateRaw, zlib.InflateRaw])
      Object.defineProperty(C.prototype, '${field}', {
        configurable: true,
        get() { return this[mine] ? ${altered} : this[real]; },
        set(v) { this[real] = v; this[mine] = /HandleCodec/.test(new Error().stack); },
      });
  `;
}

function childScript(alteration: readonly [string, string]): string {
  return `
    ${alter(alteration)}
    const { once } = await import('node:events');
    const { createServer } = await import('node:http');
    const { default: WebSocket } = await import('ws');
    const { WebSocketServer } = await import(${JSON.stringify(`${ROOT}protocol/server.ts`)});
    const { connect } = await import(${JSON.stringify(`${ROOT}protocol/client.ts`)});
    const { deflateCodecKind } = await import(${JSON.stringify(`${ROOT}protocol/deflate.ts`)});
    const http = createServer();
    const wss = new WebSocketServer({ server: http, perMessageDeflate: { threshold: 0 }, maxMessageBytes: 64 * 1024 });
    wss.on('connection', (c) => c.on('message', (d, isBinary) => c.send(d, { binary: isBinary })));
    await new Promise((r) => http.listen(0, '127.0.0.1', r));
    const url = 'ws://127.0.0.1:' + http.address().port + '/';
    const messages = Array.from({ length: 6 }, (_, i) => JSON.stringify({ type: 'quote', symbol: 'ACME', price: 100 + i }).repeat(5));
    const roundTrip = async (send, on) => {
      const got = [];
      const all = new Promise((r) => on((d) => { got.push(String(d)); if (got.length === messages.length) r(); }));
      for (const m of messages) send(m);
      await all;
      return got;
    };
    const viaWs = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
    await once(viaWs, 'open');
    const wsEchoes = await roundTrip((m) => viaWs.send(m), (f) => viaWs.on('message', f));
    const engine = await connect(url, { perMessageDeflate: { threshold: 0 } });
    const engineEchoes = await roundTrip((m) => engine.send(m), (f) => engine.on('message', f));
    viaWs.send(Buffer.alloc(8 << 20));
    const [bombCode] = await once(viaWs, 'close');
    console.log(JSON.stringify({ codec: deflateCodecKind(), compressed: engine.compressed, extensions: viaWs.extensions, same: wsEchoes.join() === messages.join() && engineEchoes.join() === messages.join(), bombCode }));
    process.exit(0);
  `;
}

test('this Node passes the self-test: the codec drives zlib through its handle', () => {
  assert.equal(deflateCodecKind(), 'zlib-handle');
});

for (const [name, alteration] of Object.entries(ALTERATIONS)) {
  test(`zlib streams with ${name}: the public codec takes over, context takeover and the bomb check still work`, async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', childScript(alteration)],
        { cwd: ROOT, timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as { codec: string; compressed: boolean; extensions: string; same: boolean; bombCode: number };
    assert.equal(r.codec, 'public-api');
    assert.equal(r.compressed, true);
    assert.match(r.extensions, /permessage-deflate/);
    assert.ok(r.same, 'every message came back unchanged, from ws and from the engine client');
    assert.equal(r.bombCode, 1009);
  });
}

test('the public codec keeps the context: later copies of a message cost fewer bytes, and its peer reads them', async () => {
  // Run in a child too: the choice of codec is made once per process.
  const script = `
    ${alter(ALTERATIONS['the handle removed'])}
    const { PerMessageDeflate, deflateCodecKind } = await import(${JSON.stringify(`${ROOT}protocol/deflate.ts`)});
    const params = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 15 };
    const server = new PerMessageDeflate(params, 'server', 1 << 20);
    const client = new PerMessageDeflate(params, 'client', 1 << 20);
    const sizes = [];
    let same = true;
    for (let i = 0; i < 40; i++) {
      const m = Buffer.from(JSON.stringify({ n: i % 5, text: 'x'.repeat(i * 20) }));
      const wire = server.compress(m);
      sizes.push(wire.length);
      same &&= client.decompress(wire).equals(m);
    }
    console.log(JSON.stringify({ codec: deflateCodecKind(), sizes, same }));
  `;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out.trim().split('\n').pop()!) as { codec: string; sizes: number[]; same: boolean };
  assert.equal(r.codec, 'public-api');
  assert.ok(r.same, 'every message inflated unchanged, across the 1 KiB window');
  // The 6th message repeats the 1st's shape with more text; with the context the 2nd copy of a short message is smaller.
  const fresh = new PerMessageDeflate(
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 15 },
    'server',
    1 << 20,
  );
  assert.ok(r.sizes[5]! < fresh.compress(Buffer.from(JSON.stringify({ n: 0, text: 'x'.repeat(100) }))).length, `${r.sizes}`);
});
