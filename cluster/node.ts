/**
 * One server node behind the cluster balancer: a cluster worker running one transport server
 * on the Redis backplane. It listens on the port the primary shares (the primary accepts and
 * hands connections over round-robin) and answers the primary's requests about itself.
 */
import { createServer, type Server } from 'node:net';
import { ProcessSampler } from '../metrics/process.ts';
import type { TransportServer } from '../servers/contract.ts';
import { serverFrom } from '../transports/load.ts';
import { RedisBackplane } from './redis-backplane.ts';
import type { NodeReply, NodeRequest } from './wire.ts';

const sampler = new ProcessSampler();
/** The node's listeners on the further addresses (`listenAlso`), shut with the server on `close`. */
const extras: Server[] = [];
/** How long a node's `close` waits for its further listeners' connections to end, ms. */
const EXTRA_CLOSE_MS = 5000;

/** Accepts on `host:port` too and hands each connection to the server's HTTP server, as its own listener would. */
function listenAlso(server: TransportServer, port: number, host: string): Promise<void> {
  const http = server.httpServer;
  if (!http) throw new Error(`${server.transport} has no HTTP server of the lab's to hand connections to: it cannot be clustered`);
  const extra = createServer((socket) => http.emit('connection', socket));
  extras.push(extra);
  return new Promise((resolve, reject) => {
    extra.once('error', reject);
    extra.listen(port, host, () => resolve());
  });
}
let server: TransportServer | undefined;

const running = (): TransportServer => {
  if (!server) throw new Error('the node got a request before init');
  return server;
};

async function answer(m: NodeRequest): Promise<NodeReply> {
  switch (m.type) {
    case 'init': {
      server = await serverFrom(m.server, m.options);
      server.useBackplane(await RedisBackplane.connect({ url: m.redisUrl, prefix: m.prefix }, server.hub));
      // Port 0 in every worker: the primary hands each of them the one listening socket it made.
      const port = await server.listen(0, m.host);
      // The same server on further addresses: each address pair has its own ephemeral ports.
      for (const host of m.alsoHosts) await listenAlso(server, port, host);
      return { type: 'init', id: m.id, port };
    }
    case 'measure':
      sampler.start();
      return { type: 'measure', id: m.id };
    case 'interval':
      return { type: 'interval', id: m.id, ...sampler.interval() };
    case 'counters': {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        type: 'counters',
        id: m.id,
        counters: running().counters(),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
    }
    case 'totals':
      return { type: 'totals', id: m.id, process: sampler.totals(), counters: running().counters() };
    case 'gc':
      (globalThis as { gc?: () => void }).gc?.();
      return { type: 'gc', id: m.id };
    case 'close': {
      // A deploy's goodbye: WebSocket close 1001, event streams and held polls ended, every listener
      // shut. The further addresses' too: left open, the balancer went on handing this node their
      // connections until it exited, and a connection handed to a node as it exits stays in the
      // primary unserved (a poll hung, a WebSocket handshake waited for its client's timeout).
      const shut = extras.splice(0).map((x) => new Promise<void>((r) => x.close(() => r())));
      await running().close();
      await Promise.race([Promise.all(shut), new Promise((r) => setTimeout(r, EXTRA_CLOSE_MS).unref())]);
      return { type: 'close', id: m.id };
    }
  }
}

process.on('message', (m: NodeRequest) => {
  answer(m).then(
    (r) => process.send!(r),
    (e: Error) => process.send!({ type: 'error', id: m.id, error: e.message } satisfies NodeReply),
  );
});
// The primary going away ends its nodes: nothing else would close their sockets.
process.on('disconnect', () => process.exit(0));
// Messages that reach a worker before its module has run are dropped, so the primary waits for this one.
process.send!({ type: 'ready', id: 0 } satisfies NodeReply);
