/**
 * The load clients' bytes on the wire, pinned: the overhead scenario's set-up bytes per client
 * (the request headers of the stream, the WebSocket handshake, amortised into its bytes per
 * message) and an echo's bytes per round trip (frames or events both ways, the upward POSTs,
 * counted over the whole run), each equal to what the clients sent before their hot paths were
 * reworked for speed. A client made cheaper must not send other headers, frames or requests:
 * these figures would move.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportName } from '../../metrics/results.ts';
import type { RunContext } from '../../scenarios/contract.ts';
import { echo, type EchoParams } from '../../scenarios/echo/index.ts';
import { overhead, type OverheadParams } from '../../scenarios/overhead/index.ts';

const ctx: RunContext = { progress: () => {}, signal: new AbortController().signal, wsClient: 'own' };
const common = { pollIntervalMs: 100, longPollTimeoutMs: 25_000, headers: 'browser' as const };

/**
 * Measured on the clients as they were (browser header profile, 3 clients, 64 B). The polling rows'
 * set-up takes in however many polls fell within it, so their requests are pinned byte for byte
 * instead (test/clients/request-heads-pinned.test.ts).
 */
const SETUP_BYTES_PER_CLIENT: Record<string, number> = { sse: 781, websocket: 560, ws: 560 };
/** Bytes per echoed 64 B message, handshakes and POSTs included, where no poll's timing enters. */
const ECHO_BYTES_PER_MESSAGE: Record<string, number> = { websocket: 176, ws: 176, sse: 969.14 };

describe('overhead: set-up bytes as pinned', () => {
  const p: OverheadParams = {
    ...common,
    clients: 3,
    rates: [20],
    sizes: [64],
    minMessages: 2,
    minWindowMs: 300,
    sessionSeconds: 60,
    extrapolateClients: [1000],
    payloads: ['compressible'],
  };
  for (const t of Object.keys(SETUP_BYTES_PER_CLIENT) as TransportName[]) {
    test(t, async () => {
      const row = await overhead.run(t, p, ctx);
      assert.equal(row.state, 'completed', row.error ?? '');
      // The steady bytes per message are pinned by the echo below: here the window's byte count and
      // its delivery count are read a moment apart, which a busy machine skews.
      const pt = (row.extra!['sweep'] as { setupBytesPerClient: number }[])[0]!;
      assert.equal(pt.setupBytesPerClient, SETUP_BYTES_PER_CLIENT[t], `${t}: set-up bytes per client`);
    });
  }
});

describe('echo: bytes per round trip as pinned', () => {
  const p: EchoParams = { ...common, clients: 3, ratePerClient: 20, size: 64, durationMs: 700, warmupMs: 0, loadProcesses: 1 };
  for (const t of Object.keys(ECHO_BYTES_PER_MESSAGE) as TransportName[]) {
    test(t, async () => {
      const row = await echo.run(t, p, ctx);
      assert.equal(row.state, 'completed', row.error ?? '');
      assert.equal(row.messages!.lost, 0, `${t}: an echo was lost, so the bytes per message cannot compare`);
      assert.equal(row.wire!.bytesPerMessage, ECHO_BYTES_PER_MESSAGE[t], `${t}: bytes per echoed message`);
    });
  }
});
