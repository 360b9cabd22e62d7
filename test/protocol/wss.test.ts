/** The client's wss:// path for real: a TLS server on 127.0.0.1 with a certificate made at test time. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { TLSSocket } from 'node:tls';
import { connect } from '../../protocol/client.ts';
import { selfSignedCertificate } from './self-signed.ts';
import { engineEchoServer } from './helpers.ts';
import { waitFor } from '../helpers/wait.ts';

async function tlsEcho(t: TestContext): Promise<{ port: number; cert: string }> {
  const { key, cert } = await selfSignedCertificate();
  const { port } = await engineEchoServer(t, createServer({ key, cert }));
  return { port, cert };
}

test('wss://: handshake, masked frames both ways and the closing handshake over TLS', async (t) => {
  const { port, cert } = await tlsEcho(t);
  const conn = await connect(`wss://127.0.0.1:${port}/`, { tls: { ca: cert } });
  assert.ok(conn.rawSocket instanceof TLSSocket);
  assert.equal((conn.rawSocket as TLSSocket).authorized, true, 'the certificate was checked against the given CA');
  const got: Array<[string, boolean]> = [];
  conn.on('message', (d: Buffer, isBinary: boolean) => got.push([isBinary ? d.toString('hex') : d.toString(), isBinary]));
  const big = Buffer.alloc(200_000, 7);
  conn.send('hello over TLS');
  conn.send(big);
  const closed = new Promise<number>((resolve) => conn.once('close', (code: number) => resolve(code)));
  await waitFor(() => got.length === 2, 'both echoes');
  assert.deepEqual(got, [
    ['hello over TLS', false],
    [big.toString('hex'), true],
  ]);
  conn.close(1000);
  assert.equal(await closed, 1000);
});

test('wss://: a certificate nobody vouches for fails the connection before any WebSocket byte', async (t) => {
  const { port } = await tlsEcho(t);
  await assert.rejects(connect(`wss://127.0.0.1:${port}/`), (e: Error & { code?: string }) => /SELF_SIGNED|self.signed/i.test(`${e.code} ${e.message}`));
});
