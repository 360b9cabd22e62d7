/**
 * The I/O adapter: one WebSocket connection over a `net.Socket` (or any `stream.Duplex`) after
 * the opening handshake. The protocol itself — framing, the closing handshake (RFC 6455 §7),
 * answering pings — is the sans-I/O `ConnectionProtocol` (core.ts); this file feeds it socket
 * bytes, turns its events into EventEmitter events, writes what it produces through one funnel
 * (`transmit`), bounds queued output, and runs the timers (close timeout, heartbeat).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { protocolError, type ProtocolError } from './errors.ts';
import { PerMessageDeflate, type DeflateOptions, type DeflateParams } from './deflate.ts';
import { encodeFrame, encodePayloadInto, frameHeaderSize, Opcode } from './frame.ts';
import { ConnectionProtocol, ReadyState, type FrameObserver, type ProtocolOutput, type ReadyStateValue } from './core.ts';
import { BufferView, DEFAULT_MAX_MESSAGE_BYTES, type ParserHandler } from './parser.ts';
import { takeOver, type HandleIo, type HandleIoOwner } from './handle-io.ts';

/** Raw opening-handshake text, for display (the demo shows the real headers). */
export interface HandshakeInfo {
  /** Request line and header lines as sent, e.g. `['GET /ws HTTP/1.1', 'Host: …', …]`. */
  requestHeaders: string[];
  /** The response head as sent, status line to the blank line. */
  responseHeaders: string;
}

/** Settings of one connection. */
export interface ConnectionOptions {
  /** `'client'` masks what it sends and expects unmasked frames; `'server'` the reverse. */
  role: 'server' | 'client';
  /** Largest incoming message, in bytes; larger fails with 1009. Default 64 MiB. */
  maxMessageBytes?: number;
  /**
   * Hard cap on bytes queued in the socket. A send that would pass it fails the connection
   * with 1008: nothing more is queued, the close frame goes behind what is queued (a slow
   * reader still gets it), and the socket is destroyed after `closeTimeoutMs` if the peer
   * never reads that far. One message larger than the cap may still go out on an empty
   * queue. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * Stop reading the socket while more than this many bytes wait to be sent, resume on
   * 'drain': a peer that sends faster than it reads our answers is slowed down instead of
   * growing our queue to the cap. Default 1 MiB for the server role, off (0) for the client:
   * if both ends stopped reading while their output was full, neither queue could drain.
   */
  pauseReadingAboveBytes?: number;
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
  /** permessage-deflate parameters agreed in the handshake; absent means none. */
  deflate?: DeflateParams;
  /** Local permessage-deflate settings (threshold, level) used with `deflate`. */
  deflateOptions?: DeflateOptions;
  /**
   * Read and write a plain TCP socket through its handle, below Node's stream layer (see
   * handle-io.ts); sockets it cannot take (TLS, anything buffered) keep the stream path. Default false.
   */
  handleIo?: boolean;
}

/** Options of `send()`. */
export interface SendOptions {
  /** Send as binary (default: true for Buffers, false for strings). */
  binary?: boolean;
  /** Split the message into frames of at most this many payload bytes. */
  fragmentSize?: number;
}

/** What the heartbeat reports, for display. */
export type HeartbeatEvent = { type: 'ping'; missed: number } | { type: 'pong'; rttMs: number } | { type: 'timeout'; missed: number };

/** Default `maxBufferedBytes`: 16 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Default `pauseReadingAboveBytes` of the server role: 1 MiB. */
const DEFAULT_PAUSE_READING_ABOVE = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The listener table every EventEmitter keeps (Node 0.x to 24): a listener alone is stored as
 * the function itself, several as an array.
 */
interface EmitterInternals {
  _events?: Record<string | symbol, ((...args: unknown[]) => unknown) | unknown[] | undefined>;
}

/**
 * Start-up self-test of that table: one listener is the function itself, two an array, and
 * removing down to one or none goes back. Where it means something else (a future Node), messages
 * are emitted with `emit`, as they are for emitters that capture rejections.
 */
function listenerTableWorks(): boolean {
  try {
    const e = new EventEmitter();
    const slot = () => (e as unknown as EmitterInternals)._events?.message;
    const one = () => {};
    const two = () => {};
    if (slot() !== undefined) return false;
    e.on('message', one);
    if (slot() !== one) return false;
    e.on('message', two);
    const both = slot();
    if (!Array.isArray(both) || both[0] !== one || both[1] !== two) return false;
    e.off('message', two);
    if (slot() !== one) return false;
    e.off('message', one);
    return slot() === undefined;
  } catch {
    return false;
  }
}
const LISTENER_TABLE_OK = listenerTableWorks();

