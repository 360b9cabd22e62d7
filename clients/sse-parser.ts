/**
 * An incremental `text/event-stream` parser following WHATWG HTML §9.2.6 ("Interpreting an event
 * stream"), fed the stream's bytes one read at a time. It works on the bytes as they arrived: a
 * line is a range of the read, its field name is compared byte by byte, and a message's data
 * reaches the handler as a view of the read, so a delivery makes no string and no object. Only
 * a line cut by the end of a read is copied, to be finished by the next. Line ends (CR, LF) are
 * single bytes that never occur inside a UTF-8 sequence, so splitting bytes at them is splitting
 * the decoded text at them.
 */

/** What the parser reports. */
export interface SseHandler {
  /**
   * A dispatched event of type `message`: its data as UTF-8 bytes, valid only during the call
   * (a view of the read, or of the parser's own buffer).
   */
  onMessage(data: Buffer): void;
  /** A dispatched event of another type (`event:` field), with its data as text. */
  onEvent(type: string, data: string): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const EMPTY = Buffer.alloc(0);

/** Whether bytes[from, to) spell the ASCII `name`. */
function fieldIs(bytes: Buffer, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[from + i] !== name.charCodeAt(i)) return false;
  return true;
}

export class SseParser {
  /** The start of a line the last read cut, waiting for its end. */
  private carry: Buffer = EMPTY;
  /** The data buffer (§9.2.6): one data line's bytes as a view, or several lines joined into `joined`. */
  private data: Buffer = EMPTY;
  private dataLines = 0;
  /** Room for data that spans lines or outlives its read. */
  private joined: Buffer = Buffer.allocUnsafeSlow(256);
  /** `data` lies in `joined`, not in a read. */
  private dataOwned = false;
  private type = '';
  /** The last event ID buffer, kept across events as the spec requires. */
  lastEventId = '';
  /** The reconnection time last set by a `retry:` field, ms. */
  retryMs: number | undefined;
  /** The last read ended on a CR: an LF at the start of the next belongs to it. */
  private skipLf = false;

  constructor(private readonly handler: SseHandler) {}

  /** Feeds the bytes of one read. */
  push(chunk: Buffer): void {
    let bytes = chunk;
    let start = 0;
    if (this.carry.length > 0) {
      bytes = Buffer.concat([this.carry, chunk]);
      this.carry = EMPTY;
    } else if (this.skipLf && bytes.length > 0 && bytes[0] === LF) {
      start = 1;
    }
    this.skipLf = false;
    const n = bytes.length;
    for (let i = start; i < n; i++) {
      const c = bytes[i]!;
      // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character
      // pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR) character."
      if (c !== LF && c !== CR) continue;
      this.line(bytes, start, i);
      if (c === CR) {
        if (i + 1 < n) {
          if (bytes[i + 1] === LF) i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
    }
    if (start < n) {
      // The data of an event not yet dispatched may view this read: it must outlive it.
      this.keepData();
      this.carry = Buffer.from(bytes.subarray(start, n));
    } else if (this.dataLines > 0) {
      this.keepData();
    }
  }

  /** Copies the data buffer into the parser's own bytes when it still views a read. */
  private keepData(): void {
    if (this.dataLines === 0 || this.dataOwned) return;
    const length = this.data.length;
    this.room(length);
    this.data.copy(this.joined, 0);
    this.data = this.joined.subarray(0, length);
    this.dataOwned = true;
  }

  /** Makes the parser's own buffer hold at least `n` bytes, keeping the data it holds. */
  private room(n: number): void {
    if (n <= this.joined.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(n, this.joined.length * 2));
    if (this.dataOwned) this.joined.copy(grown, 0, 0, this.data.length);
    this.joined = grown;
    if (this.dataOwned) this.data = grown.subarray(0, this.data.length);
  }

  private line(bytes: Buffer, from: number, to: number): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (from === to) {
      this.dispatch();
      return;
    }
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if (bytes[from] === COLON) return;
    let colon = from;
    while (colon < to && bytes[colon] !== COLON) colon++;
    let valueFrom = to;
    if (colon < to) {
      valueFrom = colon + 1;
      // "If value starts with a U+0020 SPACE character, remove it from value."
      if (valueFrom < to && bytes[valueFrom] === SPACE) valueFrom++;
    }
    if (fieldIs(bytes, from, colon, 'data')) {
      // "Append the field value to the data buffer, then append a single U+000A LINE FEED (LF)
      // character to the data buffer." The last LF is removed at dispatch, so it is never written.
      if (this.dataLines === 0) {
        this.data = bytes.subarray(valueFrom, to);
        this.dataOwned = false;
      } else {
        this.keepData();
        const at = this.data.length;
        const end = at + 1 + (to - valueFrom);
        this.room(end);
        this.joined[at] = LF;
        bytes.copy(this.joined, at + 1, valueFrom, to);
        this.data = this.joined.subarray(0, end);
      }
      this.dataLines++;
    } else if (fieldIs(bytes, from, colon, 'event')) {
      this.type = bytes.toString('utf8', valueFrom, to);
    } else if (fieldIs(bytes, from, colon, 'id')) {
      // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field value."
      let nul = false;
      for (let i = valueFrom; i < to && !nul; i++) nul = bytes[i] === 0;
      if (!nul) this.lastEventId = bytes.toString('utf8', valueFrom, to);
    } else if (fieldIs(bytes, from, colon, 'retry')) {
      // "If the field value consists of only ASCII digits, then interpret the field value as an integer in base ten."
      let v = 0;
      let digits = valueFrom < to;
      for (let i = valueFrom; i < to && digits; i++) {
        const d = bytes[i]! - 48;
        if (d < 0 || d > 9) digits = false;
        else v = v * 10 + d;
      }
      if (digits) this.retryMs = v;
    }
    // "Otherwise: The field is ignored."
  }

  private dispatch(): void {
    // "If the data buffer is an empty string, set the data buffer and the event type buffer to the empty string and return."
    if (this.dataLines > 0) {
      if (this.type === '' || this.type === 'message') this.handler.onMessage(this.data);
      else this.handler.onEvent(this.type, this.data.toString('utf8'));
    }
    this.data = EMPTY;
    this.dataOwned = false;
    this.dataLines = 0;
    this.type = '';
  }
}
