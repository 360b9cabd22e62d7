/**
 * What scenarios share: the contract they implement (runner/scenario.ts, the runner's), and
 * helpers for their rows and server options.
 */
import type { TransportName, TransportResult } from '../metrics/results.ts';
import type { ServerCounters, ServerOptions } from '../servers/contract.ts';
import type { PeerNeed, TransportDescriptor } from '../transports/descriptor.ts';

export { type RunContext, type Scenario, whyNot } from '../runner/scenario.ts';

/** How long the last messages may trail: a poll interval for short polling, a moment for the rest (the ETA's guess at a drain). */
export function deliveryLagMs(t: TransportDescriptor, pollIntervalMs: number): number {
  return t.traits.delivery === 'poll' ? pollIntervalMs : 100;
}

/** Why a peer row cannot meet a scenario's need (its registry entry says), or null: the lab's own rows meet them all. */
export function peerGap(d: TransportDescriptor, need: PeerNeed): string | null {
  return d.peer?.cannot?.[need] ?? null;
}

/** A completed row for scenarios whose figures are not the latency/throughput kind: the rest is given. */
export function measuredRow(transport: TransportName, parts: Partial<TransportResult>): TransportResult {
  return { transport, state: 'completed', error: null, latencyMs: null, throughput: null, messages: null, wire: null, server: null, ...parts };
}

/** Server options for the scenarios that watch liveness: the WebSocket ping and SSE comment heartbeat at one interval (0 = off). */
export function heartbeatServerOptions(p: { heartbeatIntervalMs: number; maxMissed: number; longPollTimeoutMs: number }): ServerOptions {
  return {
    heartbeatIntervalMs: p.heartbeatIntervalMs,
    maxMissedPongs: p.maxMissed,
    sseHeartbeatMs: p.heartbeatIntervalMs > 0 ? p.heartbeatIntervalMs : 2 ** 31 - 1,
    longPollTimeoutMs: p.longPollTimeoutMs,
  };
}

/** The wire block of a row that carried no payload: what the server's counters saw, requests included. */
export function counterWire(c: ServerCounters): NonNullable<TransportResult['wire']> {
  return {
    bytesUp: c.bytesRead,
    bytesDown: c.bytesWritten,
    payloadBytes: 0,
    overheadBytesPerMessage: 0,
    requests: c.requests,
    emptyResponses: c.emptyResponses,
  };
}