/** A 'message', 'error' or 'close' event parsed before the application listened. */
type HeldEvent = ['message', Buffer, boolean] | ['error', Error] | ['close', number, string];
/** Frames up to this size are gathered while a connection is corked; larger ones are written as they are. */
const COALESCE_MAX_FRAME = 4096;
/** The shared slab that corked connections gather frames in. */
const SLAB_BYTES = 64 * 1024;
let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
/** `slab.buffer` (read once: the getter is a call into C++), of which `slab` covers all. */
let slabMemory: ArrayBufferLike = slab.buffer;
let slabUsed = 0;

/** Past this many held events or bytes the socket is paused until the application listens. */
const HOLD_MAX_EVENTS = 1024;
const HOLD_MAX_BYTES = 1024 * 1024;

// The adapter's own members, keyed by symbols this module does not export: the helper objects
// below (core events, socket output, handle owner, heartbeat clock, socket listeners) call them,
// and the application cannot reach them, so the connection's API is only what it documents.
const kHeld = Symbol('held');
const kOnGone = Symbol('onGone');
const kReceive = Symbol('receive');
const kReceiveBorrowed = Symbol('receiveBorrowed');
const kOnIoFlushed = Symbol('onIoFlushed');
const kOnDrain = Symbol('onDrain');
const kTransmit = Symbol('transmit');
const kTransmitFrame = Symbol('transmitFrame');
const kEndOutput = Symbol('endOutput');
const kDeliver = Symbol('deliver');
const kHandlePong = Symbol('handlePong');
const kBeat = Symbol('beat');
const kArmCloseTimer = Symbol('armCloseTimer');
const kOnSocketEnd = Symbol('onSocketEnd');
const kOnSocketClose = Symbol('onSocketClose');
const kEmitError = Symbol('emitError');
const kHold = Symbol('hold');
const kScheduleRelease = Symbol('scheduleRelease');

/**
 * Events: `'message' (data: Buffer, isBinary: boolean)`, `'ping' (Buffer)`, `'pong' (Buffer)`,
 * `'close' (code: number, reason: string)` exactly once, `'error' (err)` — only emitted when
 * someone listens, so an unobserved failure cannot crash the process — `'drain'` and
 * `'heartbeat' (HeartbeatEvent)`.
 *
 * Early events: a server may send frames in the same TCP write as its 101 answer, before the
 * code that awaited `connect()` (or that got the connection from `handleUpgrade`) had a chance
 * to listen. So 'message', 'error' and 'close' events are held from the start until the first
 * listener for one of those three is attached, then emitted in order one microtask later (so
 * every listener attached in the same synchronous block sees them); from then on events are
 * emitted directly and the hold costs one null check per message. Pings are answered at once
 * and 'ping'/'pong' events are never held. A connection nobody listens to holds at most
 * HOLD_MAX_EVENTS events or HOLD_MAX_BYTES bytes (plus the message that crossed the line)
 * before its socket is paused, which pushes back on the peer through TCP.
 */
export class WebSocketConnection extends EventEmitter {
  /** The negotiated subprotocol ('' when none). */
  readonly protocol: string;
  /** Raw handshake request/response text, when the adapter recorded it. */
  handshake: HandshakeInfo | undefined;
  /** Pings sent since the last pong (heartbeat). */
  missedPongs = 0;

