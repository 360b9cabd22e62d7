/** The transport registry: one entry per transport, in the order reports show them. */
import type { ClientModule, ServerLauncher, TransportDescriptor } from './descriptor.ts';

const serverModule = (file: string, name: string): ServerLauncher => ({ kind: 'module', module: import.meta.resolve(`../servers/${file}`), export: name });
const clientModule = (file: string, name: string): ClientModule => ({ module: import.meta.resolve(`../clients/${file}`), export: name });

const BUILT_IN: TransportDescriptor[] = [
  {
    name: 'polling',
    inWords: 'short polling',
    traits: { delivery: 'poll', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#E69F00', dash: [8, 4] },
    server: serverModule('polling.ts', 'createPollingServer'),
    client: clientModule('polling.ts', 'PollingClient'),
  },
  {
    name: 'long-polling',
    inWords: 'long polling',
    traits: { delivery: 'held-request', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#CC79A7', dash: [2, 3] },
    server: serverModule('long-polling.ts', 'createLongPollingServer'),
    client: clientModule('long-polling.ts', 'LongPollingClient'),
  },
  {
    name: 'sse',
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
    server: serverModule('tcp.ts', 'createTcpServer'),
    client: clientModule('tcp.ts', 'TcpClient'),
  },
];

/** The names of the transports the lab ships with, in report order (results files name no others). */
export const BUILT_IN_NAMES: readonly string[] = BUILT_IN.map((d) => d.name);

const registry = new Map<string, TransportDescriptor>(BUILT_IN.map((d) => [d.name, d]));

/** Every registered transport, in report order. */
export function transports(): TransportDescriptor[] {
  return [...registry.values()];
}

/** The transports a bench runs when none are named: all but the ceiling, which is asked for by name. */
export function defaultTransportNames(): string[] {
  return transports()
    .filter((d) => d.role !== 'ceiling')
    .map((d) => d.name);
}

/** The names of every registered transport, in report order. */
export function transportNames(): string[] {
  return [...registry.keys()];
}

/** A transport's descriptor, or undefined for a name the lab does not know. */
export function transportByName(name: string): TransportDescriptor | undefined {
  return registry.get(name);
}

/** A transport's descriptor; throws, naming the known transports, for a name the lab does not know. */
export function transport(name: string): TransportDescriptor {
  const d = registry.get(name);
  if (!d) throw new Error(`unknown transport "${name}" (known: ${transportNames().join(', ')})`);
  return d;
}

/**
 * Adds a transport after the built-in ones (tests, and peers run as external programs). Its
 * modules are imported by URL in every process that needs them, so registering it in the
 * runner is enough; a name already taken is refused.
 */
export function registerTransport(d: TransportDescriptor): void {
  if (registry.has(d.name)) throw new Error(`transport "${d.name}" is already registered`);
  if (!/^[a-z][a-z0-9-]*$/.test(d.name)) throw new Error(`transport name "${d.name}" must be lower-case letters, digits and dashes`);
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
  if (choice === 'own' || d.traits.delivery !== 'frames' || d.role === 'ceiling') return d.client;
  const role = choice === 'engine' ? 'engine' : 'reference';
  const other = transports().find((x) => x.role === role);
  if (!other) throw new Error(`--ws-client ${choice}: no transport has the ${role} role`);
  return other.client;
}
