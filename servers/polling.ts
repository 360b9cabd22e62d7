/**
 * Short ("ajax") polling: the client asks `GET /poll?cursor=N` on a timer and
 * gets whatever is newer than its cursor — often nothing (204), which is the
 * cost this transport is known for.
 */
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf } from './base.ts';
import { parseCursor } from './hub.ts';
import { pollBody } from './poll-body.ts';

/** Largest number of messages one poll returns; the client polls again at once for the rest. */
export const MAX_BATCH = 10_000;

export function createPollingServer(options?: ServerOptions): TransportServer {
  return buildServer('polling', options, (ctx) => {
    ctx.route('GET', '/poll', (x) => {
      const client = clientIdOf(x.query, false);
      const cursor = parseCursor(x.query['cursor']);
      if (cursor === undefined) {
        // A first poll learns where the stream stands now; it is not an empty poll.
        x.send(200, `{"next":${ctx.hub.lastSeq},"gap":null,"messages":[]}`, 'application/json');
        return;
      }
      const r = ctx.hub.since(cursor, client, MAX_BATCH, ctx.options.maxBatchBytes);
      if (r.messages.length === 0 && !r.gap && !r.reset) {
        ctx.countEmpty();
        // The cursor may still move on when only other clients' echoes were skipped.
        if (r.next !== cursor) x.res.setHeader('X-Next-Cursor', String(r.next));
        x.send(204);
        return;
      }
      x.send(200, pollBody(r), 'application/json');
    });
  });
}
