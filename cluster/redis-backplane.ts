/**
 * The Redis backplane: every node's messages are numbered and kept in one Redis Stream,
 * and every node reads that stream into its own hub.
 *
 * Publishing is one Lua script, so numbering and appending are atomic across nodes: INCR gives
 * the sequence number, XADD appends the message under the id `<seq>-0` (MAXLEN ~ bounds the
 * stream like the hub's own history). The stream id is the cursor, so a polling cursor or an SSE
 * `Last-Event-ID` means the same message on every node. Each node keeps one blocking XREAD on
 * the stream (a connection of its own) and ingests what it reads in order; on start it first
 * loads the stream's tail, so a node that starts (or restarts) late serves the same history as
 * the others. Stream reads rather than pub/sub: a node that falls behind catches up from the
 * stream instead of losing what was published meanwhile.
 */
import { type RedisClient, redisClient } from './redis.ts';
import type { Backplane } from '../servers/contract.ts';
import type { Hub, HubMessage } from '../servers/hub.ts';

/** Where a run's shared history lives in Redis. */
export interface BackplaneConfig {
  url: string;
  /** Key prefix of this run's stream and counter. */
  prefix: string;
  /** Approximate length the stream is trimmed to (default: the hub's history capacity). */
  maxLen?: number;
}

/** INCR the counter, XADD the message under that number; returns the number. */
const PUBLISH_SCRIPT = `local s = redis.call('INCR', KEYS[2])
if ARGV[3] == '' then redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], s .. '-0', 'd', ARGV[2])
else redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], s .. '-0', 'd', ARGV[2], 'o', ARGV[3]) end
return s`;

type Client = RedisClient;
const newClient = redisClient;

/** Messages read from the stream per XREAD. */
const READ_COUNT = 1000;

/** The stream entry's sequence number (`<seq>-0`). */
const seqOf = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** A publisher: appends to the shared stream, without reading it (the bench's publisher). */
export class RedisPublisher {
  private sha = '';
  private constructor(
    private readonly client: Client,
    private readonly cfg: BackplaneConfig,
    private readonly maxLen: number,
  ) {}

  /** Connects and loads the publish script. */
  static async connect(cfg: BackplaneConfig, maxLen: number): Promise<RedisPublisher> {
    const client = newClient(cfg.url);
    await client.connect();
    const p = new RedisPublisher(client, cfg, maxLen);
    p.sha = await client.scriptLoad(PUBLISH_SCRIPT);
    return p;
  }

  /** Appends a message; resolves with its sequence number. */
  async publish(data: string, to?: string): Promise<number> {
    const r = await this.client.evalSha(this.sha, {
      keys: [`${this.cfg.prefix}:stream`, `${this.cfg.prefix}:seq`],
      arguments: [String(this.maxLen), data, to ?? ''],
    });
    return Number(r);
  }

  /** The Redis INFO text of a section (the run reads Redis's CPU from it). */
  info(section: string): Promise<string> {
    return this.client.info(section);
  }

  /** Closes the connection. */
  close(): void {
    this.client.destroy();
  }
}

/** A node's side of the backplane: publishes through the stream and reads it into the node's hub. */
export class RedisBackplane implements Backplane {
  private closed = false;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly publisher: RedisPublisher,
    private readonly reader: Client,
    private readonly hub: Hub,
    private readonly stream: string,
  ) {}

  /** Connects, loads the stream's tail into `hub`, and starts following the stream. */
  static async connect(cfg: BackplaneConfig, hub: Hub): Promise<RedisBackplane> {
    const maxLen = cfg.maxLen ?? hub.capacity;
    const publisher = await RedisPublisher.connect(cfg, maxLen);
    const reader = newClient(cfg.url);
    await reader.connect();
    const stream = `${cfg.prefix}:stream`;
    const b = new RedisBackplane(publisher, reader, hub, stream);
    const tail = (await reader.xRevRange(stream, '+', '-', { COUNT: hub.capacity })) ?? [];
    let last = '0-0';
    for (let i = tail.length - 1; i >= 0; i--) {
      const e = tail[i]!;
      b.ingest(e.id, e.message);
      last = e.id;
    }
    b.reading = b.follow(last);
    return b;
  }

  private ingest(id: string, fields: Record<string, string>): void {
    const to = fields['o'];
    this.hub.ingest({ seq: seqOf(id), data: fields['d'] ?? '', ...(to !== undefined && { to }) });
  }

  private async follow(from: string): Promise<void> {
    let last = from;
    while (!this.closed) {
      let r: Awaited<ReturnType<Client['xRead']>>;
      try {
        r = await this.reader.xRead({ key: this.stream, id: last }, { BLOCK: 0, COUNT: READ_COUNT });
      } catch (e) {
        if (this.closed) return;
        throw e;
      }
      if (!Array.isArray(r)) continue;
      for (const s of r as { messages: { id: string; message: Record<string, string> }[] }[]) {
        for (const e of s.messages) {
          this.ingest(e.id, e.message);
          last = e.id;
        }
      }
    }
  }

  async publish(data: string, to?: string): Promise<HubMessage> {
    const seq = await this.publisher.publish(data, to);
    return { seq, data, ...(to !== undefined && { to }) };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader.destroy();
    this.publisher.close();
    await this.reading.catch(() => {});
  }
}