  private readonly socket: Duplex;
  /** The socket's handle when this connection reads and writes below the stream layer, else null. */
  private readonly io: HandleIo | null;
  /** A send returned false: emit 'drain' once the queue is empty (the handle path's own bookkeeping). */
  private needDrain = false;
  /** The sans-I/O state machine this adapter drives. */
  private readonly core: ConnectionProtocol;
  private readonly maxBufferedBytes: number;
  private readonly closeTimeoutMs: number;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Inside a socket 'data' event: the frames written now gather and leave together (see transmit). */
  private parsing = false;
  /** Open `cork()` calls: while above 0 (or while a chunk is parsed), small frames gather in the pending region. */
  private corks = 0;
  /** Frames written while corked, one contiguous region of a shared slab (see `reserve`). */
  private pendingSlab: ArrayBufferLike | null = null;
  private pendingStart = 0;
  private pendingEnd = 0;
  /** Heartbeat interval this connection beats on (0 = none); see HeartbeatClock. */
  private heartbeatMs = 0;
  private maxMissed = 2;
  private lastPingAt = 0;
  private closeEmitted = false;
  /** Events waiting for the application's first listener; null once released. */
  [kHeld]: HeldEvent[] | null = [];
  private heldBytes = 0;
  private pausedForHold = false;
  /** Reading stopped until the socket drains (see `pauseReadingAboveBytes`). */
  private pausedForOutput = false;
  private readonly pauseAbove: number;
  /** The socket's own high-water mark, read once: `send` returns false past it. */
  private readonly highWaterMark: number;
  /** Why this side dropped the connection, if it did: its output passed the cap, or pings went unanswered. */
  dropReason: 'slow-reader' | 'missed-pongs' | undefined;
  /** Called once when the socket is gone, before 'close' (which may be held). */
  [kOnGone]: (() => void) | undefined;
  /** 'message' listeners may be called without `emit` (see `deliver`). */
  private readonly directMessages = LISTENER_TABLE_OK && !EventEmitter.captureRejections;

  constructor(socket: Duplex, options: ConnectionOptions) {
    super();
    this.socket = socket;
    this.protocol = options.protocol ?? '';
    this.handshake = options.handshake;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    const pauseAbove = options.pauseReadingAboveBytes ?? (options.role === 'server' ? DEFAULT_PAUSE_READING_ABOVE : 0);
    // At or above the socket's high-water mark, so a queue that long made write() return false and
    // the socket will emit the 'drain' that resumes reading.
    this.highWaterMark = socket.writableHighWaterMark;
    this.pauseAbove = pauseAbove > 0 ? Math.max(pauseAbove, this.highWaterMark) : 0;
    const deflate = options.deflate
      ? new PerMessageDeflate(options.deflate, options.role, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, options.deflateOptions)
      : undefined;
    this.core = new ConnectionProtocol(
      {
        role: options.role,
        ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
        ...(deflate !== undefined && { deflate }),
      },
      new CoreEvents(this),
      new SocketOutput(this),
    );
    if (options.onFrame) this.core.onFrame = options.onFrame;

    const s = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    s.setNoDelay?.(true);
    s.setTimeout?.(0);
    // Shared listener functions that find their connection on the socket: no closures per
    // connection, which matters at ten thousand idle connections.
    (socket as OwnedSocket)[kConnection] = this;
    this.io = options.handleIo ? takeOver(socket, new IoOwner(this)) : null;
    if (this.io === null) socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    this.on('newListener', onNewListener);

    // Leftover bytes are parsed on the next tick, after the owner had a chance to set an observer;
    // their events are held until the application listens (see the class comment).
    const head = options.head;
    if (head && head.length > 0) process.nextTick(() => this[kReceive](head));

    const interval = options.heartbeatIntervalMs ?? 0;
    if (interval > 0) this.startHeartbeat(interval, options.maxMissedPongs ?? 2);
  }

