/**
 * What the lab knows about a transport, in one place. Scenarios, the runner and
 * the report facets read these traits; nothing outside `transports/` compares a
 * transport's name with a string.
 */

/** How updates reach a subscriber. */
export type Delivery =
  /** A request per poll, answered at once (short polling). */
  | 'poll'
  /** A request held open until an update or a timeout (long polling). */
  | 'held-request'
  /** One streaming HTTP response (Server-Sent Events). */
  | 'stream'
  /** Frames on one upgraded connection (WebSocket). */
  | 'frames';

/** How the server learns that a silent peer is gone. */
export type HeartbeatKind =
  /** Nothing on the connection: only idle timeouts free it. */
  | 'none'
  /** Comment lines the server writes and nobody answers (SSE). */
  | 'one-way'
  /** Ping frames the peer must answer with pong (WebSocket). */
  | 'ping-pong';

/** How a client's messages go up to the server. */
export type Upward = 'post' | 'frame';

/** Traits that decide how scenarios treat a transport and how reports speak of it. */
export interface TransportTraits {
  delivery: Delivery;
  heartbeat: HeartbeatKind;
  /** Sockets one subscriber ends up holding (the polling clients' pool of two holds both). */
  socketsPerClient: number;
  upward: Upward;
}

/** How charts draw a transport: the same colour and dash in every chart. */
export interface TransportLook {
  /** CSS colour (Okabe–Ito palette, safe for colour-blind readers). */
  color: string;
  /** chart.js dash pattern; empty for a solid line. */
  dash: number[];
}

/** One registry entry. */
export interface TransportDescriptor {
  /** The row name in results.json, spelled exactly so. */
  name: string;
  /** The transport in prose ("short polling", "the WebSocket engine"). */
  inWords: string;
  traits: TransportTraits;
  look: TransportLook;
  /**
   * `engine`: the lab's own WebSocket engine; `reference`: the library it is measured against
   * (findings compare the two); absent for every other transport.
   */
  role?: 'engine' | 'reference';
}
