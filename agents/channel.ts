/**
 * The agent channel: Redis Streams a run's controller and its agents talk over. An agent
 * listens on `lab:agent:<name>`; the controller announces a load there, then sends requests on
 * `lab:load:<id>:in` and reads replies and events on `lab:load:<id>:out`. Each entry carries one
 * message serialised with v8 (bigints and all, as the run's own IPC), base64 in field `m`.
 */
import { deserialize, serialize } from 'node:v8';
import type { RedisClient } from '../cluster/redis.ts';

/** The stream an agent listens on for new loads. */
export const agentStream = (name: string) => `lab:agent:${name}`;
/** Requests to one remote load process. */
export const inStream = (load: string) => `lab:load:${load}:in`;
/** Replies and events from one remote load process. */
export const outStream = (load: string) => `lab:load:${load}:out`;

/** Appends one message to a stream. */
export async function put(client: RedisClient, stream: string, message: object): Promise<void> {
  await client.xAdd(stream, '*', { m: serialize(message).toString('base64') });
}

/**
 * Calls `fn` for every message appended to `stream` after `from` (`$`: from now), in order,
 * until `stop()` says so; `client` must be a connection of its own (the read blocks it).
 */
export async function follow(
  client: RedisClient,
  stream: string,
  from: string,
  fn: (m: Record<string, unknown>) => void | Promise<void>,
  stop: () => boolean,
): Promise<void> {
  let last = from;
  while (!stop()) {
    let r: unknown;
    try {
      r = await client.xRead({ key: stream, id: last }, { BLOCK: 1000, COUNT: 100 });
    } catch (e) {
      if (stop()) return;
      throw e;
    }
    if (!Array.isArray(r)) continue;
    for (const s of r as { messages: { id: string; message: Record<string, string> }[] }[]) {
      for (const e of s.messages) {
        last = e.id;
        await fn(deserialize(Buffer.from(e.message['m'] ?? '', 'base64')) as Record<string, unknown>);
      }
    }
  }
}
