/**
 * An incremental `text/event-stream` parser following WHATWG HTML §9.2.6
 * ("Interpreting an event stream"). Fed decoded text in chunks of any size.
 */

/** One dispatched event. */
export interface SseEvent {
  type: string;
  data: string;
  /** The last event ID buffer after this event. */
  lastEventId: string;
}

export class SseParser {
  private buf = '';
  private data = '';
  private hasData = false;
  private type = '';
  /** The last event ID, kept across events as the spec requires. */
  lastEventId = '';
  /** The reconnection time last set by a `retry:` field, ms. */
  retryMs: number | undefined;
  private skipLf = false;

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  /** Feeds decoded text. */
  push(text: string): void {
    let s = this.buf + text;
    this.buf = '';
    let start = 0;
    if (this.skipLf && s.startsWith('\n')) start = 1;
    this.skipLf = false;
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i);
      // "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character
      // pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR) character."
      if (c === 10 || c === 13) {
        this.line(s.slice(start, i));
        if (c === 13) {
          if (i + 1 < s.length) {
            if (s.charCodeAt(i + 1) === 10) i++;
          } else {
            this.skipLf = true;
          }
        }
        start = i + 1;
      }
    }
    this.buf = s.slice(start);
    s = '';
  }

  private line(line: string): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (line.length === 0) {
      if (this.hasData) {
        this.onEvent({ type: this.type || 'message', data: this.data, lastEventId: this.lastEventId });
      }
      this.data = '';
      this.hasData = false;
      this.type = '';
      return;
    }
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      // "If value starts with a U+0020 SPACE character, remove it from value."
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to the field value."
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        // "If the field value consists of only ASCII digits, then interpret the field value as an integer in base ten."
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
      // "Otherwise: The field is ignored."
    }
  }
}
