/**
 * Scenario-specific shapes carried in `TransportResult.extra` and
 * `ScenarioResult.params`. Scenarios import these to write them; the reports
 * read them back through the guarded readers below, because a results file is
 * untrusted input: anything missing or malformed is skipped, never fatal.
 */

import type { TransportName } from '../metrics/results.ts';

/** One step of a fan-out ramp: N subscribers receiving every published message. */
export interface FanOutStep {
  /** Subscribers at this step. */
  n: number;
  /** Median delivery latency at this step, ms. */
  p50: number;
  /** 99th percentile delivery latency at this step, ms. */
  p99: number;
  /** Deliveries received at this step. */
  delivered: number;
  /** Deliveries owed but never received at this step. */
  lost: number;
}

/** `extra` of a fan-out row. */
export interface FanOutExtra {
  steps: FanOutStep[];
}

/** `params.capacity` of a fan-out scenario: the largest N that stayed under a p99 limit. */
export interface FanOutCapacity {
  /** The p99 limit, ms. */
  limitMs: number;
  /** Largest N per transport whose p99 stayed under the limit. */
  largestN: Partial<Record<TransportName, number>>;
  /** Whether N was doubled past the configured steps (`--capacity on`); otherwise only the steps were tried. */
  searched?: boolean;
}

/** One point of the overhead sweep for one transport. */
export interface OverheadSweepPoint {
  /** Messages per second sent to each client. */
  ratePerClient: number;
  /** Payload size, bytes. */
  sizeBytes: number;
  /** All wire bytes per delivered message. */
  bytesPerMessage: number;
  /** Wire bytes per delivered message that are not payload. */
  overheadBytesPerMessage: number;
  /** Bytes per delivered message in steady state, set-up not included. */
  steadyBytesPerMessage?: number;
  /** Set-up bytes per client (first request, handshake), amortised into bytesPerMessage. */
  setupBytesPerClient?: number;
}

/** `extra` of an overhead row. */
export interface OverheadExtra {
  sweep: OverheadSweepPoint[];
}

/** `params.crossovers[i]` of an overhead scenario: where `a` stops costing fewer bytes than `b`. */
export interface OverheadCrossover {
  a: string;
  b: string;
  /** Payload size of the crossing lines, bytes. */
  sizeBytes: number;
  /** Rate per client at which they cross, msg/s. */
  ratePerClient: number;
  /** Which of the two costs fewer bytes per message below that rate. */
  cheaperBelow?: string;
}

/** `params.extrapolated[i]`: header bytes per second at a client count the lab did not run. */
export interface OverheadExtrapolation {
  clients: number;
  transport: string;
  headerBytesPerSec: number;
  /** Always true: computed, not measured. */
  extrapolated?: boolean;
  /** The measured point it was scaled from: rate per client (msg/s) and payload size (bytes). */
  fromRate?: number;
  fromSize?: number;
}

/** One step of the connections ramp: idle connections held and what they cost. */
export interface ConnectionsStep {
  /** Open connections at this step. */
  connections: number;
  /** Server resident set size, bytes. */
  rssBytes: number;
  /** Server V8 heap used, bytes. */
  heapBytes: number;
  /** (rss − rss with no connections) / connections, bytes. */
  rssPerConnBytes: number;
  /** Server CPU while holding them idle, percent of one core. */
  cpuPct: number;
}

/** Optional detail of a connections step, when the scenario recorded it. */
export interface ConnectionsStepDetail extends ConnectionsStep {
  /** RSS added per connection since the previous step, bytes. */
  marginalRssPerConnBytes?: number;
  /** RSS per TCP socket the server held, bytes. */
  rssPerSocketBytes?: number;
  /** V8 heap per connection above the empty server, bytes. */
  heapPerConnBytes?: number;
  /** TCP connections the server held. */
  socketsOpen?: number;
  /** Subscribers the server counted. */
  subscribers?: number;
  /** Server CPU over the hold, ms. */
  cpuMs?: number;
  /** HTTP requests answered per second while idle (polls). */
  requestsPerSec?: number;
  /** Time to open the step's new connections, ms. */
  connectMs?: number;
  /** Load processes holding the subscribers. */
  loadProcesses?: number;
  /** Highest load-process CPU over the hold, percent of one core. */
  clientCpuPct?: number;
}

