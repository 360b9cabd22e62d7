/**
 * Frame-stream fuzzing shared by `bench/fuzz.ts` and the bounded unit test: random valid streams,
 * then mutated (bit flips, cut, inserted and deleted bytes), fed whole and in a random chunking.
 * Properties: the parser never throws, reports only ProtocolErrors, reports nothing after an
 * error or a close, and the events do not depend on how the bytes were chunked.
 *
 * A share of the streams is permessage-deflate (RFC 7692): the parser gets an inflater, and the
 * peer compresses most data messages (RSV1 on the first frame), with or without context
 * takeover and over random window sizes; some frames carry RSV1 over bytes that are no deflate
 * stream, or RSV1 where it may not be (continuation, control). An unmutated stream of valid
 * compressed messages must inflate to exactly the messages sent.
 *
 * The split chunking is parsed twice: owned chunks (`push`), and through one reused buffer that
 * is overwritten after every chunk (`pushBorrowed`, as the handle path reads), keeping every
 * payload as handed out: a payload that aliased the reused buffer would change the events.
 */
import { encodeClosePayload, encodeFrame, Opcode } from '../protocol/frame.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { FrameParser, parseChunks, type ParserEvent, type ParserHandler, type ParserOptions } from '../protocol/parser.ts';
import { PerMessageDeflate, type DeflateParams } from '../protocol/deflate.ts';
import { seededRandom } from '../clients/reconnect.ts';

/** mulberry32: small, fast, seeded PRNG returning floats in [0, 1) (the reconnect policies' generator). */
export const prng = seededRandom;

/** Cuts `bytes` at random places into chunks (at least one chunk, possibly empty ones). */
export function randomSplit(bytes: Buffer, rand: () => number, maxChunk = 64): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(rand() * Math.min(maxChunk, bytes.length - i));
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  if (out.length === 0) out.push(Buffer.alloc(0));
  return out;
}

/** Keeps every event with its payload as the parser handed it out, uncopied. */
class KeepingHandler implements ParserHandler {
  readonly events: ParserEvent[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data, isBinary });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onError(error: ProtocolError): void {
    this.events.push({ type: 'error', error });
  }
}

/** Parses `chunks` one after the other through one reused buffer, scribbled over after each. */
function parseBorrowed(chunks: readonly Buffer[], options: ParserOptions): ParserEvent[] {
  const handler = new KeepingHandler();
  const parser = new FrameParser(options, handler);
  const buffer = Buffer.alloc(chunks.reduce((most, c) => Math.max(most, c.length), 1));
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  for (const c of chunks) {
    buffer.set(c);
    parser.pushBorrowed(buffer, c.length, view);
    buffer.fill(0xee);
  }
  return handler.events;
}

/** Events as comparable text: payloads as hex, errors by their stable code and close code. */
function comparable(events: ParserEvent[]): string {
  return JSON.stringify(
    events.map((e) => {
      switch (e.type) {
        case 'message':
          return ['message', e.data.toString('hex'), e.isBinary];
        case 'ping':
        case 'pong':
          return [e.type, e.data.toString('hex')];
        case 'close':
          return ['close', e.code, e.reason];
        case 'error':
          return ['error', e.error.code, e.error.closeCode];
      }
    }),
  );
}

/** A property violation, with what is needed to reproduce it. */
export interface FuzzFailure {
  iteration: number;
  reason: string;
  bytesHex: string;
}

