/**
 * XOR masking (RFC 6455 §5.3): `transformed[i] = original[i] ^ key[i % 4]`. Masking and
 * unmasking are the same operation. Long runs are processed 4 bytes at a time through a
 * Uint32Array view on the aligned middle of the buffer; short runs in an unrolled byte loop.
 */
import { endianness } from 'node:os';
import { randomFillSync } from 'node:crypto';

const LITTLE_ENDIAN = endianness() === 'LE';
/** Below this length a typed-array view costs more than it saves. */
const WORD_THRESHOLD = 64;

/**
 * XORs `buf[start, end)` with the 4 key bytes at `key[keyOffset]`, where `buf[start]` is byte number `phase` of the
 * payload (so a payload split across chunks keeps its key alignment).
 */
export function xorMaskRange(buf: Uint8Array, start: number, end: number, key: Uint8Array, keyOffset: number, phase: number): void {
  let k0 = key[keyOffset + (phase & 3)]!;
  let k1 = key[keyOffset + ((phase + 1) & 3)]!;
  let k2 = key[keyOffset + ((phase + 2) & 3)]!;
  let k3 = key[keyOffset + ((phase + 3) & 3)]!;
  let i = start;
  if (end - start >= WORD_THRESHOLD && LITTLE_ENDIAN) {
    // Walk byte by byte up to a 4-byte boundary of the underlying memory, rotating the key.
    while (((buf.byteOffset + i) & 3) !== 0) {
      buf[i] = buf[i]! ^ k0;
      i++;
      const t = k0;
      k0 = k1;
      k1 = k2;
      k2 = k3;
      k3 = t;
    }
    const words = (end - i) >>> 2;
    const view = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    const m = (k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0;
    for (let w = 0; w < words; w++) view[w] = view[w]! ^ m;
    i += words << 2;
  } else {
    const stop = end - 3;
    for (; i < stop; i += 4) {
      buf[i] = buf[i]! ^ k0;
      buf[i + 1] = buf[i + 1]! ^ k1;
      buf[i + 2] = buf[i + 2]! ^ k2;
      buf[i + 3] = buf[i + 3]! ^ k3;
    }
  }
  if (i < end) buf[i] = buf[i++]! ^ k0;
  if (i < end) buf[i] = buf[i++]! ^ k1;
  if (i < end) buf[i] = buf[i]! ^ k2;
}

/** Masks (or unmasks) `buf` in place with a 4-byte key. */
export function mask(buf: Uint8Array, key: Uint8Array): void {
  if (key.length !== 4) throw new RangeError('masking key must be 4 bytes');
  xorMaskRange(buf, 0, buf.length, key, 0, 0);
}

/** Random masking keys come from one pooled `randomFillSync` call per 2,048 keys. */
const KEY_POOL_SIZE = 8192;
let keyPool = Buffer.allocUnsafe(0);
let keyPoolOffset = KEY_POOL_SIZE;

/** Writes a fresh random 4-byte masking key at `target[offset]` without allocating. */
export function writeRandomMaskKey(target: Uint8Array, offset: number): void {
  if (keyPoolOffset >= KEY_POOL_SIZE) refillKeyPool();
  target[offset] = keyPool[keyPoolOffset]!;
  target[offset + 1] = keyPool[keyPoolOffset + 1]!;
  target[offset + 2] = keyPool[keyPoolOffset + 2]!;
  target[offset + 3] = keyPool[keyPoolOffset + 3]!;
  keyPoolOffset += 4;
}

function refillKeyPool(): void {
  keyPool = randomFillSync(Buffer.allocUnsafe(KEY_POOL_SIZE));
  keyPoolOffset = 0;
}

/**
 * A fresh random 4-byte masking key (RFC 6455 §5.3: "derived from a strong source of entropy").
 * The returned view points into a pool that is replaced, never overwritten, so it stays valid.
 */
export function randomMaskKey(): Buffer {
  if (keyPoolOffset >= KEY_POOL_SIZE) refillKeyPool();
  const key = keyPool.subarray(keyPoolOffset, keyPoolOffset + 4);
  keyPoolOffset += 4;
  return key;
}