  /** Observer of the raw bytes of every frame, both directions; unset means no cost. */
  get onFrame(): FrameObserver | undefined {
    return this.core.onFrame;
  }
  set onFrame(observer: FrameObserver | undefined) {
    this.core.onFrame = observer;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyStateValue {
    return this.core.state;
  }

  /** permessage-deflate is in use on this connection (RFC 7692). */
  get compressed(): boolean {
    return this.core.deflate !== null;
  }

  /** Bytes of compression state (zlib contexts) this connection holds now; 0 without permessage-deflate. */
  get extensionMemoryBytes(): number {
    return this.core.deflate?.memoryBytes ?? 0;
  }

  /** Bytes accepted by `send` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.queued();
  }

  /** How this connection reaches its socket: 'handle' below the stream layer, or 'stream'. */
  get socketIo(): 'handle' | 'stream' {
    return this.io === null ? 'stream' : 'handle';
  }

  private queued(): number {
    const io = this.io;
    // On the handle path nothing goes through the socket's Writable (takeOver found it empty).
    const held = this.pendingEnd - this.pendingStart;
    return io === null ? this.socket.writableLength + held : io.pendingBytes + held;
  }

  /** Hands one buffer to the socket; false past the high-water mark, as `Writable.write`. */
  private put(data: Buffer): boolean {
    const io = this.io;
    if (io === null) return this.socket.write(data);
    io.write(data);
    const queued = this.queued();
    if (queued >= this.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    this.drainIfFlushed();
    return true;
  }

  /**
   * After a send said to wait, the kernel may take everything at once (no write completes
   * later to say so): then 'drain' comes a tick later, as a Writable's does.
   */
  private drainIfFlushed(): void {
    if (this.needDrain && this.queued() === 0) process.nextTick(ioFlushedTick, this);
  }

  /**
   * The underlying socket (for counters such as bytesRead / bytesWritten, pause/resume). On the
   * handle path (`socketIo`) it emits no 'data' and must not be written to directly.
   */
  get rawSocket(): Duplex {
    return this.socket;
  }

  /**
   * Sends one message. Returns false when the socket's buffer is over its high-water mark
   * (wait for 'drain') or when the connection is not open.
   */
  send(data: string | Uint8Array, options?: SendOptions): boolean {
    if (options === undefined) return this.core.sendData(data, typeof data !== 'string', 0);
    return this.core.sendData(data, options.binary ?? typeof data !== 'string', options.fragmentSize ?? 0);
  }

  /**
   * Sends several messages with one socket write (one buffer when small, a corked vectored
   * write when large), instead of one write per frame.
   */
  sendMany(messages: ReadonlyArray<string | Uint8Array>, options: { binary?: boolean } = {}): boolean {
    return this.core.sendBatch(messages, options.binary);
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
    return this.core.sendPrepared(frame);
  }

  /**
   * Holds writes in memory until `uncork()`, so several sends leave in one write: small frames
   * are copied next to each other into one buffer and handed to the socket as one chunk, which
   * costs less than a socket write per frame even when the socket itself is corked.
   */
  cork(): void {
    if (this.corks++ === 0) this.io?.cork();
    if (this.io === null) this.socket.cork();
  }

  /** Flushes what was held since the matching `cork()` (calls nest). */
  uncork(): void {
    if (this.corks === 0) return;
    if (--this.corks === 0) {
      this.flushPending();
      if (this.io !== null) {
        this.io.uncork();
        this.drainIfFlushed();
      }
    }
    if (this.io === null) this.socket.uncork();
  }

  /** Sends a ping (RFC 6455 §5.5.2), payload at most 125 bytes. */
  ping(data: string | Uint8Array = EMPTY): boolean {
    return this.core.ping(data);
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3: serves as a unidirectional heartbeat). */
  pong(data: string | Uint8Array = EMPTY): boolean {
    return this.core.pong(data);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): sends a close frame, waits up to
   * `closeTimeoutMs` for the peer's, then closes TCP. No code sends an empty close body (1005).
   */
  close(code?: number, reason = ''): void {
    if (this.core.state !== ReadyState.OPEN) return;
    this.core.close(code, reason); // throws on codes that may not be sent
    this[kArmCloseTimer]();
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    if (this.core.state === ReadyState.CLOSED) return;
    this.core.abort();
    this.socket.destroy();
  }

  /** A chunk arrived: parse it; replies made meanwhile may be batched. */
  [kReceive](chunk: Buffer): void {
    this.parsing = true;
    this.core.receiveData(chunk);
    this.afterChunk();
  }

  /** The handle path's shared read buffer holds `length` new bytes (see HandleIoOwner). */
  [kReceiveBorrowed](buffer: Buffer, length: number, view: DataView): void {
    this.parsing = true;
    this.core.receiveBorrowed(buffer, length, view);
    this.afterChunk();
  }

  /** The replies to a chunk leave in one write; reading pauses while too much waits to leave. */
  private afterChunk(): void {
    this.parsing = false;
    if (this.corks === 0) this.flushPending();
    // Back-pressure: the answers to this chunk are still queued; read more once they left.
    if (this.pauseAbove > 0 && !this.pausedForOutput && this.queued() > this.pauseAbove) {
      this.pausedForOutput = true;
      this.socket.pause();
    }
  }

  /** The handle path's queue emptied (see `put`). */
  [kOnIoFlushed](): void {
    if ((!this.needDrain && !this.pausedForOutput) || this.queued() > 0) return;
    this.needDrain = false;
    this[kOnDrain]();
  }

  /** The socket's queue emptied: resume reading if it was paused for output. */
  [kOnDrain](): void {
    if (this.pausedForOutput) {
      this.pausedForOutput = false;
      if (!this.pausedForHold) this.socket.resume();
    }
    this.emit('drain');
  }

  /**
   * The one place bytes go to the socket. `budgeted` writes are refused (and the
   * connection dropped) when they would pass `maxBufferedBytes`; the close frame is not.
   *
   * While a chunk is parsed, small frames gather as they do under `cork()` and leave in one
   * socket write when the chunk is done: a chunk of N pipelined messages is answered with one
   * write, and a lone message with one write of its frame, with none of the stream's cork and
   * uncork work.
   */
  [kTransmit](first: Buffer, second: Uint8Array | undefined, budgeted: boolean): boolean {
    const socket = this.socket;
    if (budgeted) {
      const size = second === undefined ? first.length : first.length + second.length;
      if (!this.checkBudget(size)) return false;
    } else if (!socket.writable) {
      return false;
    }
    if (second === undefined) {
      if ((this.corks > 0 || this.parsing) && first.length <= COALESCE_MAX_FRAME) return this.coalesce(first);
      this.flushPending();
      return this.put(first);
    }
    this.flushPending();
    const io = this.io;
    if (io !== null) {
      // Header and payload leave in one vectored write, as the corked socket below does.
      if (this.corks === 0) io.cork();
      this.put(first);
      const ok = this.put(Buffer.from(second.buffer, second.byteOffset, second.byteLength));
      if (this.corks === 0) {
        io.uncork();
        this.drainIfFlushed();
      }
      return ok;
    }
    socket.cork();
    socket.write(first);
    const ok = socket.write(second);
    socket.uncork();
    return ok;
  }

  /**
   * Encodes one frame and sends it (the core's `writeFrame`): while the connection is
   * corked or a chunk is parsed, a small frame is encoded straight behind the frames already
   * held, else into its own buffer that goes to the socket as `transmit` would send it.
   */
  [kTransmitFrame](payload: Uint8Array | string, length: number, opcode: number, fin: boolean, rsv1: boolean, masked: boolean): boolean {
    const size = frameHeaderSize(length, masked) + length;
    if (!this.checkBudget(size)) return false;
    if ((this.corks > 0 || this.parsing) && size <= COALESCE_MAX_FRAME) {
      const at = this.reserve(size);
      encodePayloadInto(slab, at, payload, length, opcode, fin, rsv1, masked);
      return this.underHighWaterMark();
    }
    const out = Buffer.allocUnsafe(size);
    encodePayloadInto(out, 0, payload, length, opcode, fin, rsv1, masked);
    this.flushPending();
    return this.put(out);
  }

  /** Copies a small whole frame behind the frames held by this corked connection. */
  private coalesce(frame: Buffer): boolean {
    const at = this.reserve(frame.length); // first: it may replace the slab
    slab.set(frame, at);
    return this.underHighWaterMark();
  }

  private underHighWaterMark(): boolean {
    if (this.queued() < this.highWaterMark) return true;
    if (this.io !== null) this.needDrain = true;
    return false;
  }

  /**
   * Makes room for `n` bytes right after the frames this corked connection holds and returns
   * where they go in `slab`. The frames live in one slab shared by every connection (as Node's
   * own Buffer pool): this connection's region grows while nothing else took the bytes after
   * it; otherwise the region goes to the (corked) socket as it is and a new one starts. The
   * socket never sees a region again after it got it, so reusing the slab past it is safe.
   */
  private reserve(n: number): number {
    if (this.pendingSlab !== slabMemory || this.pendingEnd !== slabUsed || slabUsed + n > SLAB_BYTES) {
      this.flushPending();
      if (slabUsed + n > SLAB_BYTES) {
        slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        slabMemory = slab.buffer;
        slabUsed = 0;
      }
      this.pendingSlab = slabMemory;
      this.pendingStart = slabUsed;
    }
    const at = slabUsed;
    slabUsed += n;
    this.pendingEnd = slabUsed;
    return at;
  }

  /** Hands the frames gathered while corked to the socket, as one chunk. */
  private flushPending(): void {
    if (this.pendingEnd === this.pendingStart) return;
    const region = new BufferView(this.pendingSlab!, this.pendingStart, this.pendingEnd - this.pendingStart);
    this.pendingSlab = null;
    this.pendingStart = 0;
    this.pendingEnd = 0;
    this.put(region);
  }

  /** The protocol is done sending: half-close TCP, and bound the wait for the peer. */
  [kEndOutput](): void {
    this.flushPending();
    if (this.io !== null) this.io.end();
    else this.socket.end();
    this[kArmCloseTimer]();
  }

  /**
   * Refuses (and fails the connection) when queueing `size` more bytes would pass the cap. A
   * single message larger than the cap still goes out when nothing else is queued, so memory
   * per connection stays below max(cap, largest message).
   */
  private checkBudget(size: number): boolean {
    const queued = this.queued();
    if (queued === 0 || queued + size <= this.maxBufferedBytes) return true;
    const err = protocolError('WS_ERR_BUFFER_OVERFLOW', `${queued + size} bytes`);
    this.dropReason = 'slow-reader';
    this[kEmitError](err);
    // Queue nothing more but the close frame: it waits behind the unread bytes, so a slow reader
    // still learns why (1008 and the reason) before TCP closes; failing half-closes and arms the
    // close timer, which destroys the socket of a peer that never reads that far.
    this.core.fail(err.closeCode, err.message);
    return false;
  }

  /**
   * Emits 'message'. With one listener (the usual case) it is called straight away, as
   * `emit` would call it, without the emit's generic event lookup, argument array and `apply`.
   * Rejection capture (`captureRejections`) needs `emit`'s handling, so it keeps the emit.
   */
  [kDeliver](data: Buffer, isBinary: boolean): void {
    const listener = this.directMessages ? (this as unknown as EmitterInternals)._events?.message : undefined;
    if (typeof listener === 'function') listener.call(this, data, isBinary);
    else this.emit('message', data, isBinary);
  }

  /** A pong arrived: it answers the heartbeat's ping. */
  [kHandlePong](data: Buffer): void {
    if (this.heartbeatMs > 0) {
      this.missedPongs = 0;
      this.emit('heartbeat', { type: 'pong', rttMs: Date.now() - this.lastPingAt } satisfies HeartbeatEvent);
    }
    this.emit('pong', data);
  }

  private startHeartbeat(intervalMs: number, maxMissed: number): void {
    this.heartbeatMs = intervalMs;
    this.maxMissed = maxMissed;
    HeartbeatClock.join(intervalMs, this);
  }

  /** One heartbeat tick: drop a peer that let `maxMissed` pings go unanswered, else ping it. */
  [kBeat](): void {
    if (this.core.state !== ReadyState.OPEN) return;
    if (this.missedPongs >= this.maxMissed) {
      // A peer that stopped answering pings will not finish a closing handshake either.
      this.emit('heartbeat', { type: 'timeout', missed: this.missedPongs } satisfies HeartbeatEvent);
      this.dropReason = 'missed-pongs';
      this.terminate();
      return;
    }
    this.missedPongs++;
    this.lastPingAt = Date.now();
    this.core.ping(EMPTY);
    this.emit('heartbeat', { type: 'ping', missed: this.missedPongs } satisfies HeartbeatEvent);
  }

  /** Bounds the wait for the peer's side of the closing handshake. */
  [kArmCloseTimer](): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** The peer half-closed TCP. */
  [kOnSocketEnd](): void {
    this.core.receiveEof();
  }

  /** The socket is gone: the connection is CLOSED and 'close' is emitted (or held). */
  [kOnSocketClose](): void {
    this.core.connectionLost();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    if (this.heartbeatMs > 0) HeartbeatClock.leave(this.heartbeatMs, this);
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this[kOnGone]?.();
    if (this[kHeld] !== null) this[kHold](['close', this.core.closeCode, this.core.closeReason]);
    else this.emit('close', this.core.closeCode, this.core.closeReason);
  }

  /** Emits 'error' when someone listens (or holds it for the first listener). */
  [kEmitError](err: Error): void {
    if (this[kHeld] !== null) this[kHold](['error', err]);
    else if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Keeps an event for the application's first listener; bounded by pausing the socket. */
  [kHold](event: HeldEvent): void {
    const held = this[kHeld]!;
    held.push(event);
    if (event[0] === 'message') this.heldBytes += event[1].length;
    if (!this.pausedForHold && (held.length >= HOLD_MAX_EVENTS || this.heldBytes >= HOLD_MAX_BYTES)) {
      this.pausedForHold = true;
      this.socket.pause();
    }
  }

  /** The first 'message', 'error' or 'close' listener is being attached. */
  [kScheduleRelease](): void {
    this.off('newListener', onNewListener);
    // One microtask later, so the listeners attached in the same synchronous block all see the events.
    queueMicrotask(() => this.release());
  }

  private release(): void {
    const held = this[kHeld];
    if (held === null) return;
    // Events that arrive while the held ones are emitted are appended and emitted in turn.
    for (let i = 0; i < held.length; i++) {
      const e = held[i]!;
      if (e[0] === 'message') this.emit('message', e[1], e[2]);
      else if (e[0] === 'close') this.emit('close', e[1], e[2]);
      else if (this.listenerCount('error') > 0) this.emit('error', e[1]);
    }
    this[kHeld] = null;
    this.heldBytes = 0;
    if (this.pausedForHold) {
      this.pausedForHold = false;
      if (!this.pausedForOutput) this.socket.resume();
    }
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
      for (const c of this.members) c[kBeat]();
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

/**
 * Has `fn` called once when the connection's socket is gone, before 'close' (which may be held
 * for the application's first listener): for the server that keeps the set of its clients.
 */
export function whenGone(conn: WebSocketConnection, fn: () => void): void {
  conn[kOnGone] = fn;
}

const kConnection = Symbol('websocket-connection');
type OwnedSocket = Duplex & { [kConnection]: WebSocketConnection };

function socketOnData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection][kReceive](chunk);
}
function socketOnEnd(this: OwnedSocket): void {
  this[kConnection][kOnSocketEnd]();
}
function socketOnClose(this: OwnedSocket): void {
  this[kConnection][kOnSocketClose]();
}
function socketOnError(this: OwnedSocket, err: Error): void {
  this[kConnection][kEmitError](err);
}
function socketOnDrain(this: OwnedSocket): void {
  this[kConnection][kOnDrain]();
}
function ioFlushedTick(conn: WebSocketConnection): void {
  conn[kOnIoFlushed]();
}
function onNewListener(this: WebSocketConnection, event: string | symbol): void {
  if (event === 'message' || event === 'close' || event === 'error') this[kScheduleRelease]();
}

/** The core's event handler: one small object per connection, its methods on the prototype. */
class CoreEvents implements ParserHandler {
  constructor(private readonly conn: WebSocketConnection) {}
  onMessage(data: Buffer, isBinary: boolean): void {
    const conn = this.conn;
    if (conn[kHeld] === null) conn[kDeliver](data, isBinary);
    else conn[kHold](['message', data, isBinary]);
  }
  onPing(data: Buffer): void {
    this.conn.emit('ping', data);
  }
  onPong(data: Buffer): void {
    this.conn[kHandlePong](data);
  }
  onClose(): void {
    // The core answered and half-closed; 'close' is emitted when the socket is gone.
  }
  onError(err: ProtocolError): void {
    this.conn[kEmitError](err);
  }
}

/** What the socket's handle reports to the connection when it reads below the stream layer. */
class IoOwner implements HandleIoOwner {
  constructor(private readonly conn: WebSocketConnection) {}
  onData(buffer: Buffer, length: number, view: DataView): void {
    this.conn[kReceiveBorrowed](buffer, length, view);
  }
  onFlushed(): void {
    this.conn[kOnIoFlushed]();
  }
}

/** The core's output: every byte it produces goes through the connection's one write funnel (`kTransmit`). */
class SocketOutput implements ProtocolOutput {
  constructor(private readonly conn: WebSocketConnection) {}
  write(bytes: Buffer): boolean {
    return this.conn[kTransmit](bytes, undefined, true);
  }
  writeParts(header: Buffer, payload: Uint8Array): boolean {
    return this.conn[kTransmit](header, payload, true);
  }
  writeFrame(payload: Uint8Array | string, length: number, opcode: number, fin: boolean, rsv1: boolean, masked: boolean): boolean {
    return this.conn[kTransmitFrame](payload, length, opcode, fin, rsv1, masked);
  }
  writeClose(bytes: Buffer): void {
    this.conn[kTransmit](bytes, undefined, false);
    this.conn[kArmCloseTimer]();
  }
  end(): void {
    this.conn[kEndOutput]();
  }
  cork(): void {
    this.conn.cork();
  }
  uncork(): void {
    this.conn.uncork();
  }
}