/** Counts of what the fuzz run produced, to see that it reaches every outcome. */
export interface FuzzStats {
  iterations: number;
  bytes: number;
  messages: number;
  controls: number;
  closes: number;
  /** Streams that used permessage-deflate. */
  compressedStreams: number;
  /** Compressed streams whose inflated messages were checked against those sent. */
  verifiedCompressed: number;
  errors: Record<string, number>;
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** Characters of one to four UTF-8 bytes, so that text frames split inside a character. */
const PLAIN_PARTS = ['a', 'é', '€', '😀', ' ', 'z'].map((p) => Buffer.from(p));
/** The same with a JSON-like run, which compresses. */
const JSONISH_PARTS = [...PLAIN_PARTS, Buffer.from('{"k":1}')];

/** Valid UTF-8 of at least `n` bytes, pieces picked from `parts`. */
function textOf(rand: () => number, n: number, parts: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  let length = 0;
  while (length < n) {
    const p = pick(rand, parts);
    out.push(p);
    length += p.length;
  }
  return Buffer.concat(out, length);
}

function randomBytes(rand: () => number, n: number, textual: boolean): Buffer {
  if (textual && rand() < 0.7) return textOf(rand, n, PLAIN_PARTS);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** A stream and, when it holds only valid frames, the data messages it must deliver (up to its first close). */
interface Stream {
  bytes: Buffer;
  expected: Array<{ data: Buffer; isBinary: boolean }> | null;
}

/** Random permessage-deflate parameters, as a handshake could agree them. */
function randomDeflateParams(rand: () => number): DeflateParams {
  return {
    serverNoContextTakeover: rand() < 0.5,
    clientNoContextTakeover: rand() < 0.5,
    serverMaxWindowBits: 9 + Math.floor(rand() * 7),
    clientMaxWindowBits: 9 + Math.floor(rand() * 7),
  };
}

/**
 * A random stream of mostly valid frames for `role`'s peer. With `deflate` (the peer's
 * compressor), most data messages go compressed; `clean` streams hold no garbage frames, only
 * valid UTF-8 text, and no RSV1 misuse, so their messages are known.
 */
function randomStream(rand: () => number, masked: boolean, deflate: PerMessageDeflate | null, clean: boolean): Stream {
  const frames: Buffer[] = [];
  const expected: Array<{ data: Buffer; isBinary: boolean }> = [];
  let closed = false;
  let valid = true;
  const count = 1 + Math.floor(rand() * 8);
  const sizes = [0, 1, 5, 125, 126, 127, 300, 65535, 65536, 70000];
  for (let f = 0; f < count; f++) {
    const r = rand();
    const mask = !!masked;
    if (r < 0.5) {
      const binary = rand() < 0.5;
      const size = rand() < 0.9 ? Math.floor(rand() * 200) : pick(rand, sizes);
      const payload = clean && !binary ? randomText(rand, size) : randomBytes(rand, size, !binary);
      if (!binary && !clean) valid = false; // random bytes may not be UTF-8
      let wire: Buffer = payload;
      let rsv1 = false;
      if (deflate !== null && rand() < 0.8) {
        rsv1 = true;
        if (!clean && rand() < 0.15) {
          // RSV1 over bytes that are no deflate stream (or, by chance, one that inflates to anything).
          wire = randomBytes(rand, Math.floor(rand() * 40), false);
          valid = false;
        } else {
          wire = deflate.compress(payload);
        }
      }
      const pieces = 1 + Math.floor(rand() * 3);
      const step = Math.ceil(wire.length / pieces) || 1;
      for (let i = 0, k = 0; i < Math.max(1, wire.length); i += step, k++) {
        const last = i + step >= wire.length;
        // RFC 7692 §6.1: RSV1 only on the first frame; sometimes a broken peer sets it on a continuation.
        const misplaced = deflate !== null && !clean && k > 0 && rand() < 0.05;
        if (misplaced) valid = false;
        frames.push(
          encodeFrame(wire.subarray(i, i + step), {
            opcode: k === 0 ? (binary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION,
            fin: last,
            mask,
            rsv1: (rsv1 && k === 0) || misplaced,
          }),
        );
        if (!last && rand() < 0.3) frames.push(encodeFrame(randomBytes(rand, Math.floor(rand() * 20), false), { opcode: Opcode.PING, mask }));
      }
      if (!closed) expected.push({ data: payload, isBinary: binary });
    } else if (r < 0.8) {
      const misplaced = deflate !== null && !clean && rand() < 0.05;
      if (misplaced) valid = false;
      frames.push(encodeFrame(randomBytes(rand, Math.floor(rand() * 126), false), { opcode: rand() < 0.5 ? Opcode.PING : Opcode.PONG, mask, rsv1: misplaced }));
    } else if (r < 0.9) {
      frames.push(encodeFrame(encodeClosePayload(pick(rand, [1000, 1001, 1011, 3000, 4999]), 'bye'), { opcode: Opcode.CLOSE, mask }));
      closed = true;
    } else if (!clean) {
      frames.push(randomBytes(rand, Math.floor(rand() * 16), false));
      valid = false;
    }
  }
  return { bytes: Buffer.concat(frames), expected: valid ? expected : null };
}

/** Valid UTF-8 text of about `n` bytes. */
function randomText(rand: () => number, n: number): Buffer {
  return textOf(rand, n, JSONISH_PARTS);
}

/** Applies 0 to 4 random mutations. */
function mutate(rand: () => number, bytes: Buffer): Buffer {
  let b = Buffer.from(bytes);
  const n = Math.floor(rand() * 5);
  for (let m = 0; m < n && b.length > 0; m++) {
    const at = Math.floor(rand() * b.length);
    const kind = rand();
    if (kind < 0.5) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
    else if (kind < 0.65) b = b.subarray(0, at);
    else if (kind < 0.8) b = Buffer.concat([b.subarray(0, at), randomBytes(rand, 1 + Math.floor(rand() * 8), false), b.subarray(at)]);
    else if (kind < 0.9) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rand() * 4))]);
    else b[at] = pick(rand, [0x00, 0x7e, 0x7f, 0x80, 0xfe, 0xff]);
  }
  return b;
}

