/**
 * The sans-I/O WebSocket connection (RFC 6455 after the opening handshake): a state machine with
 * no sockets and no timers. Bytes go in through `receiveData`/`receiveEof`; events come out
 * through a `ParserHandler` and bytes to send through a `ProtocolOutput`. Every closing rule of
 * §5.5.1 and §7 lives here, so it is tested from memory; `connection.ts` only wires a socket to it.
 *
 * Without a handler and an output, events and bytes are collected: read them with
 * `eventsReceived()` and `dataToSend()`, as python-websockets' `Protocol` does.
 */
import { CloseCode, isValidCloseCode, truncateReason } from './close.ts';
import { closeFrameForError, type ProtocolError } from './errors.ts';
import { encodeClosePayload, encodeFrameInto, frameHeaderSize, Opcode, writeFrameHeader } from './frame.ts';
import type { PerMessageDeflate } from './deflate.ts';
import { xorMaskRange } from './mask.ts';
import { EventCollector, FrameParser, type ParserEvent, type ParserHandler } from './parser.ts';

/** WebSocket ready states, numbered as in the WHATWG WebSocket API. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
/** One of the `ReadyState` values. */
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** Observer of raw frame bytes in both directions. */
export type FrameObserver = (dir: 'in' | 'out', bytes: Buffer) => void;

/** Where the protocol's outgoing bytes go: the socket adapter, or memory in tests. */
export interface ProtocolOutput {
  /** One or more whole frames; false means "wait for drain" or that the bytes were refused. */
  write(bytes: Buffer): boolean;
  /** One frame as header and payload, leaving together without copying the payload. */
  writeParts(header: Buffer, payload: Uint8Array): boolean;
  /**
   * Optional: encodes one whole frame of `length` payload bytes (`payload` as a string is that
   * many bytes of UTF-8) wherever the output wants it, e.g. straight into a buffer that batches
   * several frames into one write. Without it the core encodes into a buffer of its own and
   * calls `write`. Not used while a frame observer is set (it needs the frame's bytes).
   */
  writeFrame?(payload: Uint8Array | string, length: number, opcode: number, fin: boolean, rsv1: boolean, masked: boolean): boolean;
  /** The close frame: written whatever the buffer holds, since it ends the connection. */
  writeClose(bytes: Buffer): void;
  /** Nothing more will be sent: half-close the transport (TCP FIN). */
  end(): void;
  /** Hold writes until `uncork`, so several frames leave in one write. */
  cork(): void;
  /** Release what `cork` held. */
  uncork(): void;
}

/** Output kept in memory: what a test (or any caller doing its own I/O) reads back. */
class MemoryOutput implements ProtocolOutput {
  chunks: Buffer[] = [];
  ended = false;
  write(bytes: Buffer): boolean {
    this.chunks.push(bytes);
    return true;
  }
  writeParts(header: Buffer, payload: Uint8Array): boolean {
    this.chunks.push(Buffer.concat([header, payload]));
    return true;
  }
  writeClose(bytes: Buffer): void {
    this.chunks.push(bytes);
  }
  end(): void {
    this.ended = true;
  }
  cork(): void {}
  uncork(): void {}
}

/** Settings of a `ConnectionProtocol`. */
export interface ConnectionProtocolOptions {
  /** `'client'` masks what it sends and expects unmasked frames; `'server'` the reverse. */
  role: 'server' | 'client';
  /** Largest incoming message, in bytes; larger fails with 1009. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Answer pings with pongs (§5.5.2). Default true; off only to play a hung peer. */
  autoPong?: boolean;
  /** permessage-deflate as negotiated in the handshake (RFC 7692); absent means none. */
  deflate?: PerMessageDeflate;
}

/** Unmasked payloads up to this size are copied next to their header (one write, one buffer). */
const COPY_THRESHOLD = 16 * 1024;
/** `sendBatch` builds one buffer for batches up to this size, above it corks frame by frame. */
const BATCH_COPY_LIMIT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The connection state machine; see the module comment. */
export class ConnectionProtocol implements ParserHandler {
  /** OPEN, CLOSING (a close frame went out or the connection is failing) or CLOSED. */
  state: ReadyStateValue = ReadyState.OPEN;
  /** What the connection's end reports: the peer's close code, the code we failed with, or 1006. */
  closeCode: number = CloseCode.ABNORMAL;
  /** The reason going with `closeCode`. */
  closeReason = '';
  /** A close frame was sent (§7.1.2); no data frame may follow it. */
  closeSent = false;
  /** The peer's close frame was received (§7.1.5). */
  closeReceived = false;

