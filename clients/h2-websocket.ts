/** The engine's WebSocket load client over HTTP/2 (RFC 8441): an extended CONNECT on the page's own h2 session. */
import { connectH2, openH2Session, type WebSocketConnection } from '../protocol/index.ts';
import { tappedConnection } from './h2-frames.ts';
import { h2RequestHeaders } from './h2-side.ts';
import { EngineClient } from './websocket.ts';

export class EngineH2Client extends EngineClient {
  protected override open(url: string): Promise<WebSocketConnection> {
    const origin = new URL(this.o.baseUrl).origin;
    // The page's session: the WebSocket is one stream on it, and the session closes with it.
    const session = openH2Session(origin, { createConnection: tappedConnection(this.o.ca) });
    session.on('error', () => {});
    const headers = h2RequestHeaders(this.o.headers, 'webSocket', origin) as Record<string, string>;
    return connectH2(url, { session, perMessageDeflate: this.o.perMessageDeflate === true && { threshold: 0 }, headers }).then(
      (conn) => {
        conn.rawSocket.once('close', () => session.close());
        return conn;
      },
      (e: unknown) => {
        session.destroy();
        throw e;
      },
    );
  }
}
