/** The engine's WebSocket load client over HTTP/2 (RFC 8441): an extended CONNECT on the page's own h2 session. */
import { connectH2, openH2Session, type WebSocketConnection } from '../protocol/index.ts';
import { tappedConnection } from './h2-frames.ts';
import { releaseSession, takeSession } from './h2-pool.ts';
import { h2RequestHeaders } from './h2-side.ts';
import { EngineClient } from './websocket.ts';

export class EngineH2Client extends EngineClient {
  protected override open(url: string): Promise<WebSocketConnection> {
    const origin = new URL(this.o.baseUrl).origin;
    // The page's session: the WebSocket is one stream on it, and the session closes with it.
    // Or a session several pages share (streamsPerSession): the last WebSocket on it closes it.
    const per = this.o.streamsPerSession ?? 1;
    const session = per > 1 ? takeSession(origin, this.o.ca, per) : openH2Session(origin, { createConnection: tappedConnection(this.o.ca) });
    const leave = per > 1 ? () => releaseSession(session) : () => session.close();
    session.on('error', () => {});
    const headers = h2RequestHeaders(this.o.headers, 'webSocket', origin) as Record<string, string>;
    return connectH2(url, { session, perMessageDeflate: this.o.perMessageDeflate === true && { threshold: 0 }, headers }).then(
      (conn) => {
        conn.rawSocket.once('close', leave);
        return conn;
      },
      (e: unknown) => {
        if (per > 1) releaseSession(session);
        else session.destroy();
        throw e;
      },
    );
  }
}
