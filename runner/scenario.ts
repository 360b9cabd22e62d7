/**
 * What the runner runs: the shape of a scenario, the context it is given, and the rows the runner
 * writes for a scenario that failed or does not apply. The scenarios (scenarios/) implement it;
 * the runner imports none of them, so the scenario registry can list them above it.
 */
import type { ScenarioResult, TransportName, TransportResult } from '../metrics/results.ts';
import type { FlagReader, FlagSpecs, Profile } from './flags.ts';
import type { RunParams } from './session.ts';
import type { RunPath } from '../path/route.ts';
import type { TransportDescriptor } from '../transports/descriptor.ts';
import { transport } from '../transports/index.ts';
import type { ScenarioFacet } from '../report-model/facet.ts';

/** Hooks and run parameters the runner gives a scenario. */
export interface RunContext extends RunParams {
  /** One line of progress for the terminal. */
  progress(line: string): void;
  /** Aborted when the user interrupts the run (Ctrl-C). */
  signal: AbortSignal;
  /** The trials are the scenario's own `quickTrials` (quick profile, no --repeat): a phase it reports once may run in the first only. */
  quickTrials?: boolean;
}

/** What a scenario is: named parameters and a run per transport that yields one result row. */
export interface Scenario<P extends object = Record<string, unknown>> {
  name: string;
  /** One line for `--help`. */
  summary: string;
  /** Its part of the report: load in words, findings, detail tables and charts of its own figures. */
  facet: ScenarioFacet;
  /** Flags this scenario reads besides the shared ones (declared so --help can list them). */
  flags?: FlagSpecs;
  /** Builds its parameters from validated flags. */
  params(f: FlagReader, profile: Profile): P;
  /**
   * How long one run on this transport should take, in ms, from the parameters
   * (measured windows, waits, a poll interval of lag): the ETA's plan. Process
   * start-up is the runner's to add.
   */
  plannedMs(params: P, transport: TransportDescriptor, trial?: { index: number; quickTrials: boolean }): number;
  /** Why the scenario cannot run on a transport, from its traits, or null when it can. */
  skipReason?(transport: TransportDescriptor, params: P): string | null;
  /** Not among a run's default scenarios: runs when named, or when the run's path adds it. */
  byNameOnly?: boolean;
  /** Measures the proxy in the path: n/a unless the run goes through one (`--via nginx`). */
  needsProxy?: boolean;
  /**
   * Whether it runs against a server the lab did not start (`--target`): it needs nothing of the
   * server but its endpoints (no publisher inside it, no CPU or counters). Absent: n/a there.
   */
  runsOnTarget?: boolean;
  /**
   * The rows it runs of the run's transports, when it adds its own variants (failover: each
   * WebSocket row's reconnect policies); absent: the run's transports as given.
   */
  rows?(transports: TransportName[], params: P): TransportName[];
  /**
   * Trials on the quick profile when `--repeat` is not given (default 1). A scenario that answers a
   * latency column of the decision matrix takes several short ones: one short trial's p99 is one
   * moment of a shared machine, and a range shows it.
   */
  quickTrials?: number;
  /**
   * Reruns of a trial during which the machine ran slower, at most (default MAX_NOISY_RERUNS); a
   * trial still noisy is kept and marked `noisy`. A scenario whose trial lasts minutes may take fewer.
   */
  noisyReruns?: number;
  /** After every transport ran: figures across transports (crossovers, capacity), written as the scenario's `summary`. */
  summarize?(result: ScenarioResult): Record<string, unknown>;
  /** Measures one transport; throws on failure (the runner records it as errored). */
  run(transport: TransportName, params: P, ctx: RunContext): Promise<TransportResult>;
}

/** Why `scenario` does not apply to the registered transport `name` on the run's path, or null when it does. */
export function whyNot<P extends object>(scenario: Scenario<P>, name: TransportName, params: P, path?: RunPath): string | null {
  const d = transport(name);
  if (d.notOverH2 !== undefined) return d.notOverH2;
  // nginx speaks HTTP/1.1 to its upstream: an h2 row measures HTTP/2 from the client to the server itself.
  if (d.httpServer === 'h2' && path?.via) return 'nginx forwards to its upstream over HTTP/1.1: an h2 row measures HTTP/2 end to end, without a proxy';
  if (d.httpServer === 'h2' && path?.target !== undefined) return 'an h2 row starts its own node:http2 server; a --target is measured by the HTTP/1.1 rows';
  if (scenario.needsProxy && !path?.via) return 'measures the proxy in the path: runs with --via nginx';
  if (path?.target !== undefined && !scenario.runsOnTarget)
    return 'needs the lab’s own server process (it publishes from inside it, or reads its CPU and socket counters); --target points at a server the lab did not start';
  // The ceiling speaks raw TCP, no HTTP: neither an HTTP proxy nor the https/wss path applies to it.
  if (d.role === 'ceiling' && path?.via) return 'raw TCP with no HTTP: an HTTP reverse proxy cannot carry it';
  if (d.role === 'ceiling' && path?.tls) return 'the raw TCP ceiling has no TLS variant: it measures bare sockets';
  // The run-time certificate reaches the lab's servers and clients only; a peer's own program and client are not given it.
  if (d.peer && path?.tls)
    return 'a peer row runs its own server program or client library, which the run-time certificate is not handed to: TLS is measured on the lab’s rows';
  return scenario.skipReason?.(d, params) ?? null;
}

/** A row for a transport the scenario does not apply to, with the reason. */
export function notApplicableResult(transport: TransportName, reason: string): TransportResult {
  return { transport, state: 'n/a', error: reason, latencyMs: null, throughput: null, messages: null, wire: null, server: null };
}

/** An errored row: the failure as a value. */
export function erroredResult(transport: TransportName, error: string): TransportResult {
  return { transport, state: 'errored', error, latencyMs: null, throughput: null, messages: null, wire: null, server: null };
}
