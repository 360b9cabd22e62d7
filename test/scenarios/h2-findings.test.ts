/** The overhead finding that sets an h2 row beside its HTTP/1.1 row, from a results file's figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScenarioResult, TransportResult } from '../../metrics/results.ts';
import { h2Findings } from '../../scenarios/overhead/h2-findings.ts';

/** A completed overhead row with one sweep point at 64 B, 1 msg/s. */
function row(transport: string, point: Record<string, unknown>, extra: Record<string, unknown> = {}): TransportResult {
  return {
    transport,
    state: 'completed',
    error: null,
    latencyMs: null,
    throughput: null,
    messages: null,
    wire: null,
    server: null,
    extra: { sweep: [{ ratePerClient: 1, sizeBytes: 64, payload: 'compressible', ...point }], ...extra },
  } as TransportResult;
}

test('a repeated poll over HTTP/2 is quoted against polling over HTTP/1.1, with its HEADERS and frame types', () => {
  const s: ScenarioResult = {
    name: 'overhead',
    params: { headers: 'browser' },
    results: [
      row(
        'polling',
        { bytesPerMessage: 904, overheadBytesPerMessage: 840, plainBytesPerMessage: 811 },
        { responseHeaders: ['HTTP/1.1 200 OK', 'Date: …', 'Connection: keep-alive'] },
      ),
      row('polling-h2', {
        bytesPerMessage: 336,
        overheadBytesPerMessage: 272,
        plainBytesPerMessage: 261,
        h2FrameBytesPerMessage: { DATA: 135, HEADERS: 84, SETTINGS: 0 },
        h2HeadersBytesPerRequest: 84,
        h2HeaderBlockBytesPerRequest: 66,
      }),
      row('sse-h2', { bytesPerMessage: 158, overheadBytesPerMessage: 94, h2FrameBytesPerMessage: { DATA: 87 } }),
    ],
  };
  const [poll, ...rest] = h2Findings(s);
  assert.match(
    poll!.text,
    /^overhead: over HTTP\/2 a repeated poll costs 336 B instead of 904 \(polling-h2 against polling, 64 B at 1 msg\/s per client, both over TLS\)/,
  );
  assert.match(
    poll!.text,
    /HEADERS frames, request and response together, take 84\.0 B \(HPACK blocks 66\.0 B\), \d+(\.\d)? % of the \d+ B of an HTTP\/1\.1 poll's/,
  );
  assert.match(poll!.text, /HTTP\/2 frames per message by type: DATA 135 B, HEADERS 84\.0 B\.$/);
  assert.doesNotMatch(poll!.text, /SETTINGS/, 'a frame type that cost nothing in the window is left out');
  // sse ran without its HTTP/1.1 row: nothing to set it beside.
  assert.deepEqual(rest, []);
});

test('an HTTP/1.1 row in cleartext beside an h2 row over TLS is said to be no like-for-like comparison', () => {
  const s: ScenarioResult = {
    name: 'overhead',
    params: {},
    results: [
      row('websocket', { bytesPerMessage: 75, overheadBytesPerMessage: 11 }),
      row('websocket-h2', { bytesPerMessage: 144, overheadBytesPerMessage: 80, h2FrameBytesPerMessage: { DATA: 75 } }),
    ],
  };
  const [f] = h2Findings(s);
  assert.match(
    f!.text,
    /a message costs 144 B instead of 75(\.0)? \(websocket-h2 against websocket, .*websocket in cleartext, so run with --tls to compare like with like\)/,
  );
  assert.doesNotMatch(f!.text, /HEADERS frames/);
});