  private readonly isClient: boolean;
  private readonly autoPong: boolean;
  private readonly parser: FrameParser;
  private readonly handler: ParserHandler;
  private readonly output: ProtocolOutput;
  /** Set only in collecting mode (no handler / output given). */
  private readonly collector: EventCollector | null;
  private readonly memory: MemoryOutput | null;
  private observer: FrameObserver | undefined;
  /** permessage-deflate codec, when negotiated. */
  readonly deflate: PerMessageDeflate | null;

  constructor(options: ConnectionProtocolOptions, handler?: ParserHandler, output?: ProtocolOutput) {
    this.isClient = options.role === 'client';
    this.autoPong = options.autoPong ?? true;
    this.collector = handler ? null : new EventCollector();
    this.handler = handler ?? this.collector!;
    this.memory = output ? null : new MemoryOutput();
    this.output = output ?? this.memory!;
    const deflate = options.deflate ?? null;
    this.deflate = deflate;
    this.parser = new FrameParser(
      {
        role: options.role,
        ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
        ...(deflate !== null && { inflate: (data: Buffer) => deflate.decompress(data) }),
      },
      this,
    );
  }

  /** Observer of the raw bytes of every frame, both directions; unset means no cost. */
  get onFrame(): FrameObserver | undefined {
    return this.observer;
  }
  set onFrame(observer: FrameObserver | undefined) {
    this.observer = observer;
    this.parser.setObserver(observer ? (bytes) => observer('in', bytes) : null);
  }

  // --- input ---

  /** Parses received bytes (taking ownership of `chunk`); events go to the handler at once. */
  receiveData(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  /** Parses `buffer[0, length)`, which the caller reuses afterwards (see `FrameParser.pushBorrowed`). */
  receiveBorrowed(buffer: Buffer, length: number, view: DataView): void {
    this.parser.pushBorrowed(buffer, length, view);
  }

  /** The peer closed its sending side (TCP FIN): nothing more will arrive. */
  receiveEof(): void {
    this.parser.stop();
    if (this.state === ReadyState.OPEN) this.state = ReadyState.CLOSING;
    // Sockets from http servers allow half-open; finish ours so the connection can end.
    this.output.end();
  }

  /** The transport is gone (socket closed): the connection is CLOSED. */
  connectionLost(): void {
    this.parser.stop();
    this.state = ReadyState.CLOSED;
    this.deflate?.close();
  }

  /** Collecting mode: the events parsed since the last call, in order. */
  eventsReceived(): ParserEvent[] {
    const c = this.collector;
    if (c === null) return [];
    return c.events.splice(0, c.events.length);
  }

  /** Collecting mode: the bytes to send since the last call, in order. */
  dataToSend(): Buffer[] {
    const m = this.memory;
    if (m === null) return [];
    return m.chunks.splice(0, m.chunks.length);
  }

  /** Collecting mode: the protocol asked to half-close the transport. */
  get eofSent(): boolean {
    return this.memory?.ended ?? false;
  }

  // --- parser events (ParserHandler) ---

  /** @internal A complete data message. */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.handler.onMessage(data, isBinary);
  }

