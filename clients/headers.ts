/**
 * Header profiles. `browser` (the default of a run) is what Chromium sends
 * from a page, captured from a real request by scripts/capture-headers.ts and
 * kept in chromium-headers.json: user agent, client hints, accept lists,
 * language, referer or origin, sec-fetch-*; no cookie, as the page had none.
 * `minimal` is what a lean script sends. Host and Connection (and a body's
 * length) are the HTTP client's own in both.
 */
import { readFileSync } from 'node:fs';
import type { HeaderProfile } from './contract.ts';

/** The kinds of request a page makes, as captured. */
export type RequestKind = 'fetch' | 'fetchPost' | 'eventSource' | 'webSocket';

/** chromium-headers.json: each kind's header lines in the order Chromium sent them, `{origin}` standing for the server. */
interface CapturedHeaders {
  chromium: string;
  captured: string;
  fetch: [string, string][];
  fetchPost: [string, string][];
  eventSource: [string, string][];
  webSocket: [string, string][];
  /** Each request exactly as it arrived (headless, at the capture's own origin). */
  raw: Record<'fetch' | 'fetchPost' | 'eventSource' | 'webSocket', string>;
}

let captured: CapturedHeaders | undefined;

/** The captured header sets (read once). */
export function chromiumHeaders(): CapturedHeaders {
  captured ??= JSON.parse(readFileSync(new URL('./chromium-headers.json', import.meta.url), 'utf8')) as CapturedHeaders;
  return captured;
}

/** What a lean script sends beyond Host and Connection: only what the protocol needs. */
const MINIMAL: Record<RequestKind, Record<string, string>> = {
  fetch: {},
  fetchPost: {},
  eventSource: { accept: 'text/event-stream', 'cache-control': 'no-cache' },
  webSocket: {},
};

/** Request headers of a profile for one kind of request to the server at `origin` (`http://host:port`). */
export function profileHeaders(p: HeaderProfile | undefined, kind: RequestKind, origin: string): Record<string, string> {
  if (p !== 'browser') return { ...MINIMAL[kind] };
  const out: Record<string, string> = {};
  for (const [k, v] of chromiumHeaders()[kind]) out[k] = v.replaceAll('{origin}', origin);
  return out;
}

/** A results file's header profile in words, for the report; undefined for a value this lab does not know. */
export function profileInWords(p: unknown): string | undefined {
  if (p === 'browser') return "a Chromium page's request headers";
  if (p === 'minimal') return 'minimal request headers (Host, Connection)';
  return undefined;
}
