/**
 * The server contract. Every transport is a `TransportServer`: it listens on a
 * host/port, fans out `POST /publish` to its subscribers, echoes a client's own
 * messages back to that client, and reports its counters.
 *
 * Shared HTTP surface (every transport):
 *   POST /publish            body: text, or JSON (a string, `{ "data": "…" }`, or any value,
 *                            sent as its JSON text) → 202 `{ "seq", "subscribers" }`
 *   POST /send?client=ID     body: text → echoed to client ID only (HTTP transports' upward path)
 *   GET  /stats              the counters below, as JSON
 * Transport-specific:
 *   polling       GET /poll?cursor=N&client=ID  → 200 `{ next, gap, messages: [{ id, data }] }`,
 *                 204 when nothing is newer than the cursor; no cursor → 200 with the current cursor;
 *                 a reply cut by count or bytes adds `"more":true`; a cursor ahead of the newest
 *                 message (the server restarted) adds `"reset":true` and starts again from 0
 *   long-polling  the same GET, held until a message or the timeout (204)
 *   sse           GET /events?client=ID (+ `Last-Event-ID` or `?cursor=`) → text/event-stream;
 *                 an id ahead of the newest message gets `event: reset` and the stream from 0
 *   websocket, ws Upgrade on any path (`?client=ID` optional); text/binary frames echoed back
 */
import type { Server as HttpServer } from 'node:http';
import type { TransportName } from '../metrics/results.ts';
import type { Hub, HubMessage } from './hub.ts';

/** Which HTTP server carries an HTTP transport's routes (servers/http-front.ts). */
export type HttpServerKind = 'express' | 'node' | 'h2';

/** Counters a server keeps about itself. */
export interface ServerCounters {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  connectionsOpen: number;
  /** HTTP requests answered, upgrade handshakes included. */
  requests: number;
  /** Responses that carried no message (empty polls, long-poll timeouts). */
  emptyResponses: number;
  /** Bytes read at the TCP sockets (client → server). */
  bytesRead: number;
  /** Bytes written at the TCP sockets (server → client). */
  bytesWritten: number;
  /** Requests or connections that ended in an error. */
  errors: number;
  /** Messages received from clients (POST /send bodies, WebSocket data messages). */
  messagesIn: number;
  /** Live subscribers (held polls not counted). */
  subscribers: number;
  /** Newest hub sequence number. */
  lastSeq: number;
  /** Subscribers the server dropped because their unsent output passed `maxBufferedBytes` (WebSocket). */
  droppedSlowReaders?: number;
  /** Subscribers the server dropped because they left pings unanswered (WebSocket heartbeat). */
  droppedMissedPongs?: number;
  /** TLS only: bytes of the TLS handshakes (both ways, at the TCP socket, until each connection was secure). */
  tlsHandshakeBytes?: number;
  /** TLS only: plaintext bytes read and written above TLS (bytesRead/bytesWritten less these are TLS's share). */
  plainBytesRead?: number;
  plainBytesWritten?: number;
}

/** Options every server accepts; each transport uses the ones that apply. */
export interface ServerOptions {
  /** Messages kept for cursors and resume (default 10,000). */
  history?: number;
  /** Characters of message text kept for cursors and resume (default 64 Mi; the newest message is always kept). */
  historyBytes?: number;
  /** Characters of message text in one poll reply or SSE resume write, past its first message (default 1 Mi). */
  maxBatchBytes?: number;
  /** A request body not received in full within this many ms is answered 408 and its connection closed (default 30,000; 0 = never). */
  bodyTimeoutMs?: number;
  /** The HTTP server under the routes: express (default) or plain node:http. */
  httpServer?: HttpServerKind;
  /** How long a long poll is held before a 204 (default 25,000 ms). */
  longPollTimeoutMs?: number;
  /** The SSE `retry:` value sent at connect (default 2,000 ms). */
  sseRetryMs?: number;
  /** Interval of SSE comment heartbeats (default 15,000 ms). */
  sseHeartbeatMs?: number;
  /** Largest message accepted, bytes (default 64 MiB). */
  maxMessageBytes?: number;
  /** WebSocket ping interval, 0 = off (default 30,000 ms). */
  heartbeatIntervalMs?: number;
  /** Missed pongs before a WebSocket peer is dropped (default 2). */
  maxMissedPongs?: number;
  /** Keep the framework's default headers (X-Powered-By, ETag) instead of trimming them. */
  frameworkDefaults?: boolean;
  /** A subscriber whose unsent output passes this many bytes is dropped (default 16 MiB): a reader that never reads must not grow the server without bound. */
  maxBufferedBytes?: number;
  /** Echo client messages back (default true); off to measure the upward path alone. */
  echo?: boolean;
  /** WebSocket rows: negotiate permessage-deflate (RFC 7692), every message compressed, context takeover on. Default false. */
  perMessageDeflate?: boolean;
  /** Allow cross-origin requests from this origin (CORS headers on every response); off by default. */
  corsOrigin?: string;
  /** Listen with TLS (https, wss) on this certificate and key, PEM; false (default): plain TCP. */
  tls?: { cert: string; key: string } | false;
}

/**
 * Where a node's published messages go and how they come back. The in-process one numbers them
 * in the node's own hub at once (one process, as every scenario but the clustered ones measures); a shared one (cluster/) numbers
 * them in Redis and feeds every node's hub, so a publish on any node reaches every subscriber and
 * every node serves the same history to cursors and `Last-Event-ID`.
 */
export interface Backplane {
  /** Publishes a message for everyone (or for client `to` only); gives it with its sequence number. */
  publish(data: string, to?: string): HubMessage | Promise<HubMessage>;
  /** Stops reading and publishing. */
  close(): Promise<void>;
}

/** A running (or ready to run) transport server. */
export interface TransportServer {
  readonly transport: TransportName;
  readonly hub: Hub;
  /** The node:http server under it; absent for a server that is not on node:http (uWebSockets.js, websocketd). */
  readonly httpServer?: HttpServer;
  /**
   * Processes whose CPU and memory are this server's, when it is not the process that created it
   * (websocketd and the program it runs per connection): read from /proc, children included.
   */
  processes?(): number[];
  /** Starts listening; resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  counters(): ServerCounters;
  /** Publishes through the server's backplane (what `POST /publish` does), giving the sequence number. */
  publish(data: string, to?: string): HubMessage | Promise<HubMessage>;
  /** Replaces the in-process backplane (before `listen`); the server closes it when it closes. */
  useBackplane(b: Backplane): void;
}
