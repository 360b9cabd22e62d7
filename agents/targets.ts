/**
 * Where a load agent may send traffic (`--allow-target`). A load agent connects thousands of
 * clients wherever its `init` points, so it must not become anyone's traffic generator: it
 * sends only to what its operator listed, host names or CIDR ranges, and nothing by default.
 * A host name listed is resolved when the agent starts and its addresses join the list; a
 * target named by a host name is accepted only when that very name is listed (resolving it
 * afresh at each `init` would let DNS move it elsewhere), a target given as an address when it
 * lies in a listed range or is an address a listed name had at start.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** The targets an agent accepts. */
export interface TargetPolicy {
  /** Why `baseUrl` is refused, or undefined when it is allowed. */
  refuse(baseUrl: string): string | undefined;
  /** The list as given, for the agent's start-up line. */
  readonly described: string;
}

/** Schemes the load clients speak. */
const SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

/** A host name as written in a URL or a flag: lower case, no brackets, no trailing dot. */
const hostOf = (h: string): string =>
  h
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');

/**
 * Reads `--allow-target` items (host names, addresses, CIDR ranges); names are resolved now.
 * Throws, naming the item, for one that is neither, or a name that does not resolve.
 */
export async function targetPolicy(items: readonly string[]): Promise<TargetPolicy> {
  const ranges = new BlockList();
  const names = new Set<string>();
  for (const raw of items) {
    const item = raw.trim();
    if (!item) continue;
    const slash = item.indexOf('/');
    if (slash >= 0) {
      const addr = hostOf(item.slice(0, slash));
      const bits = item.slice(slash + 1);
      const family = isIP(addr);
      if (!family || !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) throw new Error(`"${item}" is not a CIDR range (e.g. 10.0.0.0/24)`);
      ranges.addSubnet(addr, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const host = hostOf(item);
    const family = isIP(host);
    if (family) {
      ranges.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host))
      throw new Error(`"${item}" is neither a host name, an address nor a CIDR range`);
    let found: { address: string; family: number }[];
    try {
      found = await lookup(host, { all: true });
    } catch (e) {
      throw new Error(`"${item}" does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    names.add(host);
    for (const a of found) ranges.addAddress(a.address, a.family === 4 ? 'ipv4' : 'ipv6');
  }
  const described = items.length ? items.join(', ') : 'none';
  return {
    described,
    refuse(baseUrl) {
      let u: URL;
      try {
        u = new URL(baseUrl);
      } catch {
        return `target ${JSON.stringify(baseUrl.slice(0, 200))} is not a URL`;
      }
      if (!SCHEMES.has(u.protocol)) return `target ${u.protocol} is not a scheme the load clients speak`;
      const host = hostOf(u.hostname);
      const family = isIP(host);
      if (family ? ranges.check(host, family === 4 ? 'ipv4' : 'ipv6') : names.has(host)) return undefined;
      const hint = items.length ? `allowed: ${described}` : 'none allowed: start the agent with --allow-target HOST|CIDR,…';
      return `target ${host} is not one this agent may send traffic to (${hint})`;
    },
  };
}
