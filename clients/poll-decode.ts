/**
 * Reading a poll answer, `{"next":N,"gap":…,"more":true,"messages":[{"id":N,"data":"…"},…]}`,
 * without an object per message: the fields before `messages` are parsed as JSON on their own,
 * and each message's data is cut from the text where it lies. That holds for the servers' compact
 * answer (servers/poll-body.ts) when no data carries an escape; any other text (spacing, another
 * field order, an escape) is read with JSON.parse whole, so the result is JSON's either way.
 */
import type { ClientOptions } from './contract.ts';

/** The poll answer's fields besides its messages. */
interface PollHead {
  next: number;
  gap: { from: number; to: number } | null;
  /** Set when the server cut the batch: poll again at once. */
  more?: boolean;
}

/** The answer as JSON.parse reads it. */
interface PollBody extends PollHead {
  messages: { id: number; data: string }[];
}

const MESSAGES = '"messages":[';
const ID = '{"id":';
const DATA = ',"data":"';

/** Where each message's data lies in the text being read, as [start, end) pairs; reused. */
let spans = new Int32Array(256);

/**
 * Finds every message's data in `text` from `at` (just inside the messages array) to the
 * answer's end; the number of messages, or -1 when the text is not in the compact shape.
 */
function scanMessages(text: string, at: number): number {
  let n = 0;
  let i = at;
  if (text.charCodeAt(i) === 93 /* ] */) return text.slice(i + 1) === '}' ? 0 : -1;
  for (;;) {
    if (!text.startsWith(ID, i)) return -1;
    i += ID.length;
    const digits = i;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === digits || !text.startsWith(DATA, i)) return -1;
    const start = i + DATA.length;
    const end = text.indexOf('"', start);
    if (end < 0 || text.charCodeAt(end + 1) !== 125 /* } */) return -1;
    if (2 * n + 2 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[2 * n] = start;
    spans[2 * n + 1] = end;
    n++;
    i = end + 2;
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) i++;
    else if (c === 93 /* ] */) return text.slice(i + 1) === '}' ? n : -1;
    else return -1;
  }
}

/**
 * Hands a poll answer's gap and then its messages (all received at `recvNs`) to the client's
 * callbacks, as the answer lists them; returns its cursor fields.
 */
export function deliverPollText(o: ClientOptions, text: string, recvNs: bigint): PollHead {
  const m = text.indexOf(MESSAGES);
  // An escape anywhere in the messages sends the whole answer to JSON.parse.
  const n = m < 0 || text.includes('\\', m) ? -1 : scanMessages(text, m + MESSAGES.length);
  if (n < 0) {
    const body = JSON.parse(text) as PollBody;
    if (body.gap) o.onGap?.(body.gap.from, body.gap.to);
    for (const msg of body.messages) o.onMessage(msg.data, recvNs);
    return body;
  }
  const head = JSON.parse(`${text.slice(0, m)}"messages":[]}`) as PollHead;
  if (head.gap) o.onGap?.(head.gap.from, head.gap.to);
  for (let k = 0; k < n; k++) o.onMessage(text.slice(spans[2 * k]!, spans[2 * k + 1]!), recvNs);
  return head;
}
