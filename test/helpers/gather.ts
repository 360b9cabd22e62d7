/**
 * The gathered-sends check both WebSocket load clients pass: eight sends gathered in one tick
 * leave in one write to the TCP handle, three sends without gather in one write each, and every
 * echo comes back in order.
 */
import assert from 'node:assert/strict';
import { waitFor } from './wait.ts';

type Handle = Record<string, (...a: unknown[]) => unknown>;

/** Counts the calls of `names` on the TCP `handle` (write methods the socket may use) from now on. */
function countWrites(handle: Handle, names: readonly string[]): () => number {
  let writes = 0;
  for (const name of names) {
    const original = handle[name]!;
    handle[name] = function (this: unknown, ...a: unknown[]) {
      writes++;
      return original.apply(this, a);
    };
  }
  return () => writes;
}

/** Runs the check on a started client whose echoes land in `got`. */
export async function checkGatheredSends(
  client: { sendNow(data: string | Uint8Array, gather?: boolean): void },
  handle: Handle,
  names: readonly string[],
  got: readonly string[],
): Promise<void> {
  const writes = countWrites(handle, names);
  for (let i = 0; i < 8; i++) client.sendNow(Buffer.from(`gathered ${i}`), true);
  assert.equal(writes(), 0, 'held until the end of the tick');
  await new Promise((r) => process.nextTick(r));
  assert.equal(writes(), 1);
  for (let i = 0; i < 3; i++) client.sendNow(`alone ${i}`);
  assert.equal(writes(), 4);
  await waitFor(() => got.length === 11, 'every echo');
  assert.deepEqual(got, [...Array.from({ length: 8 }, (_, i) => `gathered ${i}`), 'alone 0', 'alone 1', 'alone 2']);
}
