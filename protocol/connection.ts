/**
 * The I/O adapter: one WebSocket connection over a `net.Socket` (or any `stream.Duplex`) after
 * the opening handshake. It wires socket bytes to the sans-I/O parser, encodes outgoing frames,
 * runs the closing handshake (RFC 6455 §7), answers pings, enforces a bound on queued output
 * and optionally runs a ping/pong heartbeat.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { closeFrameForError, protocolError, type ProtocolError } from './errors.ts';
import { encodeClosePayload, encodeFrame, encodeFrameInto, frameHeaderSize, Opcode, writeFrameHeader } from './frame.ts';
import { xorMaskRange } from './mask.ts';
import { FrameParser, type ParserHandler } from './parser.ts';

/** WebSocket ready states, numbered as in the WHATWG WebSocket API. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
/** One of the `ReadyState` values. */
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** Raw opening-handshake text, for display (the demo shows the real headers). */
export interface HandshakeInfo {
  /** Request line and header lines as sent, e.g. `['GET /ws HTTP/1.1', 'Host: …', …]`. */
  requestHeaders: string[];
  /** The response head as sent, status line to the blank line. */
  responseHeaders: string;
}

/** Observer of raw frame bytes in both directions. */
export type FrameObserver = (dir: 'in' | 'out', bytes: Buffer) => void;

/** Settings of one connection. */
export interface ConnectionOptions {
  /** `'client'` masks what it sends and expects unmasked frames; `'server'` the reverse. */
  role: 'server' | 'client';
  /** Largest incoming message, in bytes; larger fails with 1009. Default 64 MiB. */
  maxMessageSize?: number;
  /**
   * Hard cap on bytes queued in the socket. A send that would pass it fails the connection:
   * the socket is destroyed (a close frame would wait behind the same unread bytes) and
   * 'close' reports 1008. One message larger than the cap may still go out on an empty
   * queue. Default 16 MiB.
   */
  maxBufferedAmount?: number;
  /** Send a ping every this many ms (0 = no heartbeat). Default 0. */
  heartbeatIntervalMs?: number;
  /** Drop the peer (destroy the socket, 'close' with 1006) when this many pings went unanswered. Default 2. */
  maxMissedPongs?: number;
  /** How long to wait for the peer's close frame / TCP close after ours. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** Raw frame observer; see `WebSocketConnection.onFrame`. */
  onFrame?: FrameObserver;
  /** Negotiated subprotocol. */
  protocol?: string;
  /** Bytes that arrived right after the handshake and belong to the frame stream. */
  head?: Buffer;
  /** Raw handshake text, kept for display. */
  handshake?: HandshakeInfo;
}

/** Options of `send()`. */
export interface SendOptions {
  /** Send as binary (default: true for Buffers, false for strings). */
  binary?: boolean;
  /** Split the message into frames of at most this many payload bytes. */
  fragmentSize?: number;
}

/** What the heartbeat reports, for display. */
export type HeartbeatEvent =
  | { type: 'ping'; missed: number }
  | { type: 'pong'; rttMs: number }
  | { type: 'timeout'; missed: number };

/** Default `maxBufferedAmount`: 16 MiB. */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 16 * 1024 * 1024;
/** Unmasked payloads up to this size are copied next to their header (one write, one buffer). */
const COPY_THRESHOLD = 16 * 1024;
/** `sendMany` builds one buffer for batches up to this size, above it uses a corked writev. */
const BATCH_COPY_LIMIT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Events: `'message' (data: Buffer, isBinary: boolean)`, `'ping' (Buffer)`, `'pong' (Buffer)`,
 * `'close' (code: number, reason: string)` exactly once, `'error' (err)` — only emitted when
 * someone listens, so an unobserved failure cannot crash the process — `'drain'` and
 * `'heartbeat' (HeartbeatEvent)`.
 */
export class WebSocketConnection extends EventEmitter {
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  /** Raw handshake request/response text, when the adapter recorded it. */
  handshake: HandshakeInfo | undefined;
  /** Pings sent since the last pong (heartbeat). */
  missedPongs = 0;

