/**
 * Reading and writing an accepted TCP socket below Node's stream layer. Per read, Node's stream
 * path allocates a Buffer, pushes it through Readable and emits 'data'; per write it runs
 * Writable.write, a WriteWrap and an after-write tick. Here each read lands in one reused buffer
 * that the owner parses where it lies (copying out only what it keeps), and each write goes to
 * the TCP handle at once (the kernel takes it synchronously unless its buffer is full); measured
 * with `npm run bench:fixed -- --bare` (`--servers net,net-onread-direct`).
 *
 * Private Node internals, and why: user code can only learn a read's length and hand the kernel a
 * write without the stream machinery through `process.binding('stream_wrap')` (deprecated, but
 * present in Node 20-24) and the socket's `_handle`. A self-test at start-up checks the binding
 * (`bindingSelfTest`) and `takeOver` checks each handle's shape, returning null otherwise; the
 * connection then keeps the stream path, as it does for TLS sockets and anything not a plain
 * `net.Socket` (`test/protocol/handle-io.test.ts` runs the engine with `process.binding` removed
 * and with the binding's slots changed in meaning).
 *
 * What stays with the socket: 'end', 'close' and 'error' (EOF and read errors go to Node's own
 * read handler), pause/resume (followed through the socket's 'pause'/'resume' events, as node:http
 * does for its parser), `bytesRead`/`bytesWritten` (the handle counts them), `end()`/`destroy()`.
 * Socket timeouts are not refreshed by reads here; the engine does not use them.
 */
import { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** A libuv write request as `stream_wrap` makes them; only bound to C++ when a write goes async. */
interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  io: HandleIo | null;
  bytes: number;
  buffer: unknown;
}

