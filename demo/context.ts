/** The context the parts of a running demo share: its settings, its page's origin, its inspector. */
import type { TlsMaterial } from '../path/route.ts';
import type { Inspector } from './inspector.ts';

/** The demo's options with their defaults filled in. */
export interface DemoSettings {
  port: number;
  host: string;
  heartbeatIntervalMs: number;
  maxMissedPongs: number;
  longPollTimeoutMs: number;
  appHeartbeatMs: number;
  appHeartbeatMaxLoss: number;
  tokenTtlMs: number;
  inspectMaxBuffered: number;
  deflate: boolean;
  h2: boolean;
}

/** What the parts of a running demo share once the page's server is bound. */
export interface DemoContext {
  readonly settings: DemoSettings;
  /** With `h2`: the certificate and key the page is served with. */
  readonly tls: TlsMaterial | undefined;
  readonly pagePort: number;
  /** The host as it appears in the demo's URLs (an IPv6 address in brackets). */
  readonly urlHost: string;
  readonly pageOrigin: string;
  /** Host names (besides IP literals) a request may name this server by. */
  readonly hostNames: ReadonlySet<string>;
  /** The address the page's server reaches the transports' servers at. */
  readonly upstreamHost: string;
  readonly inspector: Inspector;
}