  private readonly socket: Duplex;
  private readonly isClient: boolean;
  /** @internal */
  readonly parser: FrameParser;
  private readonly maxBufferedAmount: number;
  private readonly closeTimeoutMs: number;
  private state: ReadyStateValue = ReadyState.OPEN;
  private observer: FrameObserver | undefined;
  private sentClose = false;
  /** The code 'close' will report: peer's close code, or the code we failed the connection with. */
  private closeCode = 1006;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | undefined;
  /** Inside a socket 'data' event: writes made now may leave together (see batchWrite). */
  private parsing = false;
  private writesThisChunk = 0;
  private chunkCorked = false;
  /** Heartbeat interval this connection beats on (0 = none); see HeartbeatClock. */
  private heartbeatMs = 0;
  private maxMissed = 2;
  private lastPingAt = 0;
  private closeEmitted = false;

  constructor(socket: Duplex, options: ConnectionOptions) {
    super();
    this.socket = socket;
    this.isClient = options.role === 'client';
    this.protocol = options.protocol ?? '';
    this.handshake = options.handshake;
    this.maxBufferedAmount = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.parser = new FrameParser(
      { role: options.role, ...(options.maxMessageSize !== undefined && { maxMessageSize: options.maxMessageSize }) },
      new ParserEvents(this),
    );
    if (options.onFrame) this.onFrame = options.onFrame;

    const s = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    s.setNoDelay?.(true);
    s.setTimeout?.(0);
    // Shared listener functions that find their connection on the socket: no closures per
    // connection, which matters at ten thousand idle connections.
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);

    // Leftover bytes are parsed on the next tick, after the owner had a chance to add listeners.
    const head = options.head;
    if (head && head.length > 0) process.nextTick(() => this.parser.push(head));

