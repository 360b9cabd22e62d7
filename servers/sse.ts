/**
 * Server-Sent Events: one `GET /events` held open as `text/event-stream`.
 * Every event carries `id:` (the hub sequence number), so a reconnecting
 * client's `Last-Event-ID` resumes after the last event it saw; `retry:` tells
 * it how soon to reconnect; comment lines keep idle proxies from closing it.
 */
import type { Request, Response } from 'express';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, HttpError } from './base.ts';
import { CursorError, parseCursor, visibleTo, type Gap, type HubMessage } from './hub.ts';

/** One SSE event for a message. Multi-line data becomes one `data:` line per line. */
export function sseEvent(m: HubMessage): string {
  const data = m.data.includes('\n') || m.data.includes('\r') ? m.data.split(/\r\n|\r|\n/).join('\ndata: ') : m.data;
  return `id: ${m.seq}\ndata: ${data}\n\n`;
}

/** The event that announces history the server no longer holds. */
export function sseGap(g: Gap): string {
  return `event: gap\ndata: {"from":${g.from},"to":${g.to}}\n\n`;
}

export function createSseServer(options?: ServerOptions): TransportServer {
  return buildServer('sse', options, (ctx) => {
    const streams = new Set<Response>();
    // A broadcast is formatted once and the same text written to every stream.
    let formatted: HubMessage | undefined;
    let event = '';
    const eventOf = (m: HubMessage): string => {
      if (m !== formatted) {
        formatted = m;
        event = sseEvent(m);
      }
      return event;
    };
    ctx.onClose(() => {
      for (const s of streams) s.end();
      streams.clear();
    });

    ctx.app.get('/events', (req: Request, res: Response) => {
      const client = clientIdOf(req.query, false);
      // WHATWG HTML §9.2: a reconnecting EventSource sends the last id it saw as Last-Event-ID.
      const lastId = req.headers['last-event-id'];
      let cursor: number | undefined;
      try {
        cursor = lastId !== undefined ? parseCursor(String(lastId).trim()) : parseCursor(req.query['cursor']);
      } catch (e) {
        throw new HttpError(400, `bad Last-Event-ID or cursor: ${(e as Error).message}`);
      }
      let first = `retry: ${ctx.options.sseRetryMs}\n\n`;
      if (cursor !== undefined) {
        try {
          const r = ctx.hub.since(cursor, client);
          if (r.gap) first += sseGap(r.gap);
          for (const m of r.messages) first += sseEvent(m);
        } catch (e) {
          if (e instanceof CursorError) throw new HttpError(400, e.message);
          throw e;
        }
      }
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      req.socket.setTimeout(0);
      res.write(first);
      streams.add(res);
      ctx.addSubscribers(1);
      const unsubscribe = ctx.hub.subscribe((m) => {
        if (!visibleTo(m, client)) return;
        res.write(eventOf(m));
        // A stream nobody reads would keep every event in memory: past the cap, drop it. The
        // client's reconnect with Last-Event-ID then resumes from the history, or learns of a gap.
        if (res.writableLength > ctx.options.maxBufferedBytes) {
          ctx.countError();
          res.destroy();
        }
      });
      const heartbeat = setInterval(() => res.write(':\n\n'), ctx.options.sseHeartbeatMs);
      heartbeat.unref();
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(res);
        ctx.addSubscribers(-1);
      });
    });
  });
}