function check(events: ParserEvent[]): string | null {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'error' && !(e.error instanceof ProtocolError)) return 'error event is not a ProtocolError';
    if ((e.type === 'error' || e.type === 'close') && i !== events.length - 1) return `events after ${e.type}`;
  }
  return null;
}

/** Runs one fuzz iteration; returns a failure or null, and updates `stats`. */
export function fuzzOnce(rand: () => number, iteration: number, stats: FuzzStats): FuzzFailure | null {
  const masked = rand() < 0.5;
  const role = masked ? 'server' : 'client';
  const maxMessageBytes = rand() < 0.2 ? 200 : 1 << 20;
  // permessage-deflate in a third of the streams: the peer compresses, each parse inflates with a fresh context.
  const params = rand() < 0.35 ? randomDeflateParams(rand) : null;
  const clean = params !== null && rand() < 0.3;
  const peer = params && new PerMessageDeflate(params, masked ? 'client' : 'server', Number.POSITIVE_INFINITY);
  const stream = randomStream(rand, masked, peer, clean);
  peer?.close();
  const unmutated = rand() < 0.25 || clean;
  const bytes = unmutated ? stream.bytes : mutate(rand, stream.bytes);
  stats.iterations++;
  stats.bytes += bytes.length;
  if (params) stats.compressedStreams++;
  const fail = (reason: string): FuzzFailure => ({ iteration, reason, bytesHex: bytes.toString('hex').slice(0, 4000) });
  const parse = (chunks: Buffer[], borrowed = false): ParserEvent[] => {
    const codec = params && new PerMessageDeflate(params, role, maxMessageBytes);
    const options: ParserOptions = { role, maxMessageBytes, ...(codec && { inflate: (d: Buffer) => codec.decompress(d) }) };
    try {
      return borrowed ? parseBorrowed(chunks, options) : parseChunks(chunks, options);
    } finally {
      codec?.close();
    }
  };
  let whole: ParserEvent[];
  let split: ParserEvent[];
  let borrowed: ParserEvent[];
  try {
    whole = parse([bytes]);
    const chunks = randomSplit(bytes, rand, 1 + Math.floor(rand() * 100));
    split = parse(chunks);
    borrowed = parse(chunks, true);
  } catch (err) {
    return fail(`threw ${(err as Error)?.stack ?? String(err)}`);
  }
  const problem = check(whole) ?? check(split) ?? check(borrowed);
  if (problem) return fail(problem);
  const a = comparable(whole);
  const b = comparable(split);
  if (a !== b) return fail(`events depend on chunking:\n${a}\n${b}`);
  const c = comparable(borrowed);
  if (a !== c) return fail(`events differ when parsed from a reused buffer:\n${a}\n${c}`);
  if (unmutated && stream.expected !== null && maxMessageBytes > 100_000) {
    const got = whole.filter((e) => e.type === 'message').map((e) => [e.data.toString('hex'), e.isBinary]);
    const want = stream.expected.map((m) => [m.data.toString('hex'), m.isBinary]);
    if (JSON.stringify(got) !== JSON.stringify(want)) return fail(`a valid stream${params ? ' (compressed)' : ''} did not deliver its messages`);
    if (whole.some((e) => e.type === 'error')) return fail('a valid stream failed');
    if (params) stats.verifiedCompressed++;
  }
  for (const e of whole) {
    if (e.type === 'message') stats.messages++;
    else if (e.type === 'ping' || e.type === 'pong') stats.controls++;
    else if (e.type === 'close') stats.closes++;
    else stats.errors[e.error.code] = (stats.errors[e.error.code] ?? 0) + 1;
  }
  return null;
}

/** Empty statistics. */
export function newStats(): FuzzStats {
  return { iterations: 0, bytes: 0, messages: 0, controls: 0, closes: 0, compressedStreams: 0, verifiedCompressed: 0, errors: {} };
}
