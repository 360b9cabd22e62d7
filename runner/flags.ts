/**
 * Scenario parameters as command-line flags. Each flag has a help line and a
 * default per profile (`quick` for a fast look, `full` for a thorough run);
 * scenarios read them through a FlagReader that has already validated them.
 */
import { UsageError } from '../args.ts';
import type { HeaderProfile } from '../clients/contract.ts';

export type Profile = 'quick' | 'full';
type FlagValue = number | number[] | string | string[];

interface FlagSpec {
  /** One line for --help. */
  help: string;
  /** `number`, a comma list of `numbers`, one of `choices` (`choice`) or a comma list of them (`choice-list`). */
  kind: 'number' | 'numbers' | 'choice' | 'choice-list';
  /** Default under the quick profile. */
  quick: FlagValue;
  /** Default under the full profile (the quick one when absent). */
  full?: FlagValue;
  min?: number;
  max?: number;
  integer?: boolean;
  choices?: readonly string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Validated flag values, each with its profile default filled in. */
export interface FlagReader {
  num(name: string): number;
  nums(name: string): number[];
  str(name: string): string;
  strs(name: string): string[];
}

function parseOne(spec: FlagSpec, name: string, raw: string): number {
  if (!/^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw)) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  const n = Number(raw);
  if (spec.integer && !Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`--${name} must be at least ${spec.min}, got ${raw}`);
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`--${name} must be at most ${spec.max}, got ${raw}`);
  return n;
}

/** Checks every given flag against its spec and returns a reader with defaults for the profile. */
export function readFlags(specs: FlagSpecs, raw: Record<string, unknown>, profile: Profile): FlagReader {
  const values = new Map<string, FlagValue>();
  for (const [name, spec] of Object.entries(specs)) {
    const v = raw[name];
    if (v === undefined) continue;
    const s = String(v);
    if (spec.kind === 'number') values.set(name, parseOne(spec, name, s));
    else if (spec.kind === 'numbers') {
      const items = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (items.length === 0) throw new UsageError(`--${name} needs at least one number`);
      values.set(
        name,
        items.map((x) => parseOne(spec, name, x)),
      );
    } else if (spec.kind === 'choice-list') {
      const items = [...new Set(s.split(',').map((x) => x.trim()))].filter(Boolean);
      const bad = items.find((x) => !spec.choices!.includes(x));
      if (items.length === 0 || bad !== undefined) throw new UsageError(`--${name} takes a comma list of ${spec.choices!.join(', ')}; got "${s}"`);
      values.set(name, items);
    } else {
      if (!spec.choices!.includes(s)) throw new UsageError(`--${name} must be one of ${spec.choices!.join(', ')}; got "${s}"`);
      values.set(name, s);
    }
  }
  const get = (name: string): FlagValue => {
    const spec = specs[name];
    if (!spec) throw new Error(`no flag --${name} is declared`);
    return values.get(name) ?? (profile === 'full' ? (spec.full ?? spec.quick) : spec.quick);
  };
  return {
    num: (n) => get(n) as number,
    nums: (n) => get(n) as number[],
    str: (n) => get(n) as string,
    strs: (n) => get(n) as string[],
  };
}

/** Help lines for a set of flags. */
export function flagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const arg =
        s.kind === 'numbers' ? ' LIST' : s.kind === 'choice' ? ` ${s.choices!.join('|')}` : s.kind === 'choice-list' ? ` ${s.choices!.join(',')}` : ' N';
      const dflt = (v: FlagValue | undefined) => (Array.isArray(v) ? v.join(',') : String(v));
      const d = s.full !== undefined && dflt(s.full) !== dflt(s.quick) ? `quick ${dflt(s.quick)}, full ${dflt(s.full)}` : dflt(s.quick);
      return `  --${(name + arg).padEnd(28)} ${s.help} (default ${d})`;
    })
    .join('\n');
}

/** Flags every load-driving scenario shares. */
export const SHARED_FLAGS: FlagSpecs = {
  clients: { help: 'subscribers / connections', kind: 'number', quick: 50, min: 1, max: 100_000, integer: true },
  rate: { help: 'messages per second (push: published; echo: per client)', kind: 'number', quick: 50, min: 0.01, max: 1_000_000 },
  size: { help: 'payload bytes per message (at least 32: the stamp)', kind: 'number', quick: 64, min: 32, max: 16 * 1024 * 1024, integer: true },
  duration: { help: 'push: seconds measured per trial (quick: 3 trials)', kind: 'number', quick: 0.7, full: 5, min: 0.1, max: 3600 },
  warmup: { help: 'seconds of traffic before measuring starts (excluded from figures)', kind: 'number', quick: 0, full: 1, min: 0, max: 600 },
  'poll-interval': { help: 'short-polling interval, ms', kind: 'number', quick: 1000, min: 1, max: 600_000 },
  'long-poll-timeout': { help: 'how long a long poll is held, ms', kind: 'number', quick: 25_000, min: 1, max: 300_000, integer: true },
  headers: {
    help: 'request headers of the load clients: browser (what a Chromium page sends, clients/chromium-headers.json) or minimal',
    kind: 'choice',
    quick: 'browser',
    choices: ['browser', 'minimal'],
  },
  'load-processes': { help: 'spread the clients over K load processes', kind: 'number', quick: 1, full: 2, min: 1, max: 64, integer: true },
  'fixed-rate': {
    help: 'echo-pipelined, push, throughput: also server CPU µs/msg at this fixed rate, msg/s in total (0 = off; frame rows only)',
    kind: 'number',
    quick: 5000,
    full: 10_000,
    min: 0,
    max: 1_000_000,
  },
  'fixed-connections': { help: 'connections of the fixed-load phase', kind: 'number', quick: 50, min: 1, max: 10_000, integer: true },
  'fixed-duration': { help: 'seconds measured in the fixed-load phase', kind: 'number', quick: 1, full: 10, min: 0.5, max: 600 },
};

/** The HTTP load settings every scenario passes to its clients and servers. */
export function httpLoadFlags(f: FlagReader): { pollIntervalMs: number; longPollTimeoutMs: number; headers: HeaderProfile } {
  return { pollIntervalMs: f.num('poll-interval'), longPollTimeoutMs: f.num('long-poll-timeout'), headers: f.str('headers') as HeaderProfile };
}
