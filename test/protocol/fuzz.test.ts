import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzOnce, newStats, prng } from '../../bench/fuzz-frames.ts';

test('fuzz: 2,000 random and mutated frame streams in random chunkings', () => {
  const rand = prng(20240601);
  const stats = newStats();
  for (let i = 0; i < 2000; i++) {
    const failure = fuzzOnce(rand, i, stats);
    assert.equal(failure, null, failure ? `${failure.reason}\n${failure.bytesHex}` : '');
  }
  // the run reached the interesting outcomes
  assert.ok(stats.messages > 500 && stats.controls > 200 && stats.closes > 50, JSON.stringify(stats));
  assert.ok(
    stats.compressedStreams > 400 && stats.verifiedCompressed > 50,
    `compressed streams: ${stats.compressedStreams}, verified ${stats.verifiedCompressed}`,
  );
  for (const code of ['WS_ERR_INVALID_UTF8', 'WS_ERR_INVALID_OPCODE', 'WS_ERR_UNEXPECTED_RSV', 'WS_ERR_MESSAGE_TOO_BIG', 'WS_ERR_INFLATE']) {
    assert.ok((stats.errors[code] ?? 0) > 0, `fuzz never produced ${code}: ${JSON.stringify(stats.errors)}`);
  }
});