/** A connections step that was not run, and why. */
export interface ConnectionsSkippedStep {
  connections: number;
  reason: string;
}

/** `extra` of a connections row. */
export interface ConnectionsExtra {
  steps: ConnectionsStep[];
  skipped?: ConnectionsSkippedStep[];
  baseline?: { rssBytes: number; heapBytes: number };
  openFilesLimit?: { soft: number; hard: number } | null;
}

/** `extra` of an echo row; latency is the round trip, in `latencyMs`. */
export interface EchoExtra {
  mode?: 'ping-pong' | 'open-loop' | 'pipelined';
  /** Messages each connection keeps in flight (pipelined). */
  inFlight?: number;
}

/** One rung of a throughput ramp: the rate asked for and what arrived. */
export interface ThroughputRampStep {
  /** Messages per second asked for. */
  rate: number;
  /** Messages per second that arrived. */
  deliveredPerSec: number;
  /** p99 delivery latency at this rung, ms (null upward: nothing comes back). */
  p99Ms: number | null;
  /** Whether the rung held. */
  sustained: boolean;
  /** Why it did not. */
  why?: string;
}

/** `extra` of a throughput row. */
export interface ThroughputExtra {
  /** Which way the messages flowed. */
  direction?: 'down' | 'up' | 'both';
  /** Payload delivered per second, MB (10^6 bytes). */
  payloadMBps?: number;
  /** The ramp, in the order it ran. */
  steps?: ThroughputRampStep[];
  /** Highest rate that held, msg/s (0 when none did). */
  sustainedRate?: number;
  /** Set when not even the first rate held. */
  note?: string;
}

/** `extra` of a dead-peer row. */
export interface DeadPeerExtra {
  /** Whether the server freed the peer within the cap (absent in old files: detected when detectMs is there). */
  detected?: boolean;
  /** Time from the peer going silent to the server dropping it, ms; only when detected. */
  detectMs?: number;
  /** How long the scenario waited, ms. */
  capMs?: number;
  heartbeat: { intervalMs: number; maxMissed: number };
  /** `ping-pong`, `one-way comment` or `none`. */
  heartbeatKind?: string;
  /** When the server should notice by its own settings, ms; null when nothing would. */
  expectedMs?: number | null;
  /** Why it noticed, or why not. */
  mechanism?: string;
}

/** `extra` of an http-saturation row (autocannon against the transport's HTTP endpoint). */
export interface HttpSaturationExtra {
  requestsPerSec: number;
  /** Autocannon's latency figures, ms; any subset. */
  latencyMs: Partial<Record<'p50' | 'p90' | 'p99' | 'p999' | 'mean' | 'max', number>>;
}

/** One autocannon run of an http-saturation row, as the report reads it. */
export interface HttpSaturationVariantView {
  /** `empty` (204, nothing new) or `message` (200 with one message). */
  name: string;
  expectedStatus?: number;
  requestsPerSec: number;
  latencyMs: HttpSaturationExtra['latencyMs'];
  /** Which side ran at ≥ 90 % of a core. */
  bound?: string;
  serverCpuPct?: number;
  clientCpuPct?: number;
  bytesUpPerRequest?: number;
  bytesDownPerRequest?: number;
  errors?: number;
  non2xx?: number;
  maxClientsAtPollInterval?: number;
}

/** Repeat min–max of a figure, keyed by figure key (see FIGURES in figures.ts), in `extra.spread`. */
export type RepeatSpread = Record<string, { min: number; max: number }>;

// ---------------------------------------------------------------------------
// Guarded readers: return a well-formed value or undefined.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function hasNums(o: Record<string, unknown>, keys: readonly string[]): boolean {
  return keys.every((k) => isNum(o[k]));
}

/** Elements of `v` that are objects with every key numeric, or undefined when none are. */
function numericRecords<T>(v: unknown, keys: readonly string[]): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((e): e is Record<string, unknown> => isObject(e) && hasNums(e, keys));
  return out.length > 0 ? (out as T[]) : undefined;
}

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return isNum(v) ? v : undefined;
}

