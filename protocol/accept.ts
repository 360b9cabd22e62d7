/**
 * A connection a server accepted, over an HTTP/1.1 upgrade (server.ts) or an RFC 8441 extended
 * CONNECT stream (h2.ts): both hand it the same settings and the same frame observer, so the two
 * paths cannot drift apart. Kept apart from server.ts, which imports h2.ts.
 */
import type { Duplex } from 'node:stream';
import { connectionSettings } from './client.ts';
import { type ConnectionOptions, WebSocketConnection } from './connection.ts';
import type { FrameObserver } from './core.ts';
import type { DeflateOptions } from './deflate.ts';

/** The server options every accepted connection takes (both servers' option types have them). */
export type AcceptSettings = Pick<
  ConnectionOptions,
  'maxMessageBytes' | 'maxBufferedBytes' | 'pauseReadingAboveBytes' | 'heartbeatIntervalMs' | 'maxMissedPongs' | 'closeTimeoutMs'
> & {
  perMessageDeflate?: boolean | DeflateOptions;
  /** The server's observer, told which connection a frame is on. */
  onFrame?: (conn: WebSocketConnection, dir: 'in' | 'out', bytes: Buffer) => void;
};

/**
 * A server-role connection on `transport` with what the handshake agreed (`decision`), the
 * server's settings (those given only) and its frame observer; `extra` is what differs by path
 * (the bytes after the head, the handle path, the handshake text).
 */
export function acceptedConnection(
  transport: Duplex,
  o: AcceptSettings,
  decision: { protocol?: string; deflate?: ConnectionOptions['deflate'] },
  extra: Pick<ConnectionOptions, 'head' | 'handleIo' | 'handshake'> = {},
): WebSocketConnection {
  const conn = new WebSocketConnection(transport, {
    role: 'server',
    ...extra,
    ...(decision.protocol !== undefined && { protocol: decision.protocol }),
    ...(decision.deflate !== undefined && { deflate: decision.deflate }),
    ...(typeof o.perMessageDeflate === 'object' && { deflateOptions: o.perMessageDeflate }),
    ...connectionSettings({ ...o, onFrame: undefined }),
    ...(o.pauseReadingAboveBytes !== undefined && { pauseReadingAboveBytes: o.pauseReadingAboveBytes }),
  });
  const observe = o.onFrame;
  if (observe) conn.onFrame = ((dir, bytes) => observe(conn, dir, bytes)) satisfies FrameObserver;
  return conn;
}
