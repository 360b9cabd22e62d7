/** Command-line parsing helpers: every mistake becomes a one-line UsageError naming the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** parseArgs in strict mode, its errors turned into UsageErrors. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args, options, strict: true as const, allowPositionals });
  } catch (e) {
    const err = e as Error & { code?: string };
    let msg = err.message.split('\n')[0]!;
    // Node's messages are long; keep the flag name and what was wrong.
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') msg = msg.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(msg);
  }
}

/** A number flag: absent → fallback; not a number or out of range → UsageError. */
export function num(v: string | undefined, flag: string, fallback: number, o: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (v === undefined) return fallback;
  if (!/^-?(\d+\.?\d*|\.\d+)(e\d+)?$/i.test(v.trim())) throw new UsageError(`--${flag} must be a number, got "${v}"`);
  const n = Number(v);
  if (o.integer && !Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got "${v}"`);
  if (o.min !== undefined && n < o.min) throw new UsageError(`--${flag} must be at least ${o.min}, got ${v}`);
  if (o.max !== undefined && n > o.max) throw new UsageError(`--${flag} must be at most ${o.max}, got ${v}`);
  return n;
}

/** A choice flag from a fixed list. */
export function choice<T extends string>(v: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v as T;
}

/** A comma-separated list whose every item is from a fixed list. */
export function list<T extends string>(v: string | undefined, flag: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  if (v === undefined) return [...fallback];
  const items = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${flag} needs at least one value`);
  for (const i of items)
    if (!(allowed as readonly string[]).includes(i)) throw new UsageError(`--${flag}: unknown value "${i}" (known: ${allowed.join(', ')})`);
  return [...new Set(items)] as T[];
}

/** Keeps a server command running until SIGINT or SIGTERM, then closes it and exits 0. */
export function serveUntilSignal(close: () => Promise<void>): Promise<number> {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => {});
}

/** For standalone scripts: reads the flags, or prints the one-line usage error and exits 2. */
export function scriptArgs<T>(prog: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${prog}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** Turns a failure to listen on host:port into the one-line error naming the flag; rethrows others. */
export function bindError(e: unknown, host: string, port: number): never {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') throw new UsageError(`--port ${port}: address ${host}:${port} is already in use`);
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new UsageError(`--host ${host}: cannot bind to that address`);
  if (err.code === 'EACCES') throw new UsageError(`--port ${port}: permission denied`);
  throw e;
}
