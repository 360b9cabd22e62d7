/**
 * --tls: every built-in transport round-trips over https/wss on a certificate made at run time,
 * the client trusting that certificate alone (verification stays on), and the server's meter
 * counts the encrypted bytes at the TCP socket beside the plaintext above TLS.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { throwawayCertificate, type TlsMaterial } from '../../path/route.ts';
import { transports } from '../../transports/index.ts';
import { createClientFor } from '../../transports/load.ts';
import { startCollector, startServer } from '../helpers.ts';
import { waitFor } from '../helpers/wait.ts';

let tls: TlsMaterial;
before(async () => {
  tls = await throwawayCertificate();
});

// The raw TCP ceiling speaks no HTTP and has no TLS row, and a peer's own program is not handed
// the certificate (whyNot says both in a run); a row named for HTTP/2 that cannot run over it never starts.
const OVER_TLS = transports()
  .filter((d) => d.role !== 'ceiling' && !d.peer && d.notOverH2 === undefined)
  .map((d) => d.name);

for (const name of OVER_TLS) {
  test(`${name}: an echo round trip over TLS, encrypted bytes counted at the socket`, { timeout: 30_000 }, async (t) => {
    const { server, baseUrl } = await startServer(t, name, { tls });
    const httpsUrl = baseUrl.replace(/^http:/, 'https:');
    const c = await startCollector(t, name, httpsUrl, 'tls-client', { ca: tls.cert, pollIntervalMs: 50 });
    await c.client.send('over tls');
    await waitFor(() => c.received.includes('over tls'), 'the echo over TLS');
    const k = server.counters();
    assert.ok((k.tlsHandshakeBytes ?? 0) > 500, `handshake bytes ${k.tlsHandshakeBytes}`);
    assert.ok(k.plainBytesWritten !== undefined && k.plainBytesRead !== undefined);
    // The socket count holds the records' headers and tags and the handshake on top of the plaintext.
    assert.ok(k.bytesWritten > k.plainBytesWritten!, `${k.bytesWritten} > ${k.plainBytesWritten}`);
    assert.ok(k.bytesRead > k.plainBytesRead!, `${k.bytesRead} > ${k.plainBytesRead}`);
  });
}

test('a client that does not trust the run’s certificate is refused: verification is not turned off', async (t) => {
  const { baseUrl } = await startServer(t, 'ws', { tls });
  const client = await createClientFor('ws', { baseUrl: baseUrl.replace(/^http:/, 'https:'), clientId: 'x', onMessage: () => {} });
  await assert.rejects(client.start(), /self[- ]signed|certificate/i);
  await client.stop();
});
