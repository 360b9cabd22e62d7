/**
 * Long, time-bounded fuzzing of the frame parser (the unit test runs a short fixed version).
 *
 *   tsx bench/fuzz.ts [--seconds 30] [--seed N]
 *
 * Exits 1 on the first property violation and prints the seed, iteration and bytes to replay.
 */
import { num, parse, scriptArgs } from '../args.ts';
import { fuzzOnce, newStats, prng } from './fuzz-frames.ts';

const { seconds, seed } = scriptArgs('fuzz', () => {
  const { values } = parse(process.argv.slice(2), { seconds: { type: 'string' }, seed: { type: 'string' } }, false);
  return {
    seconds: num(values.seconds, 'seconds', 30, { min: 0.1, max: 86_400 }),
    seed: num(values.seed, 'seed', Math.floor(Math.random() * 2 ** 31), { min: 0, max: 2 ** 31 - 1, integer: true }),
  };
});
const rand = prng(seed);
const stats = newStats();
const deadline = Date.now() + seconds * 1000;
let lastReport = Date.now();

console.log(`fuzzing the frame parser (plain and permessage-deflate streams) for ${seconds} s, seed ${seed}`);
for (let i = 0; Date.now() < deadline; i++) {
  const failure = fuzzOnce(rand, i, stats);
  if (failure) {
    console.error(`FAILED at iteration ${failure.iteration} (seed ${seed}): ${failure.reason}`);
    console.error(`bytes: ${failure.bytesHex}`);
    process.exit(1);
  }
  if (Date.now() - lastReport > 5000) {
    lastReport = Date.now();
    console.log(`  ${stats.iterations} streams, ${(stats.bytes / 1e6).toFixed(1)} MB`);
  }
}
console.log(
  `ok: ${stats.iterations} streams, ${(stats.bytes / 1e6).toFixed(1)} MB, ${stats.messages} messages, ` +
    `${stats.controls} pings/pongs, ${stats.closes} closes; ${stats.compressedStreams} streams with permessage-deflate (${stats.verifiedCompressed} checked message for message)`,
);
console.log(`errors by code: ${JSON.stringify(stats.errors)}`);