interface StreamWrap {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** The methods of Node's stream handle (TCP or pipe) used here. */
interface StreamHandle {
  reading: boolean;
  onread: (this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => unknown;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
  [kIo]?: HandleIo;
}

const kIo = Symbol('handle-io');

function loadStreamWrap(): StreamWrap | null {
  const binding = (process as { binding?: (name: string) => unknown }).binding;
  if (typeof binding !== 'function') return null;
  let sw: Partial<StreamWrap>;
  try {
    // Throws when the module is gone from process.binding's allow-list.
    sw = binding.call(process, 'stream_wrap') as Partial<StreamWrap>;
  } catch {
    return null;
  }
  const ok =
    typeof sw.WriteWrap === 'function' &&
    sw.streamBaseState instanceof Int32Array &&
    typeof sw.kReadBytesOrError === 'number' &&
    typeof sw.kLastWriteWasAsync === 'number';
  return ok && bindingSelfTest(sw as StreamWrap) ? (sw as StreamWrap) : null;
}

/**
 * Start-up self-test of the binding, beyond its shape: the two slots are distinct places in the
 * shared state array, and a write request is an object this file can give its fields (Node 20
 * makes it bare, 24 with its own fields preset). A Node where they mean something else keeps
 * every socket on the stream path. What needs a live socket to check (the read count's meaning,
 * the async-write flag) is checked on each use: see `handleBroken`.
 */
function bindingSelfTest(sw: StreamWrap): boolean {
  const slots = [sw.kReadBytesOrError, sw.kLastWriteWasAsync];
  if (!slots.every((i) => Number.isInteger(i) && i >= 0 && i < sw.streamBaseState.length) || slots[0] === slots[1]) return false;
  try {
    const req = new sw.WriteWrap();
    if (typeof req !== 'object' || req === null) return false;
    req.io = null;
    req.bytes = 0;
    req.buffer = null;
    return req.io === null && req.bytes === 0;
  } catch {
    return false;
  }
}

const streamWrap = loadStreamWrap();

/**
 * Set when a handle reported something its meaning allows not (a read longer than the buffer it
 * was given, an async-write flag other than 0 or 1): that socket is failed with the reason, and
 * every later one keeps the stream path.
 */
let handleBroken: string | null = null;

function internalsChanged(socket: Socket, what: string): void {
  handleBroken = what;
  socket.destroy(new Error(`Node's stream handle no longer behaves as protocol/handle-io.ts expects (${what}); later sockets keep the stream path`));
}

function isStreamHandle(h: unknown): h is StreamHandle {
  if (typeof h !== 'object' || h === null) return false;
  const x = h as Record<string, unknown>;
  return (
    typeof x.reading === 'boolean' &&
    typeof x.onread === 'function' &&
    typeof x.readStart === 'function' &&
    typeof x.readStop === 'function' &&
    typeof x.useUserBuffer === 'function' &&
    typeof x.writeBuffer === 'function' &&
    typeof x.writev === 'function'
  );
}

/** What the owner of a taken-over socket is told. */
export interface HandleIoOwner {
  /**
   * `length` bytes were read into `buffer[0, length)`; `view` is a DataView on all of `buffer`.
   * Both are shared by every socket and reused by the next read: the owner copies what it keeps.
   */
  onData(buffer: Buffer, length: number, view: DataView): void;
  /** Everything queued went to the kernel after a write had to wait. */
  onFlushed(): void;
}

/** Reads land here, one read at a time, and are parsed before the next. */
const READ_BUFFER_BYTES = 64 * 1024;
let readBuffer: Buffer | undefined;
let readBufferView: DataView | undefined;

/**
 * Takes over reading and writing of `socket` when it is a plain, idle TCP socket (nothing buffered
 * either way, nobody listening for 'data') and Node's internals have the expected shape; else null,
 * and the caller keeps the stream path. TLS sockets are never taken.
 */
export function takeOver(socket: unknown, owner: HandleIoOwner): HandleIo | null {
  if (streamWrap === null || handleBroken !== null || !(socket instanceof Socket) || socket.constructor !== Socket) return null;
  const handle = (socket as unknown as { _handle: unknown })._handle;
  if (!isStreamHandle(handle) || handle[kIo] !== undefined) return null;
  if (socket.destroyed || !socket.readable || !socket.writable || socket.connecting) return null;
  if (socket.readableLength !== 0 || socket.writableLength !== 0 || socket.listenerCount('data') !== 0) return null;
  return new HandleIo(socket, handle, owner, streamWrap);
}

/** One socket read and written through its TCP handle; see the file comment. */
export class HandleIo {
  /** Bytes of the write the kernel has not finished taking. */
  private inFlight = 0;
  /** Buffers waiting behind that write (or held while corked). */
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private corked = false;
  private endWhenFlushed = false;
  private readonly nodeOnRead: StreamHandle['onread'];

  constructor(
    private readonly socket: Socket,
    private readonly handle: StreamHandle,
    private readonly owner: HandleIoOwner,
    private readonly sw: StreamWrap,
  ) {
    this.nodeOnRead = handle.onread;
    handle[kIo] = this;
    if (readBuffer === undefined) {
      readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
      readBufferView = new DataView(readBuffer.buffer, readBuffer.byteOffset, readBuffer.length);
    }
    handle.useUserBuffer(readBuffer);
    handle.onread = onHandleRead;
    socket.on('pause', socketOnPause);
    socket.on('resume', socketOnResume);
    if (socket.isPaused()) socketOnPause.call(socket);
    else startReading(socket, handle);
  }

  /** Bytes accepted by `write` and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.inFlight + this.queuedBytes;
  }

  /** @internal A read of `n` bytes (or EOF / an error, n <= 0) from the handle. */
  read(n: number, arrayBuffer: ArrayBuffer | undefined): unknown {
    if (n > 0) {
      if (this.socket.destroyed) return undefined;
      if (n > READ_BUFFER_BYTES) {
        internalsChanged(this.socket, `a read of ${n} bytes into a ${READ_BUFFER_BYTES}-byte buffer`);
        return undefined;
      }
      this.owner.onData(readBuffer!, n, readBufferView!);
      return undefined;
    }
    // EOF and errors: Node's handler ends or destroys the socket as it always does.
    return this.nodeOnRead.call(this.handle, arrayBuffer);
  }

