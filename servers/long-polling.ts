/**
 * Long polling: `GET /poll?cursor=N` is answered at once when something is
 * newer than the cursor, otherwise held until a message arrives or the
 * timeout passes (204). The client re-polls with the cursor it was given, so
 * a message published between two polls waits in the history, not lost.
 */
import type { Request, Response } from 'express';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, HttpError } from './base.ts';
import { parseCursor, visibleTo, type HubMessage } from './hub.ts';
import { pollBody } from './poll-body.ts';
import { MAX_BATCH } from './polling.ts';

interface Waiter {
  cursor: number;
  client: string | undefined;
  res: Response;
  timer: NodeJS.Timeout;
}

export function createLongPollingServer(options?: ServerOptions): TransportServer {
  return buildServer('long-polling', options, (ctx) => {
    const waiting = new Set<Waiter>();
    const answer = (w: Waiter) => {
      clearTimeout(w.timer);
      waiting.delete(w);
      w.res.type('application/json').send(pollBody(ctx.hub.since(w.cursor, w.client, MAX_BATCH)));
    };
    ctx.hub.subscribe((m: HubMessage) => {
      if (waiting.size === 0) return;
      for (const w of waiting) if (visibleTo(m, w.client)) answer(w);
    });
    ctx.onClose(() => {
      for (const w of waiting) {
        clearTimeout(w.timer);
        w.res.status(503).end();
      }
      waiting.clear();
    });

    ctx.app.get('/poll', (req: Request, res: Response) => {
      const client = clientIdOf(req.query, false);
      const cursor = parseCursor(req.query['cursor']);
      let timeoutMs = ctx.options.longPollTimeoutMs;
      if (req.query['timeout'] !== undefined) {
        const t = Number(req.query['timeout']);
        if (!Number.isInteger(t) || t < 0 || t > 300_000) throw new HttpError(400, 'timeout must be an integer from 0 to 300000 ms');
        timeoutMs = t;
      }
      if (cursor === undefined) {
        res.type('application/json').send(`{"next":${ctx.hub.lastSeq},"gap":null,"messages":[]}`);
        return;
      }
      const r = ctx.hub.since(cursor, client, MAX_BATCH);
      if (r.messages.length > 0 || r.gap) {
        res.type('application/json').send(pollBody(r));
        return;
      }
      const w: Waiter = {
        cursor: r.next,
        client,
        res,
        timer: setTimeout(() => {
          waiting.delete(w);
          ctx.countEmpty();
          res.set('X-Next-Cursor', String(w.cursor)).status(204).end();
        }, timeoutMs),
      };
      waiting.add(w);
      req.socket.setTimeout(0);
      res.on('close', () => {
        clearTimeout(w.timer);
        waiting.delete(w);
      });
    });
  });
}
