/** The transport registry: one entry per transport, in the order reports show them. */
import type { HttpServerKind } from '../servers/contract.ts';
import type { ClientModule, ServerLauncher, TransportDescriptor } from './descriptor.ts';
import { PEERS, PEER_GROUP } from './peers.ts';
import { TRANSPORT_NAME, TRANSPORT_NAME_RULE } from '../metrics/row-name.ts';
import { LOOPBACK, type LinkProfile, linkNamed } from '../path/links.ts';

const serverModule = (file: string, name: string): ServerLauncher => ({ kind: 'module', module: import.meta.resolve(`../servers/${file}`), export: name });
const clientModule = (file: string, name: string): ClientModule => ({ module: import.meta.resolve(`../clients/${file}`), export: name });

const BUILT_IN: TransportDescriptor[] = [
  {
    name: 'polling',
    httpServer: 'express',
    inWords: 'short polling',
    traits: { delivery: 'poll', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#E69F00', dash: [8, 4] },
    server: serverModule('polling.ts', 'createPollingServer'),
    client: clientModule('polling.ts', 'PollingClient'),
  },
  {
    name: 'long-polling',
    httpServer: 'express',
    inWords: 'long polling',
    traits: { delivery: 'held-request', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#CC79A7', dash: [2, 3] },
    server: serverModule('long-polling.ts', 'createLongPollingServer'),
    client: clientModule('long-polling.ts', 'LongPollingClient'),
  },
  {
    name: 'sse',
    httpServer: 'express',
    inWords: 'SSE',
    traits: { delivery: 'stream', heartbeat: 'one-way', socketsPerClient: 1, upward: 'post' },
    look: { color: '#56B4E9', dash: [10, 3, 2, 3] },
    server: serverModule('sse.ts', 'createSseServer'),
    client: clientModule('sse.ts', 'SseClient'),
  },
  {
    name: 'websocket',
    inWords: 'the WebSocket engine',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#009E73', dash: [] },
    role: 'engine',
    preframes: true,
    server: serverModule('websocket.ts', 'createWebSocketServer'),
    client: clientModule('websocket.ts', 'EngineClient'),
  },
  {
    name: 'ws',
    inWords: 'ws',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#0072B2', dash: [5, 5] },
    role: 'reference',
    server: serverModule('ws.ts', 'createWsServer'),
    client: clientModule('ws.ts', 'WsClient'),
  },
  {
    // The ceiling: newline-delimited messages on a raw node:net socket after one HTTP Upgrade.
    name: 'tcp',
    inWords: 'raw TCP (node:net)',
    traits: { delivery: 'frames', heartbeat: 'none', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#555555', dash: [1, 3] },
    role: 'ceiling',
    byNameOnly: true,
    server: serverModule('tcp.ts', 'createTcpServer'),
    client: clientModule('tcp.ts', 'TcpClient'),
  },
];

/**
 * permessage-deflate variants of the two WebSocket rows, for the overhead scenario's "bytes on
 * the wire against CPU" question. Same traits as their plain rows, no engine/reference role (the
 * findings compare the plain rows). Run only by name, so `npm run bench` keeps its five
 * rows: they run when asked for by name (`--transports websocket+deflate,ws+deflate`).
 */
const DEFLATE_VARIANTS: TransportDescriptor[] = BUILT_IN.filter((d) => d.role === 'engine' || d.role === 'reference').map((d) => ({
  name: `${d.name}+deflate`,
  inWords: `${d.inWords} with permessage-deflate`,
  traits: d.traits,
  look: { color: d.look.color, dash: [1, 3] },
  server: { ...d.server, options: { perMessageDeflate: true } },
  client: { ...d.client, options: { perMessageDeflate: true } },
  byNameOnly: true,
}));

/**
 * `ws` with each broadcast framed once by ws's own `Sender.frame` and the same bytes written to
 * every peer, as the engine's server does: beside the plain `ws` row it shows how much of a push
 * gap is the API (ws frames per `send`) and how much the engine. Run only by name.
 */
const PREFRAMED_VARIANTS: TransportDescriptor[] = BUILT_IN.filter((d) => d.role === 'reference').map((d) => ({
  name: `${d.name}+preframed`,
  inWords: `${d.inWords} with broadcasts framed once`,
  traits: d.traits,
  look: { color: d.look.color, dash: [10, 2, 2, 2] },
  server: serverModule('ws.ts', 'createPreframedWsServer'),
  client: d.client,
  byNameOnly: true,
  preframes: true,
}));

/**
 * Reconnect variants of the two WebSocket rows, for the failover scenario: the same server and
 * client, the client coming back after its connection ended by a named policy
 * (clients/reconnect.ts), and `+resume` (socket.io's backoff) also asking for what it missed by
 * cursor. The plain rows keep the client that stays closed (policy `none`), as the other scenarios measure it. By name only;
 * the failover scenario adds them beside their plain rows.
 */
const RECONNECT_VARIANTS: TransportDescriptor[] = BUILT_IN.filter((d) => d.role === 'engine' || d.role === 'reference').flatMap((d) =>
  (
    [
      ['immediate', { reconnect: 'immediate' }, [2, 2]],
      ['exponential', { reconnect: 'exponential' }, [6, 2]],
      ['full-jitter', { reconnect: 'full-jitter' }, [6, 2, 2, 2]],
      ['resume', { reconnect: 'exponential', resume: true }, []],
    ] as const
  ).map(([suffix, options, dash]) => ({
    name: `${d.name}+${suffix}`,
    inWords: `${d.inWords} ${suffix === 'resume' ? 'reconnecting with exponential backoff and resuming by cursor' : `reconnecting (${suffix})`}`,
    traits: d.traits,
    look: { color: d.look.color, dash: [...dash] },
    server: d.server,
    client: { ...d.client, options },
    byNameOnly: true,
  })),
);

/** The reconnect variants of a row (`websocket` → `websocket+immediate`, …), none for a row without them. */
export function reconnectVariantsOf(name: string): string[] {
  const row = transportByName(name);
  // A clustered row's variants are its plain row's, run as as many nodes.
  if (row?.nodes !== undefined && row.clusterOf !== undefined)
    return reconnectVariantsOf(row.clusterOf).flatMap((v) => clusterRowNamed(`${v}-n${row.nodes}`)?.name ?? []);
  const base = registry.get(name);
  // Only the plain row has variants: they share its server launcher and client module, and add client options.
  if (!base || base.client.options) return [];
  return RECONNECT_VARIANTS.filter((v) => v.server === base.server && v.client.module === base.client.module).map((v) => v.name);
}

/** The choices of `--http-server`, in help order (the first is the default). */
export const HTTP_SERVER_KINDS: readonly HttpServerKind[] = ['express', 'node', 'h2'];

/**
 * The same HTTP transport on plain node:http: same traits, client and contract logic, its own
 * row name (`polling-node`), so no existing row changes meaning. A dash pattern of its own
 * beside the same colour tells the two apart in charts.
 */
function onNodeHttp(d: TransportDescriptor): TransportDescriptor {
  return {
    ...d,
    name: `${d.name}-node`,
    inWords: `${d.inWords} on node:http`,
    look: { color: d.look.color, dash: [1, 2] },
    server: { ...d.server, options: { httpServer: 'node' } },
    httpServer: 'node',
    variantOf: d.name,
  };
}

/**
 * The same transport over HTTP/2 (`polling-h2`, `websocket-h2`): node:http2 under the routes (the
 * node:http front on its compatibility API), TLS with ALPN h2 by default as a browser reaches an
 * https origin, one h2 connection per simulated page carrying its polls or stream and its POSTs;
 * the WebSocket as an extended CONNECT on that connection (RFC 8441).
 */
function overH2(d: TransportDescriptor, client: string): TransportDescriptor {
  const row: TransportDescriptor = {
    ...d,
    name: `${d.name}-h2`,
    inWords: `${d.inWords} over HTTP/2`,
    traits: { ...d.traits, socketsPerClient: 1 },
    look: { color: d.look.color, dash: [6, 2, 1, 2] },
    server: { ...d.server, options: { httpServer: 'h2' } },
    client: clientModule(d.traits.delivery === 'frames' ? 'h2-websocket.ts' : 'h2-http.ts', client),
    httpServer: 'h2',
    variantOf: d.name,
  };
  delete row.role;
  return row;
}

const H2_CLIENTS: Record<string, string> = {
  polling: 'PollingH2Client',
  'long-polling': 'LongPollingH2Client',
  sse: 'SseH2Client',
  websocket: 'EngineH2Client',
};

const VARIANTS: TransportDescriptor[] = [
  ...BUILT_IN.filter((d) => d.httpServer === 'express').map(onNodeHttp),
  ...BUILT_IN.filter((d) => H2_CLIENTS[d.name] !== undefined).map((d) => overH2(d, H2_CLIENTS[d.name]!)),
];

/** Why a WebSocket server the lab measures cannot take a WebSocket over HTTP/2 (RFC 8441). */
const NOT_OVER_H2: Record<string, string> = {
  ws: 'ws takes WebSockets only as an HTTP/1.1 Upgrade on node:http, never as an HTTP/2 extended CONNECT (RFC 8441 is not implemented: websockets/ws#1458)',
  uws: 'uWebSockets.js serves HTTP/1.1 only: no HTTP/2, so no WebSocket over it (uNetworking/uWebSockets.js#178)',
  websocketd: 'websocketd answers the HTTP/1.1 Upgrade only; it has no HTTP/2 listener and no extended CONNECT',
  'socket.io-ws': "socket.io's WebSocket transport is ws underneath, which has no RFC 8441 (websockets/ws#1458): it upgrades over HTTP/1.1 only",
  'socket.io-polling':
    "the lab's socket.io row attaches to a node:http server; Socket.IO's own HTTP/2 set-up (http2.createSecureServer with allowHTTP1) is not built here, and its WebSocket upgrade would still need HTTP/1.1",
};

/** Rows named `<name>-h2` for the servers that cannot run over HTTP/2: asked for by name, they give n/a with the reason. */
const NOT_H2_ROWS: TransportDescriptor[] = [...BUILT_IN, ...PEERS]
  .filter((d) => NOT_OVER_H2[d.name] !== undefined)
  .map((d) => {
    const row: TransportDescriptor = { ...d, name: `${d.name}-h2`, inWords: `${d.inWords} over HTTP/2`, byNameOnly: true, notOverH2: NOT_OVER_H2[d.name]! };
    // Never started: no peer to install, no role in the findings.
    delete row.peer;
    delete row.role;
    return row;
  });

const ALL: TransportDescriptor[] = [...BUILT_IN, ...VARIANTS, ...DEFLATE_VARIANTS, ...PREFRAMED_VARIANTS, ...RECONNECT_VARIANTS, ...PEERS, ...NOT_H2_ROWS];

const registry = new Map<string, TransportDescriptor>(ALL.map((d) => [d.name, d]));

/**
 * A `--transports` list with its group names expanded: `peers` stands for every peer row
 * (websocketd, uws, socket.io-ws, socket.io-polling), in registry order; duplicates go.
 */
export function expandTransportGroups(names: readonly string[]): string[] {
  const peers = [...registry.values()].filter((d) => d.peer).map((d) => d.name);
  return [...new Set(names.flatMap((n) => (n === PEER_GROUP ? peers : [n])))];
}

export { PEER_GROUP };

/** Every registered transport, variants included, in report order. */
export function transports(): TransportDescriptor[] {
  return [...registry.values()];
}

/** The names of the registered transports a run takes by default (variants only when asked for), in report order. */
export function transportNames(): string[] {
  return [...registry.values()].filter((d) => !d.variantOf && !d.byNameOnly).map((d) => d.name);
}

/**
 * The rows a transport list gives under `--http-server`: each HTTP transport once per server
 * kind asked for (express keeps its name, node:http is its variant row); other transports once.
 */
export function withHttpServers(names: readonly string[], kinds: readonly HttpServerKind[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const d = transport(name);
    if (!d.httpServer || d.variantOf) {
      out.push(name);
      continue;
    }
    for (const kind of kinds) {
      const row = kind === d.httpServer ? d : transports().find((v) => v.variantOf === name && v.httpServer === kind);
      if (row && !out.includes(row.name)) out.push(row.name);
    }
  }
  return out;
}

/** A transport's descriptor, or undefined for a name the lab does not know. */
export function transportByName(name: string): TransportDescriptor | undefined {
  return registry.get(name) ?? clusterRowNamed(name) ?? linkRowNamed(name);
}

/**
 * Rows on an emulated link (`--link`): `<row>@<link>` is the row with the link between its load
 * and its server, any row (a peer, a clustered row, a variant) on any link, made on first use
 * like the clustered rows.
 */
const LINK_ROW = /^(.+)@([a-z0-9][a-z0-9.-]*)$/;

function linkRowNamed(name: string): TransportDescriptor | undefined {
  const m = LINK_ROW.exec(name);
  const base = m ? transportByName(m[1]!) : undefined;
  const link = m ? linkNamed(m[2]!) : undefined;
  if (!base || !link || link.name === LOOPBACK || base.link) return undefined;
  const d: TransportDescriptor = { ...base, name, inWords: `${base.inWords} over ${link.name}`, byNameOnly: true, link, linkOf: base.name };
  delete d.role;
  registry.set(name, d);
  return d;
}

/** Whether a name is a row on an emulated link (`websocket@3g`). */
export function isLinkRow(name: string): boolean {
  return transportByName(name)?.link !== undefined;
}

/** The rows a transport list gives under `--link`: each row once per link, loopback keeping the plain name (nothing emulated). */
export function withLinks(names: readonly string[], links: readonly LinkProfile[]): string[] {
  if (links.length === 0) return [...names];
  return names.flatMap((name) => links.map((l) => (l.name === LOOPBACK ? name : linkRowNamed(`${name}@${l.name}`)!.name)));
}

/**
 * Clustered rows (`--nodes`): `<transport>-n<N>` is N nodes of the transport behind the
 * cluster balancer on the Redis backplane. They are made on first use, so a results file
 * read in another process still finds them.
 */
const CLUSTER_ROW = /^(.+)-n(\d{1,3})$/;

/** Whether a transport can run as nodes on the backplane: a server module on the shared hub, not the raw TCP ceiling. */
function clusterable(d: TransportDescriptor): boolean {
  return d.server.kind === 'module' && d.role !== 'ceiling' && d.nodes === undefined && d.notOverH2 === undefined;
}

function clusterRowNamed(name: string): TransportDescriptor | undefined {
  const m = CLUSTER_ROW.exec(name);
  const base = m ? registry.get(m[1]!) : undefined;
  const n = Number(m?.[2]);
  if (!base || !clusterable(base) || !(n >= 1)) return undefined;
  const d: TransportDescriptor = {
    ...base,
    name,
    inWords: `${base.inWords} on ${n} node${n === 1 ? '' : 's'} with Redis`,
    look: { color: base.look.color, dash: [n * 2, 2, 1, 2] },
    byNameOnly: true,
    nodes: n,
    clusterOf: base.name,
  };
  delete d.role;
  registry.set(name, d);
  return d;
}

/** Whether a name is a clustered row of a built-in or registered transport (`websocket-n4`). */
export function isClusterRow(name: string): boolean {
  return transportByName(name)?.nodes !== undefined;
}

/**
 * The rows a transport list gives under `--nodes`: each transport that can run clustered keeps
 * its one-process row (the baseline without Redis) and gains one row per node count.
 */
export function withNodes(names: readonly string[], counts: readonly number[]): string[] {
  if (counts.length === 0) return [...names];
  const out: string[] = [];
  for (const name of names) {
    out.push(name);
    const d = transport(name);
    if (clusterable(d)) for (const n of counts) out.push(clusterRowNamed(`${name}-n${n}`)!.name);
  }
  return out;
}

/** A transport's descriptor; throws, naming the known transports, for a name the lab does not know. */
export function transport(name: string): TransportDescriptor {
  const d = transportByName(name);
  if (!d) throw new Error(`unknown transport "${name}" (known: ${[...registry.keys()].join(', ')})`);
  return d;
}

/**
 * Adds a transport after the built-in ones (tests, and peers run as external programs). Its
 * modules are imported by URL in every process that needs them, so registering it in the
 * runner is enough; a name already taken is refused.
 */
export function registerTransport(d: TransportDescriptor): void {
  if (registry.has(d.name)) throw new Error(`transport "${d.name}" is already registered`);
  // The shape a results file's rows are checked against: a row the registry takes, a report reads.
  if (!TRANSPORT_NAME.test(d.name)) throw new Error(`transport name "${d.name}" must be ${TRANSPORT_NAME_RULE}`);
  registry.set(d.name, d);
}

/**
 * Which client drives the rows that deliver by frames. `own` (default): each transport its own
 * client. `engine` or `ws`: the client of the lab's engine, or of the reference library, for
 * every such row, so a difference between them is the server's alone.
 */
export type WsLoadClient = 'own' | 'engine' | 'ws';

/** The choices of `--ws-client`, in help order. */
export const WS_LOAD_CLIENTS: readonly WsLoadClient[] = ['own', 'engine', 'ws'];

/** The client that drives `d`'s server under a load-client choice. */
export function loadClientFor(d: TransportDescriptor, choice: WsLoadClient): ClientModule {
  // An h2 row's server speaks HTTP/2 only: the HTTP/1.1 clients of other rows cannot reach it.
  if (choice === 'own' || d.traits.delivery !== 'frames' || d.role === 'ceiling' || d.peer?.ownClientOnly || d.httpServer === 'h2') return d.client;
  const role = choice === 'engine' ? 'engine' : 'reference';
  const other = transports().find((x) => x.role === role);
  if (!other) throw new Error(`--ws-client ${choice}: no transport has the ${role} role`);
  return other.client;
}
