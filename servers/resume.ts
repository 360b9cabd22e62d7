/**
 * WebSocket resume by cursor. A client that opens its WebSocket with `?cursor=N` asks for every
 * message after N from the hub's history, as an SSE client does with `Last-Event-ID` and a poller
 * with its cursor; such a connection gets every message framed with its hub number, so the client
 * knows the cursor to come back with. A connection opened without `cursor` is unchanged: its
 * frames carry the message alone, byte for byte what every other scenario measures.
 *
 * `?cursor=now` opens a resume connection from the newest message (a client's first).
 *
 * Frames of a resume connection (text):
 *   `<seq> <data>`             a message and its hub number
 *   `gap <from> <to>`          messages the history no longer holds (the HTTP transports' gap)
 *   `reset <cursor> <newest>`  the cursor is ahead of the newest message: the history began again
 *   `- <data>`                 a text echo of the client's own message (echoes are not in the history)
 * Binary echoes stay binary frames.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ServerContext, upgradeClient } from './base.ts';
import { type Hub, type HubMessage, parseCursor, visibleTo } from './hub.ts';

/** A resume connection's message frame. */
export function resumeMessage(m: HubMessage): string {
  return `${m.seq} ${m.data}`;
}

/**
 * The cursor of an upgrade request that asked to resume, or undefined for a plain connection. A
 * cursor that is not a non-negative integer is answered 400 on the raw socket, as a bad `client`
 * is, and gives `null`: the upgrade stops there.
 */
function upgradeCursor(ctx: ServerContext, req: IncomingMessage, socket: Duplex): number | undefined | null {
  const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
  if (raw === null) return undefined;
  // A resume client's first connection has seen nothing yet: numbered frames from the newest on.
  if (raw === 'now') return ctx.hub.lastSeq;
  try {
    return parseCursor(raw)!;
  } catch (e) {
    ctx.countError();
    socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${(e as Error).message}`);
    return null;
  }
}

/**
 * The frames that bring a resuming client up to date (notices first, then the messages after its
 * cursor), and the last hub number they cover: live messages up to it must not go out twice.
 * Bounded by the hub's history, as an SSE resume is.
 */
export function resumeFrames(hub: Hub, cursor: number, client: string | undefined, maxBatchChars: number): { frames: string[]; seen: number } {
  const frames: string[] = [];
  let r = hub.since(cursor, client, Infinity, maxBatchChars);
  if (r.reset) frames.push(`reset ${cursor} ${hub.lastSeq}`);
  for (;;) {
    if (r.gap) frames.push(`gap ${r.gap.from} ${r.gap.to}`);
    for (const m of r.messages) frames.push(resumeMessage(m));
    if (!r.more) break;
    r = hub.since(r.next, client, Infinity, maxBatchChars);
  }
  return { frames, seen: r.next };
}

/** A resume connection's text echo: marked as carrying no hub number. */
export function resumeEcho(data: Buffer): string {
  return `- ${data.toString('utf8')}`;
}

/** Whether a live message goes to a resume connection: after what its replay covered, and visible to it. */
export function resumeWants(m: HubMessage, seen: number, client: string | undefined): boolean {
  return m.seq > seen && visibleTo(m, client);
}

/**
 * Wires the HTTP/1.1 upgrade of a server whose connections may resume. Once `going()`, an upgrade
 * (a client already coming back) is refused, as a closed listener would; a bad `client` or
 * `cursor` is answered 400 on the raw socket; any other upgrade goes to `accept` with both.
 */
export function onResumableUpgrade(
  ctx: ServerContext,
  going: () => boolean,
  accept: (req: IncomingMessage, socket: Duplex, head: Buffer, client: string | undefined, cursor: number | undefined) => void,
): void {
  ctx.httpServer.on('upgrade', (req, socket, head) => {
    if (going()) {
      socket.destroy();
      return;
    }
    const client = upgradeClient(ctx, req, socket);
    if (client === null) return;
    const cursor = upgradeCursor(ctx, req, socket);
    if (cursor === null) return;
    accept(req, socket, head, client, cursor);
  });
}
