/**
 * Unstamped payloads of the overhead sweep (`--overhead-payload`), the same in a single server
 * process and on every node of a cluster, so that both compress alike.
 */
import { randomBytes } from 'node:crypto';

/**
 * What an unstamped (`plain`) payload is made of: text that compresses as JSON does, or random
 * base64 that does not. Consecutive messages differ, so a compressor's context cannot reuse them.
 */
export type PlainPayload = 'compressible' | 'incompressible';

/** Characters of text each plain payload kind is cut from: 1 MiB, far more than a deflate window of 32 KiB. */
const POOL_CHARS = 1024 * 1024;
const pools = new Map<PlainPayload, string>();
let poolAt = 0;

/**
 * Text of a payload kind: records shaped like a JSON feed (field names repeat, values vary) or
 * random base64. Neither contains a quote, backslash or newline, so the HTTP rows carry both
 * without escaping and their bytes stay comparable.
 */
function payloadPool(kind: PlainPayload): string {
  let pool = pools.get(kind);
  if (pool !== undefined) return pool;
  if (kind === 'incompressible') {
    pool = randomBytes((POOL_CHARS * 3) / 4).toString('base64');
  } else {
    const parts: string[] = [];
    let n = 0;
    let seq = 0;
    const symbols = ['ACME', 'GLOBEX', 'INITECH', 'UMBRELLA', 'HOOLI', 'STARK'];
    while (n < POOL_CHARS) {
      seq++;
      const price = (100 + ((seq * 7919) % 5000) / 100).toFixed(2);
      const rec = `{id:${100000 + seq},type:quote,symbol:${symbols[seq % symbols.length]},price:${price},volume:${(seq * 104729) % 100000},ts:${1732640000000 + seq * 37}},`;
      parts.push(rec);
      n += rec.length;
    }
    pool = parts.join('').slice(0, POOL_CHARS);
  }
  pools.set(kind, pool);
  return pool;
}

/** The next unstamped payload of a size and kind: successive slices of the kind's pool. */
export function plainText(size: number, kind: PlainPayload): string {
  const pool = payloadPool(kind);
  if (size >= pool.length) return pool.repeat(Math.ceil(size / pool.length)).slice(0, size);
  if (poolAt + size > pool.length) poolAt = 0;
  const text = pool.slice(poolAt, poolAt + size);
  poolAt += size;
  return text;
}
