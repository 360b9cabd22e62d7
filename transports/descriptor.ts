import type { ClientOptions } from '../clients/contract.ts';
import type { ServerOptions } from '../servers/contract.ts';

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
type HeartbeatKind =
  /** Nothing on the connection: only idle timeouts free it. */
  | 'none'
  /** Comment lines the server writes and nobody answers (SSE). */
  | 'one-way'
  /** Ping frames the peer must answer with pong (WebSocket). */
  | 'ping-pong';

/** How a client's messages go up to the server. */
type Upward = 'post' | 'frame';

/** Traits that decide how scenarios treat a transport and how reports speak of it. */
export interface TransportTraits {
  delivery: Delivery;
  heartbeat: HeartbeatKind;
  /** Sockets one subscriber ends up holding (the polling clients' pool of two holds both). */
  socketsPerClient: number;
  upward: Upward;
}

/** How charts draw a transport: the same colour and dash in every chart. */
interface TransportLook {
  /** CSS colour (Okabe–Ito palette, safe for colour-blind readers). */
  color: string;
  /** chart.js dash pattern; empty for a solid line. */
  dash: number[];
}

/**
 * How a transport's server is started. `module`: a TypeScript module (its URL, so a child
 * process can import it) whose `export` is a factory `(options?: ServerOptions) => TransportServer`.
 * Further kinds (an external program behind a proxy) join this union.
 */
export type ServerLauncher = {
  kind: 'module';
  module: string;
  export: string;
  /** Options this entry always starts its server with (a variant: permessage-deflate, node:http); they win over the run's. */
  options?: ServerOptions;
};

/** Where a transport's load client lives: a module URL and the exported class, `new (options: ClientOptions) => TransportClient`. */
export interface ClientModule {
  module: string;
  export: string;
  /** Options every client of this entry gets (JSON-safe: they travel to load processes). */
  options?: Pick<ClientOptions, 'perMessageDeflate'>;
}

/** Which HTTP server carries an HTTP transport's routes (servers/http-front.ts). */
export type HttpServerKind = 'express' | 'node' | 'h2';

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
   * (findings compare the two); `ceiling`: raw TCP with no framing, the most Node can do on the
   * same load (each WebSocket figure is shown as its share); absent for every other transport.
   */
  role?: 'engine' | 'reference' | 'ceiling';
  /**
   * For the HTTP transports: the HTTP server under its routes. A row on plain node:http is a
   * variant of the express row (`variantOf` names it), with the same traits and its own name.
   */
  httpServer?: HttpServerKind;
  /** The entry this one is a variant of, run only when asked for (`--http-server`). */
  variantOf?: string;
  /** A row named for HTTP/2 that cannot run over it: every scenario gives n/a with this reason. */
  notOverH2?: string;
  /** Not among a run's default rows: runs only when named (`--transports websocket+deflate`). */
  byNameOnly?: boolean;
  /** A program or library measured beside the lab's own rows (websocketd, uWebSockets.js, socket.io): what it needs and cannot do. */
  peer?: PeerInfo;
  /**
   * A clustered row (`--nodes`): this many server nodes of `clusterOf` behind the cluster
   * balancer, on the Redis backplane (cluster/). Absent: one server process, no Redis.
   */
  nodes?: number;
  /** The one-process row a clustered row is compared with. */
  clusterOf?: string;
  /** How the server of this transport starts. */
  server: ServerLauncher;
  /** The client that subscribes to it in load processes and tests. */
  client: ClientModule;
}

/** What a scenario may need of a server beyond echo; a peer that lacks one says why, and such a scenario gives n/a. */
export type PeerNeed =
  /** Server push to every subscriber (the lab's `publish`): push, fan-out, throughput-down, overhead. */
  | 'publish'
  /** The lab's liveness options (ping interval, missed pongs): dead-peer. */
  | 'heartbeat'
  /** The echo switched off, to measure the upward path alone: throughput-up. */
  | 'echo-off'
  /** The lab's HTTP routes (`/poll`, `/events`) for autocannon: http-saturation. */
  | 'lab-routes';

/** A peer row: installed on first use, its version recorded, its gaps stated. */
export interface PeerInfo {
  /** A script under `scripts/` that installs what the row needs (run once before its first server starts), if any. */
  ensure?: string;
  /** The version that runs, in words (package and binary), for the results' environment; throws when not installed. */
  version(): string;
  /** Needs this peer cannot meet, each with why. */
  cannot?: Partial<Record<PeerNeed, string>>;
  /** Only its own client speaks its protocol (socket.io): `--ws-client` and the fixed-load phase keep it. */
  ownClientOnly?: boolean;
}

/**
 * Whether every update costs the client an HTTP request (short and long polling): such a
 * client holds no subscription between requests, and only such a server can be saturated
 * with requests.
 */
export function requestPerUpdate(t: TransportTraits): boolean {
  return t.delivery === 'poll' || t.delivery === 'held-request';
}