/** Fan-out steps sorted by N. */
export function readFanOutSteps(extra: unknown): FanOutStep[] | undefined {
  if (!isObject(extra)) return undefined;
  const steps = numericRecords<FanOutStep>(extra.steps, ['n', 'p50', 'p99', 'delivered', 'lost']);
  return steps?.slice().sort((a, b) => a.n - b.n);
}

/** Fan-out capacity from scenario params. */
export function readFanOutCapacity(params: unknown): FanOutCapacity | undefined {
  if (!isObject(params) || !isObject(params.capacity)) return undefined;
  const { limitMs, largestN, searched } = params.capacity;
  if (!isNum(limitMs) || !isObject(largestN)) return undefined;
  const out: Partial<Record<TransportName, number>> = {};
  for (const [k, v] of Object.entries(largestN)) if (isNum(v)) out[k as TransportName] = v;
  return { limitMs, largestN: out, ...(typeof searched === 'boolean' ? { searched } : {}) };
}

/** Overhead sweep points. */
export function readOverheadSweep(extra: unknown): OverheadSweepPoint[] | undefined {
  if (!isObject(extra)) return undefined;
  return numericRecords<OverheadSweepPoint>(extra.sweep, ['ratePerClient', 'sizeBytes', 'bytesPerMessage', 'overheadBytesPerMessage']);
}

/** Overhead crossovers from scenario params. */
export function readCrossovers(params: unknown): OverheadCrossover[] | undefined {
  if (!isObject(params) || !Array.isArray(params.crossovers)) return undefined;
  const out = params.crossovers
    .filter((c): c is Record<string, unknown> & OverheadCrossover => isObject(c) && typeof c.a === 'string' && typeof c.b === 'string' && hasNums(c, ['sizeBytes', 'ratePerClient']))
    .map((c): OverheadCrossover => ({
      a: c.a,
      b: c.b,
      sizeBytes: c.sizeBytes,
      ratePerClient: c.ratePerClient,
      ...(typeof c.cheaperBelow === 'string' && (c.cheaperBelow === c.a || c.cheaperBelow === c.b) ? { cheaperBelow: c.cheaperBelow } : {}),
    }));
  return out.length > 0 ? out : undefined;
}

/** Extrapolated header costs from scenario params. */
export function readExtrapolated(params: unknown): OverheadExtrapolation[] | undefined {
  if (!isObject(params) || !Array.isArray(params.extrapolated)) return undefined;
  const out = params.extrapolated
    .filter((c): c is Record<string, unknown> & OverheadExtrapolation => isObject(c) && typeof c.transport === 'string' && hasNums(c, ['clients', 'headerBytesPerSec']))
    .map((c): OverheadExtrapolation => ({
      clients: c.clients,
      transport: c.transport,
      headerBytesPerSec: c.headerBytesPerSec,
      ...(c.extrapolated === true ? { extrapolated: true } : {}),
      ...(isNum(c.fromRate) ? { fromRate: c.fromRate } : {}),
      ...(isNum(c.fromSize) ? { fromSize: c.fromSize } : {}),
    }));
  return out.length > 0 ? out : undefined;
}

const CONNECTIONS_DETAIL_KEYS = [
  'marginalRssPerConnBytes',
  'rssPerSocketBytes',
  'heapPerConnBytes',
  'socketsOpen',
  'subscribers',
  'cpuMs',
  'requestsPerSec',
  'connectMs',
  'loadProcesses',
  'clientCpuPct',
] as const;

/** Connections steps sorted by count, with whatever detail each carries (non-numbers dropped). */
export function readConnectionsSteps(extra: unknown): ConnectionsStepDetail[] | undefined {
  if (!isObject(extra)) return undefined;
  const steps = numericRecords<Record<string, unknown> & ConnectionsStep>(extra.steps, ['connections', 'rssBytes', 'heapBytes', 'rssPerConnBytes', 'cpuPct']);
  return steps
    ?.map((st) => {
      const out: ConnectionsStepDetail = { connections: st.connections, rssBytes: st.rssBytes, heapBytes: st.heapBytes, rssPerConnBytes: st.rssPerConnBytes, cpuPct: st.cpuPct };
      for (const k of CONNECTIONS_DETAIL_KEYS) if (isNum(st[k])) out[k] = st[k];
      return out;
    })
    .sort((a, b) => a.connections - b.connections);
}

