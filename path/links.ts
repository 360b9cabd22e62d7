/**
 * Network links a run can put between the load and the servers (`--link`): the named profiles,
 * each with the published figures it follows, and custom links written as
 * `rtt=100ms,down=10mbit,up=2mbit,jitter=5ms,loss=1%`. A link is data; the emulator that applies
 * it is runner/link-child.ts, its model path/link-model.ts.
 */
import { type LinkParams, MIN_RTO_MS, QUEUE_BYTES, QUEUE_MS } from './link-model.ts';

export type { LinkParams } from './link-model.ts';

/** A link as a row names it, with what it follows. */
export interface LinkProfile {
  /** The row suffix: `websocket@<name>`. */
  name: string;
  params: LinkParams;
  /** Where the figures come from, in words. */
  source: string;
}

/** A link that emulates nothing: the rows keep their plain names and no relay is started. */
export const LOOPBACK = 'loopback';

const WPT = 'WebPageTest connectivity preset';
const mbit = (x: number) => Math.round(x * 1_000_000);
const kbit = (x: number) => Math.round(x * 1000);

/** The named links, in help order. WebPageTest's figures are in decimal units (1 Mbit/s = 10⁶ bit/s), and so are these. */
export const LINK_PROFILES: readonly LinkProfile[] = [
  { name: LOOPBACK, params: { rttMs: 0, downBps: 0, upBps: 0, jitterMs: 0, loss: 0 }, source: 'this machine’s loopback, no emulation (round trip ≈ 50 µs)' },
  {
    name: 'lan',
    params: { rttMs: 1, downBps: mbit(100), upBps: mbit(100), jitterMs: 0, loss: 0 },
    source: 'a switched 100 Mbit/s Ethernet LAN, 1 ms round trip (no published preset)',
  },
  { name: 'cable', params: { rttMs: 28, downBps: mbit(5), upBps: mbit(1), jitterMs: 0, loss: 0 }, source: `${WPT} "Cable": 5/1 Mbit/s, 28 ms` },
  { name: 'dsl', params: { rttMs: 50, downBps: mbit(1.5), upBps: kbit(384), jitterMs: 0, loss: 0 }, source: `${WPT} "DSL": 1.5 Mbit/s / 384 kbit/s, 50 ms` },
  { name: 'lte', params: { rttMs: 70, downBps: mbit(12), upBps: mbit(12), jitterMs: 0, loss: 0 }, source: `${WPT} "LTE": 12/12 Mbit/s, 70 ms` },
  { name: '4g', params: { rttMs: 170, downBps: mbit(9), upBps: mbit(9), jitterMs: 0, loss: 0 }, source: `${WPT} "4G": 9/9 Mbit/s, 170 ms` },
  {
    name: 'lighthouse',
    params: { rttMs: 150, downBps: mbit(1.6), upBps: kbit(750), jitterMs: 0, loss: 0 },
    source: 'Lighthouse mobile throttling ("slow 4G"): 150 ms, 1.6 Mbit/s down, 750 kbit/s up',
  },
  { name: '3g', params: { rttMs: 300, downBps: mbit(1.6), upBps: kbit(768), jitterMs: 0, loss: 0 }, source: `${WPT} "3G": 1.6 Mbit/s / 768 kbit/s, 300 ms` },
  { name: '3g-slow', params: { rttMs: 400, downBps: kbit(400), upBps: kbit(400), jitterMs: 0, loss: 0 }, source: `${WPT} "3GSlow": 400/400 kbit/s, 400 ms` },
  {
    name: 'satellite',
    params: { rttMs: 600, downBps: mbit(10), upBps: mbit(2), jitterMs: 0, loss: 0 },
    source: 'geostationary satellite: ≈ 480 ms of propagation (4 × 35,786 km at c) plus the ground segments ≈ 600 ms; 10/2 Mbit/s, a typical consumer plan',
  },
];

/** A mistake in a link's text; the caller names the flag. */
export class LinkSyntaxError extends Error {}

const KEYS = ['rtt', 'down', 'up', 'jitter', 'loss'] as const;
type Key = (typeof KEYS)[number];

/** Milliseconds from `100ms`, `0.1s` or a bare number of ms. */
function duration(key: Key, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  if (!m) throw new LinkSyntaxError(`${key}=${v}: expected a duration such as 100ms or 0.1s`);
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (n > 60_000) throw new LinkSyntaxError(`${key}=${v}: at most 60s`);
  return n;
}

/** Bits per second from `10mbit`, `768kbit`, `1gbit` or `500bit` (decimal units, as tc and WebPageTest use). */
function rate(key: Key, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(gbit|mbit|kbit|bit)$/.exec(v);
  if (!m) throw new LinkSyntaxError(`${key}=${v}: expected a rate such as 10mbit, 768kbit or 1gbit`);
  const n = Number(m[1]) * { gbit: 1e9, mbit: 1e6, kbit: 1e3, bit: 1 }[m[2] as 'gbit' | 'mbit' | 'kbit' | 'bit'];
  if (n < 8000 && n !== 0) throw new LinkSyntaxError(`${key}=${v}: at least 8kbit (or 0 for unlimited)`);
  return Math.round(n);
}

/** A probability from `1%` or `0.01`. */
function probability(key: Key, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(v);
  if (!m) throw new LinkSyntaxError(`${key}=${v}: expected a share such as 1% or 0.01`);
  const p = Number(m[1]) / (m[2] ? 100 : 1);
  if (p >= 0.5) throw new LinkSyntaxError(`${key}=${v}: must be under 50%`);
  return p;
}

