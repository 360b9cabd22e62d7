/**
 * Short ("ajax") polling: the client asks `GET /poll?cursor=N` on a timer and
 * gets whatever is newer than its cursor — often nothing (204), which is the
 * cost this transport is known for.
 */
import type { Request, Response } from 'express';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf } from './base.ts';
import { parseCursor } from './hub.ts';
import { pollBody } from './poll-body.ts';

/** Largest number of messages one poll returns; the client polls again at once for the rest. */
export const MAX_BATCH = 10_000;

export function createPollingServer(options?: ServerOptions): TransportServer {
  return buildServer('polling', options, (ctx) => {
    ctx.app.get('/poll', (req: Request, res: Response) => {
      const client = clientIdOf(req.query, false);
      const cursor = parseCursor(req.query['cursor']);
      if (cursor === undefined) {
        // A first poll learns where the stream stands now; it is not an empty poll.
        res.type('application/json').send(`{"next":${ctx.hub.lastSeq},"gap":null,"messages":[]}`);
        return;
      }
      const r = ctx.hub.since(cursor, client, MAX_BATCH);
      if (r.messages.length === 0 && !r.gap) {
        ctx.countEmpty();
        // The cursor may still move on when only other clients' echoes were skipped.
        if (r.next !== cursor) res.set('X-Next-Cursor', String(r.next));
        res.status(204).end();
        return;
      }
      res.type('application/json').send(pollBody(r));
    });
  });
}