  /** Writes `data` now, or queues it behind a write still in progress (or until `uncork`). */
  write(data: Buffer): void {
    if (data.length === 0) return;
    if (this.inFlight > 0 || this.corked) {
      this.queue.push(data);
      this.queuedBytes += data.length;
      return;
    }
    this.dispatch(data, null);
  }

  /** Holds writes until `uncork`, so they leave in one vectored write. */
  cork(): void {
    this.corked = true;
  }

  /** Sends what `cork` held. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    if (this.inFlight === 0) this.flushQueue();
  }

  /** Half-closes after everything written so far reached the kernel. */
  end(): void {
    if (this.pendingBytes === 0) this.socket.end();
    else this.endWhenFlushed = true;
  }

  private flushQueue(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    if (queue.length === 1) this.dispatch(queue[0]!, null);
    else this.dispatch(null, queue);
  }

  private dispatch(one: Buffer | null, many: Buffer[] | null): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    const req = spareReq ?? new this.sw.WriteWrap();
    spareReq = null;
    req.handle = this.handle;
    req.oncomplete = onWriteComplete;
    const err = one !== null ? this.handle.writeBuffer(req, one) : this.handle.writev(req, many!, true);
    if (err !== 0) {
      // Not reused: a failure after a partial write may have bound it.
      socket.destroy(writeError(err));
      return;
    }
    const async = this.sw.streamBaseState[this.sw.kLastWriteWasAsync];
    if (async !== 0 && async !== 1) {
      internalsChanged(socket, `an async-write flag of ${async}`);
      return;
    }
    if (async === 0) {
      // A write the kernel took at once never bound its request: the next write reuses it.
      spareReq = req;
      return;
    }
    // The kernel's buffer is full: the bytes must stay alive and unchanged until it takes them.
    req.io = this;
    req.buffer = one ?? many;
    req.bytes = one !== null ? one.length : many!.reduce((s, b) => s + b.length, 0);
    this.inFlight = req.bytes;
  }

  /** @internal The write that had to wait is done. */
  completed(req: WriteReq, status: number): void {
    this.inFlight = 0;
    req.buffer = null;
    const socket = this.socket;
    if (socket.destroyed) return;
    if (status < 0) {
      socket.destroy(writeError(status));
      return;
    }
    if (!this.corked) this.flushQueue();
    if (this.inFlight > 0) return;
    if (this.endWhenFlushed && this.queuedBytes === 0) {
      this.endWhenFlushed = false;
      socket.end();
    }
    this.owner.onFlushed();
  }
}

/** A request object no write has bound yet; see `dispatch`. */
let spareReq: WriteReq | null = null;

function onHandleRead(this: StreamHandle, arrayBuffer: ArrayBuffer | undefined): unknown {
  return this[kIo]!.read(streamWrap!.streamBaseState[streamWrap!.kReadBytesOrError]!, arrayBuffer);
}

function onWriteComplete(this: WriteReq, status: number): void {
  const io = this.io;
  this.io = null;
  io?.completed(this, status);
}

function startReading(socket: Socket, handle: StreamHandle): void {
  if (handle.reading || socket.destroyed) return;
  handle.reading = true;
  const err = handle.readStart();
  if (err !== 0) socket.destroy(writeError(err, 'read'));
}

function socketOnPause(this: Socket): void {
  const handle = (this as unknown as { _handle: StreamHandle | null })._handle;
  if (handle === null || !handle.reading) return;
  handle.reading = false;
  handle.readStop();
}

function socketOnResume(this: Socket): void {
  const handle = (this as unknown as { _handle: StreamHandle | null })._handle;
  // 'resume' comes a tick after resume(): a pause() in between wins.
  if (handle !== null && !this.isPaused()) startReading(this, handle);
}

function writeError(status: number, syscall = 'write'): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = syscall;
  return err;
}