/** Connections steps that were not run, with the reason. */
export function readConnectionsSkipped(extra: unknown): ConnectionsSkippedStep[] | undefined {
  if (!isObject(extra) || !Array.isArray(extra.skipped)) return undefined;
  const out = extra.skipped
    .filter((x): x is Record<string, unknown> & ConnectionsSkippedStep => isObject(x) && isNum(x.connections) && typeof x.reason === 'string')
    .map((x) => ({ connections: x.connections, reason: x.reason }));
  return out.length > 0 ? out : undefined;
}

/** The empty server's RSS and heap, the base every per-connection figure is measured from. */
export function readConnectionsBaseline(extra: unknown): { rssBytes: number; heapBytes: number } | undefined {
  if (!isObject(extra) || !isObject(extra.baseline) || !hasNums(extra.baseline, ['rssBytes', 'heapBytes'])) return undefined;
  return { rssBytes: extra.baseline.rssBytes as number, heapBytes: extra.baseline.heapBytes as number };
}

/** Echo mode. */
export function readEchoMode(extra: unknown): EchoExtra['mode'] | undefined {
  if (!isObject(extra)) return undefined;
  return extra.mode === 'ping-pong' || extra.mode === 'open-loop' || extra.mode === 'pipelined' ? extra.mode : undefined;
}

/** Throughput ramp steps in the order they ran. */
export function readThroughputSteps(extra: unknown): ThroughputRampStep[] | undefined {
  if (!isObject(extra) || !Array.isArray(extra.steps)) return undefined;
  const out = extra.steps
    .filter((x): x is Record<string, unknown> => isObject(x) && isNum(x.rate) && isNum(x.deliveredPerSec) && typeof x.sustained === 'boolean')
    .map((x): ThroughputRampStep => ({
      rate: x.rate as number,
      deliveredPerSec: x.deliveredPerSec as number,
      p99Ms: isNum(x.p99Ms) ? x.p99Ms : null,
      sustained: x.sustained as boolean,
      ...(typeof x.why === 'string' ? { why: x.why } : {}),
    }));
  return out.length > 0 ? out : undefined;
}

