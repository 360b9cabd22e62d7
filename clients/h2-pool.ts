/**
 * HTTP/2 sessions shared by several simulated pages (`streamsPerSession`), as a browser's tabs
 * share its one connection to an origin: each session is handed to that many clients in turn,
 * then a new one is opened; it closes when its last client leaves. With one page per session
 * (the default) nothing is pooled.
 */
import type { ClientHttp2Session } from 'node:http2';
import { openH2Session } from '../protocol/index.ts';
import { tappedConnection } from './h2-frames.ts';

/** A session and the clients it has been handed to. */
interface Shared {
  session: ClientHttp2Session;
  /** Clients it was handed to, in all. */
  handed: number;
  /** Clients still on it. */
  users: number;
}

/** The session being handed out, per origin, certificate and share. */
const filling = new Map<string, Shared>();
/** Every shared session's record, to release it by its session. */
const records = new WeakMap<ClientHttp2Session, Shared>();

/** A session for one more client of `origin`, shared with up to `perSession - 1` others. */
export function takeSession(origin: string, ca: string | undefined, perSession: number): ClientHttp2Session {
  const key = `${origin} ${perSession} ${ca ?? ''}`;
  let s = filling.get(key);
  if (s === undefined || s.handed >= perSession || s.session.closed || s.session.destroyed) {
    // Over a tap that counts the session's frames by type (h2-frames.ts), as an unshared one.
    const session = openH2Session(origin, { createConnection: tappedConnection(ca) });
    // A session's failure reaches every stream on it; the session itself must not crash the process.
    session.on('error', () => {});
    s = { session, handed: 0, users: 0 };
    records.set(session, s);
    filling.set(key, s);
  }
  s.handed++;
  s.users++;
  return s.session;
}

/** A client leaves its shared session; the last one closes it. */
export function releaseSession(session: ClientHttp2Session): void {
  const s = records.get(session);
  if (s === undefined) return;
  s.users--;
  if (s.users > 0) return;
  records.delete(session);
  for (const [k, v] of filling) if (v === s) filling.delete(k);
  if (!session.destroyed) session.close();
}
