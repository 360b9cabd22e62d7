/**
 * Server-Sent Events: one `GET /events` held open as `text/event-stream`.
 * Every event carries `id:` (the hub sequence number), so a reconnecting
 * client's `Last-Event-ID` resumes after the last event it saw; `retry:` tells
 * it how soon to reconnect; comment lines keep idle proxies from closing it.
 */
import type { ServerResponse } from 'node:http';
import type { ServerOptions, TransportServer } from './contract.ts';
import { buildServer, clientIdOf, HttpError } from './base.ts';
import { parseCursor, visibleTo, type Gap, type HubMessage } from './hub.ts';

/** One SSE event for a message. Multi-line data becomes one `data:` line per line. */
export function sseEvent(m: HubMessage): string {
  const data = m.data.includes('\n') || m.data.includes('\r') ? m.data.split(/\r\n|\r|\n/).join('\ndata: ') : m.data;
  return `id: ${m.seq}\ndata: ${data}\n\n`;
}

/** The event that announces history the server no longer holds. */
export function sseGap(g: Gap): string {
  return `event: gap\ndata: {"from":${g.from},"to":${g.to}}\n\n`;
}

/**
 * The event that tells a reconnecting client its Last-Event-ID belongs to an earlier history
 * (the server restarted): the events after it start again from the first one kept.
 */
function sseReset(lastId: number, newest: number): string {
  return `event: reset\ndata: {"lastEventId":${lastId},"newest":${newest}}\n\n`;
}

/** Resolves true once `res` can take more, false when it closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

export function createSseServer(options?: ServerOptions): TransportServer {
  return buildServer('sse', options, (ctx) => {
    const streams = new Set<ServerResponse>();
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

    ctx.route('GET', '/events', async (x) => {
      const client = clientIdOf(x.query, false);
      // WHATWG HTML §9.2: a reconnecting EventSource sends the last id it saw as Last-Event-ID.
      const lastId = x.req.headers['last-event-id'];
      let cursor: number | undefined;
      try {
        cursor = lastId !== undefined ? parseCursor(String(lastId).trim()) : parseCursor(x.query['cursor']);
      } catch (e) {
        throw new HttpError(400, `bad Last-Event-ID or cursor: ${(e as Error).message}`);
      }
      const res = x.res;
      x.stream(200, 'text/event-stream', { 'Cache-Control': 'no-cache' });
      x.req.socket.setTimeout(0);
      let out = `retry: ${ctx.options.sseRetryMs}\n\n`;
      // What the client has seen: behind a backplane a node may still be reading up to it, and
      // what arrives up to there must not be sent twice.
      let seen = 0;
      if (cursor !== undefined) {
        // A long resume goes out a batch at a time, each after the last has drained: its size
        // is bounded by the history, and its memory by one batch.
        let r = ctx.hub.since(cursor, client, Infinity, ctx.options.maxBatchBytes);
        if (r.reset) out += sseReset(cursor, ctx.hub.lastSeq);
        for (;;) {
          if (r.gap) out += sseGap(r.gap);
          for (const m of r.messages) out += sseEvent(m);
          if (!r.more) break;
          const ok = res.write(out);
          out = '';
          if (!ok && !(await drained(res))) return;
          r = ctx.hub.since(r.next, client, Infinity, ctx.options.maxBatchBytes);
        }
        seen = r.next;
      }
      if (res.destroyed) return;
      res.write(out);
      streams.add(res);
      ctx.addSubscribers(1);
      const unsubscribe = ctx.hub.subscribe((m) => {
        if (m.seq <= seen || !visibleTo(m, client)) return;
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
