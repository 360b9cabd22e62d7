/** Raw-socket helpers for the hardening tests: every byte on 127.0.0.1, every wait bounded. */
import net from 'node:net';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { createClientFor } from '../../transports/load.ts';

/** A raw client socket that keeps every byte it receives. */
export async function raw(baseUrl: string): Promise<{ sock: net.Socket; text: () => string; closed: () => boolean }> {
  const sock = net.connect(Number(new URL(baseUrl).port), '127.0.0.1');
  const chunks: Buffer[] = [];
  let closed = false;
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.on('close', () => {
    closed = true;
  });
  sock.on('error', () => {});
  await once(sock, 'connect');
  return { sock, text: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed };
}

/** The transports' HTTP server kinds: each hardening rule is checked on both. */
export const KINDS = [
  { suffix: '', label: 'express' },
  { suffix: '-node', label: 'node:http' },
] as const;

/** A subscriber that reads everything, counting the messages and those not `size` bytes long; stopped after the test. */
export async function countingReader(
  t: TestContext,
  transport: string,
  baseUrl: string,
  size: number,
): Promise<{ got: () => number; wrongSize: () => number }> {
  let got = 0;
  let wrongSize = 0;
  const reader = await createClientFor(transport, {
    baseUrl,
    clientId: 'reader',
    pollIntervalMs: 50,
    onMessage: (d) => {
      got++;
      if (d.length !== size) wrongSize++;
    },
  });
  await reader.start();
  t.after(() => reader.stop());
  return { got: () => got, wrongSize: () => wrongSize };
}
