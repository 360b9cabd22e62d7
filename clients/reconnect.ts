/**
 * How a client comes back after its connection ended: the named reconnect policies of the
 * WebSocket clients, the EventSource rule the SSE client follows, and the resume frames a
 * WebSocket client opened with a cursor reads. Every random draw comes from a generator the
 * caller can seed, so a test checks a policy's delays exactly.
 */
import { type ClientOptions, webSocketUrl } from './contract.ts';

/** The WebSocket reconnect policies, in the order reports list them. */
export const RECONNECT_POLICIES = ['none', 'immediate', 'exponential', 'full-jitter'] as const;

/** A reconnect policy's name: `none` is today's client, which stays closed. */
export type ReconnectPolicyName = (typeof RECONNECT_POLICIES)[number];

/** Uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a 32-bit generator small enough to carry a seed per client, so a run's delays can
 * be replayed and a test can state them.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from a client id, so every client of a run draws its own sequence and a rerun draws the same. */
export function seedOf(text: string, salt = 0): number {
  // FNV-1a over the id's UTF-16 units.
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** socket.io-client's defaults: `reconnectionDelay` 1 s, `reconnectionDelayMax` 5 s, `randomizationFactor` 0.5, factor 2. */
export const SOCKET_IO_BACKOFF = { minMs: 1000, maxMs: 5000, factor: 2, randomization: 0.5 } as const;

/** The delays a policy waits before each attempt; attempts count from 0 after every connection that opened. */
export interface ReconnectPolicy {
  readonly name: ReconnectPolicyName;
  /** Delay before attempt `attempt` (0 = the first after a drop), ms; null: do not reconnect. */
  delayMs(attempt: number): number | null;
}

/**
 * A policy by name. `exponential` is socket.io-client's backoff (its `backo2`): the base
 * min·factor^attempt, moved by a deviation of ⌊r·randomization·base⌋ down or up (down when the
 * tenths digit of r is even), capped at max and truncated to an integer ms. `full-jitter` is the
 * "full jitter" of AWS's backoff note: a uniform draw in [0, min(max, min·factor^attempt)).
 */
export function reconnectPolicy(name: ReconnectPolicyName, random: Random = Math.random, b = SOCKET_IO_BACKOFF): ReconnectPolicy {
  const base = (attempt: number) => b.minMs * b.factor ** attempt;
  switch (name) {
    case 'none':
      return { name, delayMs: () => null };
    case 'immediate':
      return { name, delayMs: () => 0 };
    case 'exponential':
      return {
        name,
        delayMs(attempt) {
          let ms = base(attempt);
          const r = random();
          const deviation = Math.floor(r * b.randomization * ms);
          ms = (Math.floor(r * 10) & 1) === 0 ? ms - deviation : ms + deviation;
          return Math.min(ms, b.maxMs) | 0;
        },
      };
    case 'full-jitter':
      return { name, delayMs: (attempt) => Math.floor(random() * Math.min(b.maxMs, base(attempt))) };
  }
}

/**
 * WHATWG HTML §9.2.3: "a reconnection time, in milliseconds. This must initially be an
 * implementation-defined value, probably in the region of a few seconds"; Chrome's is 3 s. A
 * `retry:` field with only digits sets it.
 */
const EVENTSOURCE_DEFAULT_RETRY_MS = 3000;

/** The EventSource's wait before it reconnects: the server's `retry:` when it sent one, else the default. */
export function eventSourceDelayMs(serverRetryMs: number | undefined): number {
  return serverRetryMs ?? EVENTSOURCE_DEFAULT_RETRY_MS;
}

/**
 * A frame on a WebSocket opened with `?cursor=N` (resume): a message numbered by the hub
 * (`<seq> <data>`), a gap in the history (`gap <from> <to>`), or a reset (`reset <cursor>
 * <newest>`: the cursor belongs to an earlier history), or a text echo of the client's own message
 * (`- <data>`: echoes carry no hub number).
 */
export type ResumeFrame =
  | { kind: 'message'; seq: number; data: string }
  | { kind: 'echo'; data: string }
  | { kind: 'gap'; from: number; to: number }
  | { kind: 'reset'; newest: number };

/** Reads a resume frame; undefined for text that is none of the three. */
export function parseResumeFrame(text: string): ResumeFrame | undefined {
  const sp = text.indexOf(' ');
  if (sp <= 0) return undefined;
  if (sp === 1 && text.charCodeAt(0) === 45) return { kind: 'echo', data: text.slice(2) };
  const c = text.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    const seq = Number(text.slice(0, sp));
    return Number.isSafeInteger(seq) ? { kind: 'message', seq, data: text.slice(sp + 1) } : undefined;
  }
  const m = /^(gap|reset) (\d{1,15}) (\d{1,15})$/.exec(text);
  if (!m) return undefined;
  return m[1] === 'gap' ? { kind: 'gap', from: Number(m[2]), to: Number(m[3]) } : { kind: 'reset', newest: Number(m[3]) };
}

/**
 * What a WebSocket client needs to come back after its connection ended: the policy's delays,
 * and with resume the hub number of the last message it got, sent as `?cursor=N` on the next
 * upgrade. One per client; the client calls `comeBack` when its connection ends unasked.
 */
export class Comeback {
  private readonly policy: ReconnectPolicy;
  private readonly stopper = new AbortController();
  /** Resume: the hub number of the last message handed over (undefined before the first connection). */
  private cursor: number | undefined;
  private reconnecting = false;
  /** Connections made after the first. */
  reconnects = 0;

  constructor(private readonly o: ClientOptions) {
    this.policy = reconnectPolicy(o.reconnect ?? 'none', seededRandom(seedOf(o.clientId, o.reconnectSeed ?? 0)));
  }

  /** Whether this client resumes by cursor (its frames then carry hub numbers). */
  get resume(): boolean {
    return this.o.resume === true;
  }

  /** The URL of the next upgrade: with resume, the cursor to continue from (`now` at first). */
  url(): string {
    const u = webSocketUrl(this.o.baseUrl, this.o.clientId);
    return this.resume ? `${u}&cursor=${this.cursor ?? 'now'}` : u;
  }

  /** Reads a resume connection's text frame: messages go to `onMessage` with their number kept, gaps to `onGap`. */
  deliver(text: string, recvNs: bigint): void {
    const f = parseResumeFrame(text);
    if (f?.kind === 'message') {
      this.cursor = f.seq;
      this.o.onMessage(f.data, recvNs);
    } else if (f?.kind === 'echo') this.o.onMessage(f.data, recvNs);
    else if (f?.kind === 'gap') this.o.onGap?.(f.from, f.to);
    else if (f === undefined) this.o.onError?.(new Error(`resume connection sent a frame that is no resume frame: ${text.slice(0, 40)}`));
  }

  /**
   * After a connection ended unasked: waits each of the policy's delays and tries `open` until
   * one opens, the policy gives up (`none`) or `stop` is called. One loop at a time.
   */
  async comeBack(open: () => Promise<void>): Promise<void> {
    if (this.reconnecting || this.stopper.signal.aborted) return;
    this.reconnecting = true;
    try {
      for (let attempt = 0; ; attempt++) {
        const ms = this.policy.delayMs(attempt);
        if (ms === null) return;
        await sleep(ms, this.stopper.signal);
        if (this.stopper.signal.aborted) return;
        try {
          await open();
          this.reconnects++;
          return;
        } catch (e) {
          if (this.stopper.signal.aborted) return;
          this.o.onError?.(e as Error);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** Ends any reconnect loop: the client is being stopped. */
  stop(): void {
    this.stopper.abort();
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