/** Throughput extras. */
export function readThroughputExtra(extra: unknown): ThroughputExtra | undefined {
  if (!isObject(extra)) return undefined;
  const out: ThroughputExtra = {};
  if (extra.direction === 'down' || extra.direction === 'up' || extra.direction === 'both') out.direction = extra.direction;
  if (isNum(extra.payloadMBps)) out.payloadMBps = extra.payloadMBps;
  const steps = readThroughputSteps(extra);
  if (steps) out.steps = steps;
  if (isNum(extra.sustainedRate)) out.sustainedRate = extra.sustainedRate;
  if (typeof extra.note === 'string') out.note = extra.note;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Per-transport sustained rates a throughput scenario put in its params. */
export function readSustainedRates(params: unknown): Partial<Record<TransportName, number>> | undefined {
  if (!isObject(params) || !isObject(params.sustainedRate)) return undefined;
  const out: Partial<Record<TransportName, number>> = {};
  for (const [k, v] of Object.entries(params.sustainedRate)) if (isNum(v)) out[k as TransportName] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A dead-peer row as the report reads it: detected with a time, or not within the cap. */
export interface DeadPeerView {
  detected: boolean;
  /** Present when detected. */
  detectMs?: number;
  /** The cap waited, ms; present when known. */
  capMs?: number;
  heartbeat?: DeadPeerExtra['heartbeat'];
  heartbeatKind?: string;
  expectedMs?: number | null;
  mechanism?: string;
}

/**
 * Dead-peer detection. A row counts when it has a detection time, or says
 * `detected: false` with the cap it waited; everything else is optional.
 */
export function readDeadPeer(extra: unknown): DeadPeerView | undefined {
  if (!isObject(extra)) return undefined;
  const detectMs = num(extra.detectMs);
  const capMs = num(extra.capMs);
  const detected = extra.detected === false ? false : detectMs !== undefined;
  if (detected && detectMs === undefined) return undefined;
  if (!detected && (extra.detected !== false || capMs === undefined)) return undefined;
  const out: DeadPeerView = { detected };
  if (detected) out.detectMs = detectMs;
  if (capMs !== undefined) out.capMs = capMs;
  const hb = extra.heartbeat;
  if (isObject(hb) && hasNums(hb, ['intervalMs', 'maxMissed'])) out.heartbeat = { intervalMs: hb.intervalMs as number, maxMissed: hb.maxMissed as number };
  if (typeof extra.heartbeatKind === 'string') out.heartbeatKind = extra.heartbeatKind;
  if (extra.expectedMs === null || isNum(extra.expectedMs)) out.expectedMs = extra.expectedMs;
  if (typeof extra.mechanism === 'string') out.mechanism = extra.mechanism;
  return out;
}

/** True for a row the runner did not run because the scenario does not apply to its transport. */
export function isSkippedRow(row: { state: string; extra?: Record<string, unknown> | undefined }): boolean {
  return row.state === 'errored' && isObject(row.extra) && row.extra.skipped === true;
}

/** The http-saturation variants (empty poll, one-message poll) of a row. */
export function readSaturationVariants(extra: unknown): HttpSaturationVariantView[] | undefined {
  if (!isObject(extra) || !Array.isArray(extra.variants)) return undefined;
  const out: HttpSaturationVariantView[] = [];
  for (const v of extra.variants) {
    if (!isObject(v) || typeof v.name !== 'string' || !isNum(v.requestsPerSec)) continue;
    const lat: HttpSaturationExtra['latencyMs'] = {};
    if (isObject(v.latencyMs)) for (const k of ['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const) if (isNum(v.latencyMs[k])) lat[k] = v.latencyMs[k];
    const view: HttpSaturationVariantView = { name: v.name, requestsPerSec: v.requestsPerSec, latencyMs: lat };
    if (isNum(v.expectedStatus)) view.expectedStatus = v.expectedStatus;
    if (typeof v.bound === 'string') view.bound = v.bound;
    if (isObject(v.server) && isNum(v.server.cpuPct)) view.serverCpuPct = v.server.cpuPct;
    if (isObject(v.client) && isNum(v.client.cpuPct)) view.clientCpuPct = v.client.cpuPct;
    for (const k of ['bytesUpPerRequest', 'bytesDownPerRequest', 'errors', 'non2xx', 'maxClientsAtPollInterval'] as const) if (isNum(v[k])) view[k] = v[k];
    out.push(view);
  }
  return out.length > 0 ? out : undefined;
}

/** The headline http-saturation figures of a row, with the clients it could carry. */
export interface HttpSaturationView extends Partial<HttpSaturationExtra> {
  /** requests/s × poll interval: short-polling clients the server could answer. */
  maxClientsAtPollInterval?: number;
  pollIntervalMs?: number;
  /** Which variant the headline comes from. */
  primary?: string;
}

/** HTTP saturation figures; any part may be missing. */
export function readHttpSaturation(extra: unknown): HttpSaturationView | undefined {
  if (!isObject(extra)) return undefined;
  const out: HttpSaturationView = {};
  if (isNum(extra.requestsPerSec)) out.requestsPerSec = extra.requestsPerSec;
  if (isObject(extra.latencyMs)) {
    const lat: HttpSaturationExtra['latencyMs'] = {};
    for (const k of ['p50', 'p90', 'p99', 'p999', 'mean', 'max'] as const) {
      const v = extra.latencyMs[k];
      if (isNum(v)) lat[k] = v;
    }
    if (Object.keys(lat).length > 0) out.latencyMs = lat;
  }
  if (isNum(extra.maxClientsAtPollInterval)) out.maxClientsAtPollInterval = extra.maxClientsAtPollInterval;
  if (isNum(extra.pollIntervalMs)) out.pollIntervalMs = extra.pollIntervalMs;
  if (typeof extra.primary === 'string') out.primary = extra.primary;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Repeat spread (min–max per figure key). */
export function readSpread(extra: unknown): RepeatSpread | undefined {
  if (!isObject(extra) || !isObject(extra.spread)) return undefined;
  const out: RepeatSpread = {};
  for (const [k, v] of Object.entries(extra.spread)) {
    if (isObject(v) && isNum(v.min) && isNum(v.max)) out[k] = { min: v.min, max: v.max };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
