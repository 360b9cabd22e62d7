/** Raw-socket helpers for the hardening tests: every byte on 127.0.0.1, every wait bounded. */
import net from 'node:net';
import { once } from 'node:events';

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