/** A custom link's parameters from `rtt=100ms,down=10mbit,…`; absent keys are 0 (no delay, unlimited, no loss). */
export function parseLinkParams(text: string): LinkParams {
  const p: LinkParams = { rttMs: 0, downBps: 0, upBps: 0, jitterMs: 0, loss: 0 };
  const seen = new Set<string>();
  for (const part of text.split(',').map((s) => s.trim())) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq) as Key;
    const v = part.slice(eq + 1).toLowerCase();
    if (eq < 0 || !KEYS.includes(key)) throw new LinkSyntaxError(`"${part}": expected one of ${KEYS.map((k) => `${k}=`).join(', ')}`);
    if (seen.has(key)) throw new LinkSyntaxError(`${key} is given twice`);
    seen.add(key);
    if (key === 'rtt') p.rttMs = duration(key, v);
    else if (key === 'jitter') p.jitterMs = duration(key, v);
    else if (key === 'down') p.downBps = rate(key, v);
    else if (key === 'up') p.upBps = rate(key, v);
    else p.loss = probability(key, v);
  }
  return p;
}

/** How a number is written in a custom link's row name: no trailing zeros, `.` as `p` (the name stays a word). */
const word = (n: number) => String(Number(n.toFixed(6))).replace('.', 'p');

/**
 * The row suffix of a custom link: its parameters in a fixed order with the units implied
 * (`rtt100-down10m-up2m-jitter5-loss1`: ms, Mbit/s, per cent), so that another process reading
 * a results file rebuilds the same link from the name alone.
 */
export function customLinkName(p: LinkParams): string {
  const parts = [`rtt${word(p.rttMs)}`];
  if (p.downBps) parts.push(`down${word(p.downBps / 1e6)}m`);
  if (p.upBps) parts.push(`up${word(p.upBps / 1e6)}m`);
  if (p.jitterMs) parts.push(`jitter${word(p.jitterMs)}`);
  if (p.loss) parts.push(`loss${word(p.loss * 100)}`);
  return parts.join('-');
}

const CUSTOM_NAME = /^rtt([\dp]+)(?:-down([\dp]+)m)?(?:-up([\dp]+)m)?(?:-jitter([\dp]+))?(?:-loss([\dp]+))?$/;

/** The link a row suffix names: a profile, or a custom link's name as `customLinkName` writes it; undefined otherwise. */
export function linkNamed(name: string): LinkProfile | undefined {
  const profile = LINK_PROFILES.find((l) => l.name === name);
  if (profile) return profile;
  const m = CUSTOM_NAME.exec(name);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace('p', '.')));
  const params: LinkParams = { rttMs: n(m[1]), downBps: Math.round(n(m[2]) * 1e6), upBps: Math.round(n(m[3]) * 1e6), jitterMs: n(m[4]), loss: n(m[5]) / 100 };
  return { name, params, source: 'custom (--link)' };
}

/**
 * The links of `--link`: names of profiles, and custom links (`rtt=…,down=…`). Custom links
 * contain commas themselves, so a list item that starts with a key begins one that runs up to
 * the next profile name. Throws LinkSyntaxError (the caller names the flag).
 */
export function parseLinks(text: string): LinkProfile[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new LinkSyntaxError('needs at least one link');
  const out: LinkProfile[] = [];
  let custom: string[] = [];
  const flush = () => {
    if (!custom.length) return;
    const params = parseLinkParams(custom.join(','));
    out.push({ name: customLinkName(params), params, source: `custom: ${custom.join(',')}` });
    custom = [];
  };
  for (const item of items) {
    if (item.includes('=')) {
      // A key the current custom link already has begins the next one (`rtt=50ms,rtt=100ms`: two links).
      const key = item.slice(0, item.indexOf('='));
      if (custom.some((c) => c.startsWith(`${key}=`))) flush();
      custom.push(item);
      continue;
    }
    flush();
    const p = LINK_PROFILES.find((l) => l.name === item);
    if (!p) throw new LinkSyntaxError(`unknown link "${item}" (known: ${LINK_PROFILES.map((l) => l.name).join(', ')}, or rtt=…,down=…,up=…,jitter=…,loss=…)`);
    out.push(p);
  }
  flush();
  const seen = new Set<string>();
  return out.filter((l) => !seen.has(l.name) && seen.add(l.name));
}

/** The link's parameters in words, for the report's environment: "300 ms RTT, 1.6 Mbit/s down, 768 kbit/s up". */
export function describeLink(p: LinkParams): string {
  const bw = (b: number) => (b === 0 ? 'unlimited' : b >= 1e6 ? `${Number((b / 1e6).toFixed(3))} Mbit/s` : `${Number((b / 1e3).toFixed(3))} kbit/s`);
  const parts = [`${p.rttMs} ms RTT`, `${bw(p.downBps)} down`, `${bw(p.upBps)} up`];
  if (p.jitterMs) parts.push(`jitter 0–${p.jitterMs} ms`);
  if (p.loss) parts.push(`${Number((p.loss * 100).toFixed(4))} % loss per segment`);
  return parts.join(', ');
}

/**
 * A link for the report's environment: its parameters, its source and the model the relay
 * applies (per connection and direction; README "Links" says where it differs from a kernel's).
 */
export function linkInWords(l: LinkProfile): string {
  return `${describeLink(l.params)} (${l.source}); emulated per connection and direction by the lab's relay: RTT/2 each way, serialised at the rate behind a queue of ${QUEUE_BYTES / 1024} KiB or ${QUEUE_MS} ms of the rate, whichever is more, in-order jitter, a lost segment and all behind it late by one RTO (RTT + ${MIN_RTO_MS} ms), first bytes one RTT late for the handshake`;
}
