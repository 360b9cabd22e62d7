/**
 * `transport-lab agent --redis URL --name NAME --secret S --allow-target LIST`: a load generator
 * for another host. It waits on its stream in the run's Redis; for each load the controller
 * announces it starts a local load process (runner/load-child.ts, the same program a run forks on
 * its own host), relays the controller's requests to it and its replies and progress events back,
 * and ends it on `exit`.
 *
 * Only the controller may command it: every entry is checked before it is acted on (size, HMAC
 * with the shared secret over content, stream and position, position, JSON, schema —
 * agents/channel.ts, agents/wire.ts); one that fails is refused, logged in one line, and changes
 * nothing, so the load in progress goes on as if it had never been written. What it may load: the
 * load client of a transport its own registry names; no module crosses the wire. Where it may
 * send traffic: only to the targets `--allow-target` lists (agents/targets.ts).
 *
 * Latency is one-way against the publisher's clock: before `init` reaches the load process the
 * agent measures its own offset to Redis's clock and adds the difference to the controller's
 * (agents/clock.ts), so receive times are on the publisher's clock to within the stated error.
 */
import { randomBytes } from 'node:crypto';
import { redisClient } from '../cluster/redis.ts';
import { prepareChildren } from '../runner/bundle.ts';
import { Child } from '../runner/child.ts';
import type { LoadCalls, LoadEvents } from '../runner/protocol.ts';
import { loadClientFor, transportByName, transports } from '../transports/index.ts';
import { agentStream, type ChannelKey, type Entry, follow, inStream, openEntry, outStream, redactUrl, redisNowMs, StreamWriter } from './channel.ts';
import { offsetToRedis } from './clock.ts';
import type { TargetPolicy } from './targets.ts';
import { type Announcement, announcementSchema, requestSchema, type WireRequest } from './wire.ts';

const LOAD_CHILD = import.meta.resolve('../runner/load-child.ts');

/** Requests are small (an `init` with a CA certificate is the largest): anything beyond this is refused unread. */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_ANNOUNCEMENT_BYTES = 4096;
/** An announcement older than this (on Redis's clock) is refused: a replay, or a run long gone. */
const ANNOUNCEMENT_MAX_AGE_MS = 60_000;
/** A load whose controller sends no request it accepts within this is ended. */
const FIRST_REQUEST_WITHIN_MS = 60_000;
/** Loads served at once; more announcements wait for none, they are refused. */
const MAX_LOADS = 64;
/** Refusals logged per stream, one line each; later ones are counted only, so a flood cannot fill a disk. */
const REFUSALS_LOGGED = 20;

/** How an agent runs. */
export interface AgentOptions {
  redisUrl: string;
  name: string;
  /** The shared secret's key; undefined only when started with `--insecure`. */
  key: ChannelKey;
  targets: TargetPolicy;
  log?: (line: string) => void;
}

/** One line per refused entry of a stream, up to REFUSALS_LOGGED, then a count. */
function refusals(log: (line: string) => void, who: string): { refuse(e: Entry, why: string): void; summary(): void } {
  let n = 0;
  return {
    refuse(e, why) {
      n++;
      if (n <= REFUSALS_LOGGED) log(`${who}: refused entry ${e.id}: ${why}`);
      if (n === REFUSALS_LOGGED) log(`${who}: further refusals are counted, not logged`);
    },
    summary() {
      if (n > REFUSALS_LOGGED) log(`${who}: ${n} entries refused in all`);
    },
  };
}

