/**
 * The kernel's listen-queue counters (`/proc/net/netstat`, TcpExt): `ListenOverflows`, a SYN or
 * final ACK that found a listener's accept queue full, and `ListenDrops`, every connection
 * attempt a listener dropped (overflows included). They count for the whole network namespace:
 * every process on the host that listens adds to them.
 */
import { readFileSync } from 'node:fs';

/** The two counters at one moment. */
export interface ListenCounters {
  overflows: number;
  drops: number;
}

/** Reads the TcpExt counters from the text of /proc/net/netstat; undefined when they are missing. */
export function parseListenCounters(text: string): ListenCounters | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  // The first TcpExt line names the fields, the second holds their values in the same order.
  const names = lines[0]?.split(/\s+/).slice(1);
  const values = lines[1]?.split(/\s+/).slice(1);
  if (!names || !values) return undefined;
  const at = (name: string) => {
    const i = names.indexOf(name);
    return i >= 0 && values[i] !== undefined && /^\d+$/.test(values[i]!) ? Number(values[i]) : undefined;
  };
  const overflows = at('ListenOverflows');
  const drops = at('ListenDrops');
  return overflows === undefined || drops === undefined ? undefined : { overflows, drops };
}

/** The counters now, or undefined where /proc/net/netstat cannot be read (not Linux). */
export function listenCounters(file = '/proc/net/netstat'): ListenCounters | undefined {
  try {
    return parseListenCounters(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
