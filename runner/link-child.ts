/**
 * The link emulator's process: one relay (path/link-relay.ts) between the load processes and
 * the server, pinned to the load's CPUs by the session like a load process, so its work never
 * takes the server's core and is counted apart (`extra.link.cpuMs`).
 */
import { startRelay, type LinkRelay } from '../path/link-relay.ts';
import { serveParent } from './child.ts';
import type { LinkCalls } from './link.ts';

let relay: LinkRelay | undefined;

serveParent<LinkCalls>(
  {
    async init(m) {
      relay = await startRelay(m.params, m.upstreams, m.seed);
      return { port: relay.port, pid: process.pid };
    },
    stats(m) {
      if (!relay) throw new Error('the link relay has not started');
      return { stats: relay.stats(m.resetPeaks === true) };
    },
    drop() {
      if (!relay) throw new Error('the link relay has not started');
      const atNs = Number(process.hrtime.bigint());
      return { connections: relay.drop(), atNs };
    },
  },
  async () => {
    await relay?.close();
  },
);