  /** @internal */
  onPing(data: Buffer): void {
    // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response, unless it already
    // received a Close frame. … the Pong frame MUST have identical Application data"
    if (this.autoPong && this.state === ReadyState.OPEN) this.sendControl(Opcode.PONG, data);
    this.handler.onPing(data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.handler.onPong(data);
  }

  /** @internal The peer's close frame; the parser ignores every byte after it. */
  onClose(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    // §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close frame, the endpoint
    // MUST send a Close frame in response. (When sending a Close frame in response, the endpoint typically
    // echos the status code it received.)" 1005 means the peer sent no code, so neither do we (§7.4.1:
    // 1005 "MUST NOT be set as a status code in a Close control frame").
    if (!this.closeSent) this.writeCloseFrame(code === CloseCode.NO_STATUS ? EMPTY : encodeClosePayload(code));
    if (this.state === ReadyState.OPEN) this.state = ReadyState.CLOSING;
    // §7.1.1: "After both sending and receiving a Close message, an endpoint considers the WebSocket
    // connection closed and MUST close the underlying TCP connection. The server MUST close the underlying
    // TCP connection immediately; the client SHOULD wait for the server … but MAY close the connection at
    // any time after sending and receiving a Close message".
    this.output.end();
    this.handler.onClose(code, reason);
  }

  /** @internal A protocol violation found by the parser: fail with the error's code. */
  onError(err: ProtocolError): void {
    const frame = closeFrameForError(err);
    this.closeCode = frame.code;
    this.closeReason = frame.reason;
    this.handler.onError(err);
    if (this.state === ReadyState.CLOSED) return;
    this.failWithRecordedCode();
  }

  // --- closing ---

  /**
   * Starts the closing handshake (§7.1.2 "Start the WebSocket Closing Handshake"): sends a close
   * frame and moves to CLOSING; the peer's answer completes it. Throws on a code that may not be
   * sent (1005, 1006, …) or a reason over 123 bytes, which are the caller's mistakes.
   */
  close(code?: number, reason = ''): void {
    if (this.state !== ReadyState.OPEN) return;
    const body = encodeClosePayload(code, reason);
    this.state = ReadyState.CLOSING;
    this.writeCloseFrame(body);
  }

  /**
   * §7.1.7 Fail the WebSocket Connection: "the endpoint MUST Close the WebSocket Connection, and
   * MAY report the problem to the user … prior to _Failing_ the WebSocket Connection, the endpoint
   * SHOULD send a Close frame with an appropriate status code". Sends that close frame (unless one
   * went out already, or `code` may not be on the wire, like 1006), then half-closes the
   * transport. A reason over 123 bytes is cut on a character boundary.
   */
  fail(code: number, reason = ''): void {
    if (this.state === ReadyState.CLOSED) return;
    this.closeCode = code;
    this.closeReason = truncateReason(reason);
    this.failWithRecordedCode();
  }

  private failWithRecordedCode(): void {
    // §7.1.7: "An endpoint MUST NOT continue to attempt to process data (including a responding Close frame)
    // from the remote endpoint after being instructed to _Fail the WebSocket Connection_."
    this.parser.stop();
    // §7.4.1: 1005 and 1006 are "designated for use in applications expecting a status code"; never sent.
    if (!this.closeSent && isValidCloseCode(this.closeCode)) {
      this.writeCloseFrame(encodeClosePayload(this.closeCode, this.closeReason));
    }
    this.state = ReadyState.CLOSING;
    this.output.end();
  }

  /**
   * Gives up without a closing handshake: records `code` for the end report and stops reading.
   * The caller then drops the transport (a peer that does not read would never see a close frame).
   */
  abort(code?: number, reason = ''): void {
    this.parser.stop();
    if (code !== undefined) {
      this.closeCode = code;
      this.closeReason = reason;
    }
    if (this.state === ReadyState.OPEN) this.state = ReadyState.CLOSING;
  }

  private writeCloseFrame(body: Buffer): void {
    this.closeSent = true;
    const out = Buffer.allocUnsafe(frameHeaderSize(body.length, this.isClient) + body.length);
    encodeFrameInto(out, 0, body, Opcode.CLOSE, true, false, this.isClient);
    if (this.observer) this.observer('out', out);
    this.output.writeClose(out);
  }

  // --- sending ---
  // §1.4 / §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any more data frames":
  // every send below returns false unless the state is OPEN, and close() leaves OPEN first.

  /** Sends a text message. */
  sendText(text: string): boolean {
    return this.sendData(text, false);
  }

  /** Sends a binary message. */
  sendBinary(data: Uint8Array): boolean {
    return this.sendData(data, true);
  }

  /**
   * Sends one message, split into frames of at most `fragmentSize` payload bytes when that is
   * over 0 (§5.4). False when not OPEN or when the output asks to wait.
   */
  sendData(data: string | Uint8Array, binary: boolean, fragmentSize = 0): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    const opcode = binary ? Opcode.BINARY : Opcode.TEXT;
    const deflate = this.deflate;
    if (deflate !== null) {
      const raw = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      // RFC 7692 §6: the message is compressed as a whole; RSV1 goes on its first frame only.
      if (raw.length >= deflate.threshold) return this.writeFragments(opcode, deflate.compress(raw), fragmentSize, true);
      return this.writeFragments(opcode, raw, fragmentSize, false);
    }
    if (typeof data === 'string' && (fragmentSize <= 0 || data.length * 3 <= fragmentSize)) {
      return this.writeStringFrame(opcode, data);
    }
    return this.writeFragments(opcode, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, fragmentSize, false);
  }

  private writeFragments(opcode: number, bytes: Uint8Array, fragmentSize: number, rsv1: boolean): boolean {
    if (fragmentSize <= 0 || bytes.length <= fragmentSize) return this.writeFrame(opcode, bytes, true, rsv1);
    // §5.4: "a single fragmented message consists of a single frame with the FIN bit clear and an opcode
    // other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and
    // terminated by a single frame with the FIN bit set and an opcode of 0."
    let ok = true;
    this.output.cork();
    for (let off = 0; off < bytes.length; off += fragmentSize) {
      const end = Math.min(off + fragmentSize, bytes.length);
      ok = this.writeFrame(off === 0 ? opcode : Opcode.CONTINUATION, bytes.subarray(off, end), end === bytes.length, rsv1 && off === 0);
      if (this.state !== ReadyState.OPEN) break;
    }
    this.output.uncork();
    return ok;
  }

