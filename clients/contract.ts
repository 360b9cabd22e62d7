/**
 * The client contract. A `TransportClient` is one subscriber: it subscribes,
 * hands every message it receives (with its receive time) to `onMessage`, and
 * sends messages upward (a POST for HTTP transports, a frame for WebSocket).
 */
import type { Dispatcher } from 'undici';

/** The WebSocket reconnect policies, in the order reports list them. */
export const RECONNECT_POLICIES = ['none', 'immediate', 'exponential', 'full-jitter'] as const;

/** A reconnect policy's name: `none` leaves the client closed, as every scenario but failover has it. */
export type ReconnectPolicyName = (typeof RECONNECT_POLICIES)[number];

/** Which request headers the HTTP clients send. */
export type HeaderProfile = 'minimal' | 'browser';

export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** This subscriber's id; echoes come back to it. */
  clientId: string;
  /** Called for every message, with `process.hrtime.bigint()` taken on receipt. */
  onMessage: (data: string, recvNs: bigint) => void;
  /**
   * Load processes: called instead of `onMessage` by a client that holds each message as bytes
   * (UTF-8 for text; valid only during the call), so it need not make a string of every message.
   */
  onMessageBytes?: (data: Uint8Array, recvNs: bigint) => void;
  /** Called for a gap (messages the server no longer holds). */
  onGap?: (from: number, to: number) => void;
  /** Called for an error the client recovers from (it retries); fatal ones reject start(). */
  onError?: (err: Error) => void;
  /** Called whenever the client has a working connection again: a stream or WebSocket opened, a poll answered. */
  onConnected?: () => void;
  /** Called when an event stream ended without an error (a server's goodbye); errors go to `onError`. */
  onDropped?: () => void;
  /** WebSocket clients: what to do when the connection ends unasked (clients/reconnect.ts; default `none`). */
  reconnect?: ReconnectPolicyName;
  /** WebSocket clients: come back with `?cursor=N`, the hub number of the last message, and get what was missed. */
  resume?: boolean;
  /** Mixed into each client's seed of its reconnect delays (default 0): the same run draws the same delays. */
  reconnectSeed?: number;
  /** Short polling interval (default 1,000 ms). */
  pollIntervalMs?: number;
  /** Header profile of requests and the WebSocket upgrade (default minimal; a run defaults to browser). */
  headers?: HeaderProfile;
  /** WebSocket clients: offer permessage-deflate (RFC 7692) and compress every message. Default false. */
  perMessageDeflate?: boolean;
  /** HTTP dispatcher to use instead of the client's own pool. */
  dispatcher?: Dispatcher;
  /** https/wss: the certificate (PEM) to trust besides the system's, e.g. a run's throwaway one. */
  ca?: string;
  /** HTTP/2 clients: this many simulated pages share one session, as a browser's tabs share its connection (default 1). */
  streamsPerSession?: number;
}

/** The WebSocket URL of a base URL: http(s) → ws(s), its path kept (`/` when none), `?client=ID` added. */
export function webSocketUrl(baseUrl: string, clientId: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('client', clientId);
  return u.toString();
}

export interface TransportClient {
  /** Subscribes; resolves once the server has registered this subscriber. */
  start(): Promise<void>;
  /** Sends one message upward; the server echoes it back to this client. */
  send(data: string): Promise<void>;
  /**
   * Where a send settles at once (a frame handed to the socket): sends one text message without
   * a promise, throwing when it cannot. `data` may be the text's UTF-8 bytes, copied before it
   * returns. Load processes prefer it to `send` on their hot path. With `gather`, a client that
   * can holds the frame to the end of the current tick, so the frames a pipelined sender sends
   * in one tick leave in one write; without it every send is its own write, as a page's are.
   */
  sendNow?(data: string | Uint8Array, gather?: boolean): void;
  /** With `sendNow`: bytes it accepted that have not reached the kernel yet (the sender's backlog). */
  readonly bufferedBytes?: number;
  /** Unsubscribes and closes the connections. */
  stop(): Promise<void>;
  /** HTTP requests made (WebSocket: the handshake). */
  readonly requests: number;
  /** Responses that carried no message. */
  readonly emptyResponses: number;
}
