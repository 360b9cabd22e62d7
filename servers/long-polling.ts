/**
 * Long polling: `GET /poll?cursor=N` is answered at once when something is
 * newer than the cursor, otherwise held until a message arrives or the
 * timeout passes (204). The client re-polls with the cursor it was given, so
 * a message published between two polls waits in the history, not lost.
 */
import type { ServerResponse } from 'node:http';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, HttpError } from './base.ts';
import type { Exchange } from './http-front.ts';
import { parseCursor, visibleTo, type HubMessage } from './hub.ts';
import { pollBody } from './poll-body.ts';
import { MAX_BATCH } from './polling.ts';

interface Waiter {
  cursor: number;
  client: string | undefined;
  x: Exchange;
  timer: NodeJS.Timeout;
}

export function createLongPollingServer(options?: ServerOptions): TransportServer {
  return buildServer('long-polling', options, (ctx) => {
    const waiting = new Set<Waiter>();
    const answer = (w: Waiter) => {
      clearTimeout(w.timer);
      waiting.delete(w);
      w.x.send(200, pollBody(ctx.hub.since(w.cursor, w.client, MAX_BATCH, ctx.options.maxBatchBytes)), 'application/json');
    };
    // A message reaches the polls held now; the hub listener below is this server's own.
    ctx.setAudience(() => waiting.size);
    ctx.hub.subscribe((m: HubMessage) => {
      if (waiting.size === 0) return;
      // A cursor at or past the message (a node behind its backplane) already has it.
      for (const w of waiting) if (m.seq > w.cursor && visibleTo(m, w.client)) answer(w);
    });
    ctx.onClose(() => {
      for (const w of waiting) {
        clearTimeout(w.timer);
        w.x.send(503);
      }
      waiting.clear();
    });

    ctx.route('GET', '/poll', (x) => {
      const client = clientIdOf(x.query, false);
      const cursor = parseCursor(x.query['cursor']);
      const res: ServerResponse = x.res;
      let timeoutMs = ctx.options.longPollTimeoutMs;
      if (x.query['timeout'] !== undefined) {
        const t = Number(x.query['timeout']);
        if (!Number.isInteger(t) || t < 0 || t > 300_000) throw new HttpError(400, 'timeout must be an integer from 0 to 300000 ms');
        timeoutMs = t;
      }
      if (cursor === undefined) {
        x.send(200, `{"next":${ctx.hub.lastSeq},"gap":null,"messages":[]}`, 'application/json');
        return;
      }
      const r = ctx.hub.since(cursor, client, MAX_BATCH, ctx.options.maxBatchBytes);
      if (r.messages.length > 0 || r.gap || r.reset) {
        x.send(200, pollBody(r), 'application/json');
        return;
      }
      const w: Waiter = {
        cursor: r.next,
        client,
        x,
        timer: setTimeout(() => {
          waiting.delete(w);
          ctx.countEmpty();
          res.setHeader('X-Next-Cursor', String(w.cursor));
          x.send(204);
        }, timeoutMs),
      };
      waiting.add(w);
      x.req.socket.setTimeout(0);
      res.on('close', () => {
        clearTimeout(w.timer);
        waiting.delete(w);
      });
    });
  });
}