  /** Sends several messages as one write (one buffer when small, corked frames when large). */
  sendBatch(messages: ReadonlyArray<string | Uint8Array>, binary?: boolean): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    if (this.deflate !== null) {
      // Each message is compressed on its own; corked, they still leave in one write.
      this.output.cork();
      let ok = true;
      for (let i = 0; i < messages.length && this.state === ReadyState.OPEN; i++) {
        ok = this.sendData(messages[i]!, binary ?? typeof messages[i] !== 'string');
      }
      this.output.uncork();
      return ok;
    }
    const payloads: Uint8Array[] = messages.map((m) => (typeof m === 'string' ? Buffer.from(m, 'utf8') : m));
    let total = 0;
    for (const p of payloads) total += frameHeaderSize(p.length, this.isClient) + p.length;
    if (total > BATCH_COPY_LIMIT) {
      this.output.cork();
      let ok = true;
      for (let i = 0; i < payloads.length && this.state === ReadyState.OPEN; i++) {
        ok = this.sendData(payloads[i]!, binary ?? typeof messages[i] !== 'string');
      }
      this.output.uncork();
      return ok;
    }
    const out = Buffer.allocUnsafe(total);
    let o = 0;
    for (let i = 0; i < payloads.length; i++) {
      const isBinary = binary ?? typeof messages[i] !== 'string';
      const start = o;
      o = encodeFrameInto(out, o, payloads[i]!, isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, this.isClient);
      if (this.observer) this.observer('out', Buffer.from(out.subarray(start, o)));
    }
    return this.output.write(out);
  }

  /** Sends an already encoded unmasked frame as is (server role: client frames need a fresh mask each). */
  sendPrepared(frame: Buffer): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    if (this.isClient) throw new Error('sendPrepared is for the server role: a client must mask every frame with a fresh key');
    if (this.observer) this.observer('out', frame);
    return this.output.write(frame);
  }

  /** Sends a ping (§5.5.2), payload at most 125 bytes. */
  ping(data: string | Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.PING, data);
  }

  /** Sends an unsolicited pong (§5.5.3: "serves as a unidirectional heartbeat"). */
  pong(data: string | Uint8Array = EMPTY): boolean {
    return this.sendControl(Opcode.PONG, data);
  }

  private sendControl(opcode: number, data: string | Uint8Array): boolean {
    if (this.state !== ReadyState.OPEN) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less"
    if (bytes.length > 125) throw new RangeError('control frame payload over 125 bytes');
    return this.writeFrame(opcode, bytes, true, false);
  }

  private writeStringFrame(opcode: number, text: string): boolean {
    const length = Buffer.byteLength(text, 'utf8');
    if (this.observer === undefined && this.output.writeFrame !== undefined) {
      return this.output.writeFrame(text, length, opcode, true, false, this.isClient);
    }
    const header = frameHeaderSize(length, this.isClient);
    const out = Buffer.allocUnsafe(header + length);
    const start = writeFrameHeader(out, 0, length, opcode, true, false, this.isClient);
    out.write(text, start, 'utf8');
    if (this.isClient) xorMaskRange(out, start, start + length, out, start - 4, 0);
    if (this.observer) this.observer('out', out);
    return this.output.write(out);
  }

  private writeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): boolean {
    const length = payload.length;
    const header = frameHeaderSize(length, this.isClient);
    // Masked payloads need a copy anyway; small ones are cheaper copied than written twice.
    if (this.isClient || length <= COPY_THRESHOLD) {
      if (this.observer === undefined && this.output.writeFrame !== undefined) {
        return this.output.writeFrame(payload, length, opcode, fin, rsv1, this.isClient);
      }
      const out = Buffer.allocUnsafe(header + length);
      encodeFrameInto(out, 0, payload, opcode, fin, rsv1, this.isClient);
      if (this.observer) this.observer('out', out);
      return this.output.write(out);
    }
    // Large unmasked payload: header and payload leave in one vectored write, payload uncopied.
    const head = Buffer.allocUnsafe(header);
    writeFrameHeader(head, 0, length, opcode, fin, rsv1, null);
    if (this.observer) this.observer('out', Buffer.concat([head, payload]));
    return this.output.writeParts(head, payload);
  }
}
