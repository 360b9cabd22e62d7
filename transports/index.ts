/** The transport registry: one entry per transport, in the order reports show them. */
import type { TransportDescriptor } from './descriptor.ts';

const BUILT_IN: TransportDescriptor[] = [
  {
    name: 'polling',
    inWords: 'short polling',
    traits: { delivery: 'poll', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#E69F00', dash: [8, 4] },
  },
  {
    name: 'long-polling',
    inWords: 'long polling',
    traits: { delivery: 'held-request', heartbeat: 'none', socketsPerClient: 2, upward: 'post' },
    look: { color: '#CC79A7', dash: [2, 3] },
  },
  {
    name: 'sse',
    inWords: 'SSE',
    traits: { delivery: 'stream', heartbeat: 'one-way', socketsPerClient: 1, upward: 'post' },
    look: { color: '#56B4E9', dash: [10, 3, 2, 3] },
  },
  {
    name: 'websocket',
    inWords: 'the WebSocket engine',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#009E73', dash: [] },
    role: 'engine',
  },
  {
    name: 'ws',
    inWords: 'ws',
    traits: { delivery: 'frames', heartbeat: 'ping-pong', socketsPerClient: 1, upward: 'frame' },
    look: { color: '#0072B2', dash: [5, 5] },
    role: 'reference',
  },
];

const registry = new Map<string, TransportDescriptor>(BUILT_IN.map((d) => [d.name, d]));

/** Every registered transport, in report order. */
export function transports(): TransportDescriptor[] {
  return [...registry.values()];
}

/** A transport's descriptor, or undefined for a name the lab does not know. */
export function transportByName(name: string): TransportDescriptor | undefined {
  return registry.get(name);
}