/** What the load process gets for an accepted `init`: the client from this agent's registry, or why not. */
function resolveInit(
  req: Extract<WireRequest, { type: 'init' }>,
  targets: TargetPolicy,
): { ok: true; init: Omit<LoadCalls['init']['req'], 'clockOffsetNs'> } | { ok: false; why: string } {
  const d = transportByName(req.transport);
  if (!d)
    return {
      ok: false,
      why: `this agent knows no transport "${req.transport}" (it knows ${transports()
        .map((t) => t.name)
        .join(', ')})`,
    };
  let client: LoadCalls['init']['req']['client'];
  try {
    client = loadClientFor(d, req.wsClient);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  const refused = targets.refuse(req.baseUrl);
  if (refused) return { ok: false, why: refused };
  const { wsClient: _w, controllerOffsetNs: _c, type: _t, ...rest } = req;
  return { ok: true, init: { ...rest, client } };
}

/** Runs one announced load until the controller says exit (or the channel fails, or no request comes). */
async function serveLoad(o: AgentOptions, a: Announcement, label: string, log: (line: string) => void): Promise<void> {
  const reader = redisClient(o.redisUrl);
  const writer = redisClient(o.redisUrl);
  await Promise.all([reader.connect(), writer.connect()]);
  const requests = inStream(a.load);
  const out = new StreamWriter(writer, outStream(a.load), o.key);
  const send = (m: object) => out.put(m).catch(() => {});
  // Requests must be authenticated with this: a conversation recorded from another load does not verify here.
  const nonce = randomBytes(16).toString('hex');
  // Greeted first: the controller's requests wait in the stream while the load process starts.
  await send({ type: 'hello', nonce });
  await prepareChildren();
  const child = new Child<LoadCalls, LoadEvents>(label, LOAD_CHILD);
  const log1 = refusals(log, `${label} (${requests})`);
  let done = false;
  let expected = 1;
  /** Added to this host's clock to put it on the controller's (set by `init`). */
  let toControllerNs = 0n;
  child.on('progress', (e) => void send(e));
  child.proc.once('exit', () => {
    done = true;
  });
  const idle = setTimeout(() => {
    if (expected > 1) return;
    done = true;
    log(`${label}: no request accepted within ${FIRST_REQUEST_WITHIN_MS / 1000} s; load ended`);
  }, FIRST_REQUEST_WITHIN_MS);
  try {
    await follow(
      reader,
      requests,
      '0-0',
      async (e) => {
        const r = openEntry(e, { stream: requests, key: o.key, context: nonce, schema: requestSchema, maxBytes: MAX_REQUEST_BYTES, expected });
        if (!r.ok) return log1.refuse(e, r.why);
        expected++;
        const req = r.message;
        if (req.type === 'exit') {
          done = true;
          return;
        }
        let forChild: { type: keyof LoadCalls & string } & Record<string, unknown> = req;
        if (req.type === 'init') {
          const init = resolveInit(req, o.targets);
          if (!init.ok) {
            log(`${label}: refused init: ${init.why}`);
            await send({ type: 'fatal', error: `agent ${o.name} refused init: ${init.why}` });
            return;
          }
          // The controller's clock minus Redis's, less ours: what takes our receive times to the publisher's clock.
          const own = await offsetToRedis(writer);
          const controller = req.controllerOffsetNs ?? own.offsetNs;
          toControllerNs = controller - own.offsetNs;
          forChild = { type: 'init', ...init.init, clockOffsetNs: toControllerNs };
          log(
            `${label}: ${req.clients} client(s) of ${req.transport} → ${req.baseUrl}; clock offset ${Number(controller - own.offsetNs) / 1e6} ms ± ${Number(own.errorNs) / 1e6} ms (agent side)`,
          );
        }
        // A moment the controller names on its clock, which the load process reads on this host's.
        if (req.type === 'mark') forChild = { type: 'mark', atNs: req.atNs - toControllerNs };
        // Requests are answered in turn, as the local IPC does; a long one (a send phase) holds the rest.
        try {
          await send(await child.ask(forChild as never, 24 * 3600_000));
        } catch (err) {
          await send({ type: 'fatal', error: (err as Error).message });
        }
      },
      () => done,
    );
  } finally {
    clearTimeout(idle);
    log1.summary();
    await child.kill();
    reader.destroy();
    writer.destroy();
  }
}

/** The agent's main loop: every load announced on its stream, and accepted, is served, several at once. */
export async function runAgent(o: AgentOptions): Promise<never> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const stream = agentStream(o.name);
  const reader = redisClient(o.redisUrl);
  await reader.connect();
  // Loads announced from the moment this line is printed on are served (older ones are a past run's).
  const newest = (await reader.xRevRange(stream, '+', '-', { COUNT: 1 }))?.[0]?.id ?? '0-0';
  log(
    `agent ${o.name}: waiting for loads on ${redactUrl(o.redisUrl)} (${stream}); ${o.key ? 'messages authenticated with the shared secret' : 'messages NOT authenticated (--insecure): anyone who can write to this Redis commands this agent'}; targets allowed: ${o.targets.described}`,
  );
  const announcements = refusals(log, `agent ${o.name} (${stream})`);
  /** Loads accepted lately, by id, with their time: an announcement seen again is a replay. */
  const seen = new Map<string, number>();
  let active = 0;
  await follow(
    reader,
    stream,
    newest,
    async (e) => {
      const r = openEntry(e, { stream, key: o.key, context: '', schema: announcementSchema, maxBytes: MAX_ANNOUNCEMENT_BYTES });
      if (!r.ok) return announcements.refuse(e, r.why);
      const a = r.message;
      const now = await redisNowMs(reader);
      if (Math.abs(now - a.at) > ANNOUNCEMENT_MAX_AGE_MS)
        return announcements.refuse(e, `stale announcement (dated ${((now - a.at) / 1000).toFixed(0)} s ago)`);
      if (seen.has(a.load)) return announcements.refuse(e, `replayed announcement (load ${a.load} was already served)`);
      if (active >= MAX_LOADS) return announcements.refuse(e, `${MAX_LOADS} loads are running already`);
      for (const [id, at] of seen) if (now - at > 2 * ANNOUNCEMENT_MAX_AGE_MS) seen.delete(id);
      seen.set(a.load, a.at);
      const label = `${o.name}/${a.label || a.load}`;
      active++;
      serveLoad(o, a, label, log)
        .catch((err: Error) => log(`${label}: ${err.message}`))
        .finally(() => active--);
    },
    () => false,
  );
  throw new Error('the agent channel ended');
}