    const interval = options.heartbeatIntervalMs ?? 0;
    if (interval > 0) this.startHeartbeat(interval, options.maxMissedPongs ?? 2);
  }

  /** Observer of the raw bytes of every frame, both directions; unset means no cost. */
  get onFrame(): FrameObserver | undefined {
    return this.observer;
  }
  set onFrame(observer: FrameObserver | undefined) {
    this.observer = observer;
    this.parser.setObserver(observer ? (bytes) => observer('in', bytes) : null);
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyStateValue {
    return this.state;
  }

  /** Bytes accepted by `send` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** The underlying socket (for counters such as bytesRead / bytesWritten). */
  get rawSocket(): Duplex {
    return this.socket;
  }

  /**
   * Sends one message. Returns false when the socket's buffer is over its high-water mark
   * (wait for 'drain') or when the connection is not open.
   */
  send(data: string | Uint8Array, options: SendOptions = {}): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    const binary = options.binary ?? typeof data !== 'string';
    const opcode = binary ? Opcode.BINARY : Opcode.TEXT;
    const fragmentSize = options.fragmentSize ?? 0;
    if (typeof data === 'string' && (fragmentSize <= 0 || data.length * 3 <= fragmentSize)) {
      return this.writeStringFrame(opcode, data);
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (fragmentSize <= 0 || bytes.length <= fragmentSize) return this.writeFrame(opcode, bytes, true);
    // §5.4: first frame carries the opcode, the rest are continuations, the last has FIN.
    let ok = true;
    this.socket.cork();
    for (let off = 0; off < bytes.length; off += fragmentSize) {
      const end = Math.min(off + fragmentSize, bytes.length);
      ok = this.writeFrame(off === 0 ? opcode : Opcode.CONTINUATION, bytes.subarray(off, end), end === bytes.length);
      if (this.state !== ReadyState.OPEN) break;
    }
    this.socket.uncork();
    return ok;
  }

  /**
   * Sends several messages with one socket write (one buffer when small, a corked vectored
   * write when large), instead of one write per frame.
   */
  sendMany(messages: ReadonlyArray<string | Uint8Array>, options: { binary?: boolean } = {}): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    const payloads: Uint8Array[] = messages.map((m) => (typeof m === 'string' ? Buffer.from(m, 'utf8') : m));
    let total = 0;
    for (const p of payloads) total += frameHeaderSize(p.length, this.isClient) + p.length;
    if (total > BATCH_COPY_LIMIT) {
      this.socket.cork();
      let ok = true;
      for (let i = 0; i < payloads.length && this.state === ReadyState.OPEN; i++) {
        ok = this.send(payloads[i]!, { binary: options.binary ?? typeof messages[i] !== 'string' });
      }
      this.socket.uncork();
      return ok;
    }
    if (!this.checkBudget(total)) return false;
    const out = Buffer.allocUnsafe(total);
    let o = 0;
    for (let i = 0; i < payloads.length; i++) {
      const binary = options.binary ?? typeof messages[i] !== 'string';
      const start = o;
      o = encodeFrameInto(out, o, payloads[i]!, binary ? Opcode.BINARY : Opcode.TEXT, true, false, this.isClient);
      if (this.observer) this.observer('out', Buffer.from(out.subarray(start, o)));
    }
    this.batchWrite();
    return this.socket.write(out);
  }

  /**
   * Encodes a message once as a server frame (unmasked), to hand to `sendPrepared` on many
   * connections: a broadcast to N peers then costs one encoding, not N.
   */
  static prepare(data: string | Uint8Array, binary = typeof data !== 'string'): Buffer {
    return encodeFrame(data, { opcode: binary ? Opcode.BINARY : Opcode.TEXT, fin: true, mask: false });
  }

  /** Sends a frame made by `prepare` (server role only: client frames must be masked one by one). */
  sendPrepared(frame: Buffer): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    if (this.isClient) throw new Error('sendPrepared is for the server role: a client must mask every frame with a fresh key');
    if (!this.checkBudget(frame.length)) return false;
    if (this.observer) this.observer('out', frame);
    this.batchWrite();
    return this.socket.write(frame);
  }

  /** Holds writes in memory until `uncork()`, so several sends leave in one write. */
  cork(): void {
    this.socket.cork();
  }

  /** Flushes what was held since `cork()`. */
  uncork(): void {
    this.socket.uncork();
  }

  /** Sends a ping (RFC 6455 §5.5.2), payload at most 125 bytes. */
  ping(data: string | Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.PING, data);
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: serves as a unidirectional heartbeat). */
  pong(data: string | Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.PONG, data);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): sends a close frame, waits up to
   * `closeTimeoutMs` for the peer's, then closes TCP. No code sends an empty close body (1005).
   */
  close(code?: number, reason = ''): void {
    if (this.state >= ReadyState.CLOSING) return;
    const body = encodeClosePayload(code, reason); // throws on codes that may not be sent
    this.state = ReadyState.CLOSING;
    this.sendCloseFrame(body);
    this.armCloseTimer();
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    if (this.state === ReadyState.CLOSED) return;
    this.state = ReadyState.CLOSING;
    this.parser.stop();
    this.socket.destroy();
  }

  /** @internal A chunk arrived: parse it; replies made meanwhile may be batched. */
  receive(chunk: Buffer): void {
    this.parsing = true;
    this.writesThisChunk = 0;
    this.parser.push(chunk);
    this.parsing = false;
    if (this.chunkCorked) {
      this.chunkCorked = false;
      this.socket.uncork();
    }
  }

  /**
   * Called before every socket write. The first reply to a chunk goes straight out (a lone
   * ping-pong pays nothing extra); from the second on, the socket is corked until the chunk is
   * parsed, so a chunk of N pipelined messages is answered with one vectored write.
   */
  private batchWrite(): void {
    if (this.parsing && ++this.writesThisChunk === 2) {
      this.socket.cork();
      this.chunkCorked = true;
    }
  }

  /** @internal Parser events, through ParserEvents. */
  handlePing(data: Buffer): void {
    // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response … same Application data"
    if (this.state === ReadyState.OPEN) this.sendControl(Opcode.PONG, data);
    this.emit('ping', data);
  }

  /** @internal */
  handlePong(data: Buffer): void {
    if (this.heartbeatMs > 0) {
      this.missedPongs = 0;
      this.emit('heartbeat', { type: 'pong', rttMs: Date.now() - this.lastPingAt } satisfies HeartbeatEvent);
    }
    this.emit('pong', data);
  }

  /** §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame, the endpoint MUST send a Close frame in response." */
  /** @internal */
  onPeerClose(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
    if (!this.sentClose) {
      // Echo the peer's code; 1005 means it sent none, so neither do we.
      this.sendCloseFrame(code === 1005 ? EMPTY : encodeClosePayload(code));
    }
    this.state = ReadyState.CLOSING;
    // §7.1.1: the server closes TCP first; the client may too once both close frames are out.
    this.socket.end();
    this.armCloseTimer();
  }

  /** §7.1.7 Fail the WebSocket Connection: send the error's close code, then close TCP. */
  /** @internal */
  failConnection(err: ProtocolError): void {
    const frame = closeFrameForError(err);
    this.closeCode = frame.code;
    this.closeReason = frame.reason;
    this.emitError(err);
    if (this.state === ReadyState.CLOSED) return;
    if (!this.sentClose) this.sendCloseFrame(encodeClosePayload(frame.code, frame.reason));
    this.state = ReadyState.CLOSING;
    this.socket.end();
    this.armCloseTimer();
  }

  private sendCloseFrame(body: Buffer): void {
    this.sentClose = true;
    if (!this.socket.writable) return;
    const out = Buffer.allocUnsafe(frameHeaderSize(body.length, this.isClient) + body.length);
    encodeFrameInto(out, 0, body, Opcode.CLOSE, true, false, this.isClient);
    if (this.observer) this.observer('out', out);
    this.batchWrite();
    this.socket.write(out);
  }

  private sendControl(opcode: number, data: string | Uint8Array): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less"
    if (bytes.length > 125) throw new RangeError('control frame payload over 125 bytes');
    return this.writeFrame(opcode, bytes, true);
  }

  /**
   * Refuses (and fails the connection) when queueing `size` more bytes would pass the cap. A
   * single message larger than the cap still goes out when nothing else is queued, so memory
   * per connection stays below max(cap, largest message).
   */
  private checkBudget(size: number): boolean {
    const queued = this.socket.writableLength;
    if (queued === 0 || queued + size <= this.maxBufferedAmount) return true;
    const err = protocolError('WS_ERR_BUFFER_OVERFLOW', `${this.socket.writableLength + size} bytes`);
    this.closeCode = err.closeCode;
    this.closeReason = err.message;
    this.emitError(err);
    this.terminate();
    return false;
  }

  private writeStringFrame(opcode: number, text: string): boolean {
    const length = Buffer.byteLength(text, 'utf8');
    const header = frameHeaderSize(length, this.isClient);
    if (!this.checkBudget(header + length)) return false;
    const out = Buffer.allocUnsafe(header + length);
    const start = writeFrameHeader(out, 0, length, opcode, true, false, this.isClient);
    out.write(text, start, 'utf8');
    if (this.isClient) xorMaskRange(out, start, start + length, out, start - 4, 0);
    if (this.observer) this.observer('out', out);
    this.batchWrite();
    return this.socket.write(out);
  }

  private writeFrame(opcode: number, payload: Uint8Array, fin: boolean): boolean {
    const length = payload.length;
    const header = frameHeaderSize(length, this.isClient);
    if (!this.checkBudget(header + length)) return false;
    // Masked payloads need a copy anyway; small ones are cheaper copied than written twice.
    if (this.isClient || length <= COPY_THRESHOLD) {
      const out = Buffer.allocUnsafe(header + length);
      encodeFrameInto(out, 0, payload, opcode, fin, false, this.isClient);
      if (this.observer) this.observer('out', out);
      this.batchWrite();
      return this.socket.write(out);
    }
    // Large unmasked payload: header and payload leave in one vectored write, payload uncopied.
    const head = Buffer.allocUnsafe(header);
    writeFrameHeader(head, 0, length, opcode, fin, false, null);
    if (this.observer) this.observer('out', Buffer.concat([head, payload]));
    this.batchWrite();
    this.socket.cork();
    this.socket.write(head);
    const ok = this.socket.write(payload);
    this.socket.uncork();
    return ok;
  }

  private startHeartbeat(intervalMs: number, maxMissed: number): void {
    this.heartbeatMs = intervalMs;
    this.maxMissed = maxMissed;
    HeartbeatClock.join(intervalMs, this);
  }

  /** One heartbeat tick: drop a peer that let `maxMissed` pings go unanswered, else ping it. */
  beat(): void {
    if (this.state !== ReadyState.OPEN) return;
    if (this.missedPongs >= this.maxMissed) {
      // A peer that stopped answering pings will not finish a closing handshake either.
      this.emit('heartbeat', { type: 'timeout', missed: this.missedPongs } satisfies HeartbeatEvent);
      this.terminate();
      return;
    }
    this.missedPongs++;
    this.lastPingAt = Date.now();
    this.sendControl(Opcode.PING, EMPTY);
    this.emit('heartbeat', { type: 'ping', missed: this.missedPongs } satisfies HeartbeatEvent);
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** @internal */
  onSocketEnd(): void {
    // The peer closed its side; sockets from http servers allow half-open, so finish ours.
    this.parser.stop();
    if (this.state === ReadyState.OPEN) this.state = ReadyState.CLOSING;
    this.socket.end();
  }

  /** @internal */
  onSocketClose(): void {
    this.parser.stop();
    this.state = ReadyState.CLOSED;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (this.heartbeatMs > 0) HeartbeatClock.leave(this.heartbeatMs, this);
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', this.closeCode, this.closeReason);
  }

  /** @internal */
  emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * One timer per heartbeat interval, shared by every connection that beats at it: ten thousand
 * idle peers cost one timer, not ten thousand. A connection that joins between two ticks is
 * first pinged at the next tick, so a silent peer is dropped after between maxMissed and
 * maxMissed + 1 intervals.
 */
class HeartbeatClock {
  private static readonly clocks = new Map<number, HeartbeatClock>();
  private readonly members = new Set<WebSocketConnection>();
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly intervalMs: number) {
    this.timer = setInterval(() => {
      for (const c of this.members) c.beat();
    }, intervalMs);
    this.timer.unref();
  }

  static join(intervalMs: number, conn: WebSocketConnection): void {
    let clock = HeartbeatClock.clocks.get(intervalMs);
    if (!clock) {
      clock = new HeartbeatClock(intervalMs);
      HeartbeatClock.clocks.set(intervalMs, clock);
    }
    clock.members.add(conn);
  }

  static leave(intervalMs: number, conn: WebSocketConnection): void {
    const clock = HeartbeatClock.clocks.get(intervalMs);
    if (!clock) return;
    clock.members.delete(conn);
    if (clock.members.size === 0) {
      clearInterval(clock.timer);
      HeartbeatClock.clocks.delete(clock.intervalMs);
    }
  }
}

const kConnection = Symbol('websocket-connection');
type OwnedSocket = Duplex & { [kConnection]: WebSocketConnection };

function socketOnData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection].receive(chunk);
}
function socketOnEnd(this: OwnedSocket): void {
  this[kConnection].onSocketEnd();
}
function socketOnClose(this: OwnedSocket): void {
  this[kConnection].onSocketClose();
}
function socketOnError(this: OwnedSocket, err: Error): void {
  this[kConnection].emitError(err);
}
function socketOnDrain(this: OwnedSocket): void {
  this[kConnection].emit('drain');
}

/** The parser's handler: one small object per connection, its methods on the prototype. */
class ParserEvents implements ParserHandler {
  constructor(private readonly conn: WebSocketConnection) {}
  onMessage(data: Buffer, isBinary: boolean): void {
    this.conn.emit('message', data, isBinary);
  }
  onPing(data: Buffer): void {
    this.conn.handlePing(data);
  }
  onPong(data: Buffer): void {
    this.conn.handlePong(data);
  }
  onClose(code: number, reason: string): void {
    this.conn.onPeerClose(code, reason);
  }
  onError(err: ProtocolError): void {
    this.conn.failConnection(err);
  }
}
