/**
 * `transport-lab agent --redis URL --name NAME`: a load generator for another host. It waits on
 * its stream in the run's Redis; for each load the controller announces it starts a local load
 * process (runner/load-child.ts, the same program a run forks on its own host), relays the
 * controller's requests to it and its replies and progress events back, and ends it on `exit`.
 * Latency is one-way against the publisher's clock: before `init` reaches the load process the
 * agent measures its own offset to Redis's clock and adds the difference to the controller's
 * (agents/clock.ts), so receive times are on the publisher's clock to within the stated error.
 */
import { type RedisClient, redisClient } from '../cluster/redis.ts';
import { prepareChildren } from '../runner/bundle.ts';
import { Child } from '../runner/child.ts';
import type { LoadCalls, LoadEvents } from '../runner/protocol.ts';
import { agentStream, follow, inStream, outStream, put } from './channel.ts';
import { offsetToRedis } from './clock.ts';

const LOAD_CHILD = import.meta.resolve('../runner/load-child.ts');

/** Runs one announced load until the controller says exit (or the channel fails). */
async function serveLoad(redisUrl: string, load: string, label: string, log: (line: string) => void): Promise<void> {
  const reader = redisClient(redisUrl);
  const writer = redisClient(redisUrl);
  await Promise.all([reader.connect(), writer.connect(), prepareChildren()]);
  const child = new Child<LoadCalls, LoadEvents>(label, LOAD_CHILD);
  let done = false;
  const out = (m: object) => put(writer, outStream(load), m).catch(() => {});
  child.handle('progress', (e) => void out(e));
  child.proc.once('exit', () => {
    done = true;
  });
  try {
    await follow(
      reader,
      inStream(load),
      '0-0',
      async (m) => {
        if (m['type'] === 'exit') {
          done = true;
          return;
        }
        let req = m as { type: keyof LoadCalls & string } & Record<string, unknown>;
        if (req.type === 'init') {
          // The controller's clock minus Redis's, less ours: what takes our receive times to the publisher's clock.
          const own = await offsetToRedis(writer);
          const controller = (req['controllerOffsetNs'] as bigint | undefined) ?? own.offsetNs;
          req = { ...req, clockOffsetNs: controller - own.offsetNs };
          log(
            `${label}: ${String(req['clients'])} client(s) of ${String(req['transport'])} → ${String(req['baseUrl'])}; clock offset ${Number(controller - own.offsetNs) / 1e6} ms ± ${Number(own.errorNs) / 1e6} ms (agent side)`,
          );
        }
        // Requests are answered in turn, as the local IPC does; a long one (a send phase) holds the rest.
        try {
          const reply = await child.ask(req as never, 24 * 3600_000);
          await out(reply);
        } catch (e) {
          await out({ type: 'fatal', error: (e as Error).message });
        }
      },
      () => done,
    );
  } finally {
    await child.kill();
    reader.destroy();
    writer.destroy();
  }
}

/** The agent's main loop: every load announced on its stream is served, several at once. */
export async function runAgent(redisUrl: string, name: string, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<never> {
  const reader: RedisClient = redisClient(redisUrl);
  await reader.connect();
  // Loads announced from the moment this line is printed on are served (older ones are a past run's).
  const newest = (await reader.xRevRange(agentStream(name), '+', '-', { COUNT: 1 }))?.[0]?.id ?? '0-0';
  log(`agent ${name}: waiting for loads on ${redisUrl} (${agentStream(name)})`);
  await follow(
    reader,
    agentStream(name),
    newest,
    (m) => {
      const load = String(m['load']);
      const label = `${name}/${String(m['label'] ?? load)}`;
      serveLoad(redisUrl, load, label, log).catch((e: Error) => log(`${label}: ${e.message}`));
    },
    () => false,
  );
  throw new Error('the agent channel ended');
}
