/**
 * The bench runner: scenarios × transports, one row each, failures kept as
 * values, progress on stderr, and results written even when interrupted.
 */
import type { Results, ScenarioResult, TransportName, TransportResult } from '../metrics/results.ts';
import { combineTrials, median } from './repeat.ts';
import { Progress, type ProgressSink } from './progress.ts';
import { MAX_NOISY_RERUNS, calibrate, loopbackProbe, moreLoadProcesses, noisyTrial } from './trial-checks.ts';
import { collectMeta } from '../metrics/env.ts';
import { erroredResult, notApplicableResult, whyNot, type Scenario } from './scenario.ts';
import { liveChildren, loadNodeFlags, type RunParams, serverNodeFlags } from './session.ts';
import { prepareChildren } from './bundle.ts';
import { transport as descriptorOf } from '../transports/index.ts';
import type { RunPath } from '../path/route.ts';
import { ensurePeer, ensureScript } from '../transports/peers.ts';
import { linkInWords } from '../path/links.ts';

/** One scenario to run, with its parameters. */
export interface PlannedScenario {
  // biome-ignore lint/suspicious/noExplicitAny: params were built by this scenario's own params()
  scenario: Scenario<any>;
  params: object;
  /** The scenario's own trial count (its `quickTrials`, from `ownTrials`), when not the plan's `repeat`; its runs are told so (`quickTrials`). */
  repeat?: number;
}

export interface BenchPlan {
  scenarios: PlannedScenario[];
  /** Trials per scenario × transport (median and spread reported). */
  repeat?: number;
  /** The profile's name, for the metadata. */
  profile?: string;
  /** Run parameters every scenario honours; `wsClient` is also written to the metadata. */
  run: RunParams;
  transports: TransportName[];
  /** The command line, for the results' metadata. */
  command: string;
  /** Where progress lines go (default stderr, with an updating ETA line when it is a terminal). */
  log?: (line: string) => void;
}

/**
 * A scenario's own trial count, when it differs from the run's: on the quick profile without
 * `--repeat`, the trials the scenario asks for (`quickTrials`); otherwise undefined (the run's).
 */
export function ownTrials(scenario: Pick<Scenario, 'quickTrials'>, profile: string, repeatGiven: boolean): number | undefined {
  return !repeatGiven && profile === 'quick' ? scenario.quickTrials : undefined;
}

/**
 * Set-up a run pays besides its scenario's own plan: forking the server and
 * load processes through tsx and closing them. Measured on the quick profile.
 */
const RUN_SETUP_MS = 1500;

/** Planned ms of every run in the order the runner takes them; a run that will be skipped plans 0. */
function plannedRuns(plan: BenchPlan): number[] {
  const out: number[] = [];
  for (const { scenario, params, repeat } of plan.scenarios)
    for (const t of rowsOf(scenario, params, plan.transports)) {
      const skip = whyNot(scenario, t, params, plan.run.path) !== null;
      if (skip) {
        out.push(0);
        continue;
      }
      // A scenario's own quick trials may plan differently from trial to trial (push measures its fixed load once).
      for (let k = 1; k <= (repeat ?? plan.repeat ?? 1); k++)
        out.push(RUN_SETUP_MS + scenario.plannedMs(params, descriptorOf(t), { index: k, quickTrials: repeat !== undefined }));
    }
  return out;
}

/** The rows a scenario runs of the run's transports: its own expansion (failover's reconnect variants), or the list as given. */
// biome-ignore lint/suspicious/noExplicitAny: params were built by this scenario's own params()
function rowsOf(scenario: Scenario<any>, params: object, transports: TransportName[]): TransportName[] {
  return scenario.rows?.(transports, params) ?? transports;
}

/** The run's path as the results record it: no key material, only what was in the way. */
function pathInMeta(p: RunPath): NonNullable<Results['meta']['path']> {
  return {
    ...(p.via && { via: p.via.kind, proxy: p.via.proxy }),
    ...(p.tls && { tls: 'self-signed certificate made for this run' }),
    ...(p.target !== undefined && { target: p.target }),
  };
}

/** The run's metadata before anything runs: the machine, the flags, the path, the links of the rows on one. */
function runMeta(plan: BenchPlan): Results['meta'] {
  const meta: Results['meta'] = {
    ...collectMeta(plan.command),
    ...(plan.profile ? { profile: plan.profile } : {}),
    wsLoadClient: plan.run.wsClient,
    serverNodeFlags: serverNodeFlags(),
    loadNodeFlags: loadNodeFlags(),
    ...(plan.run.cpus ? { cpuSets: plan.run.cpus } : {}),
    ...(plan.run.path && { path: pathInMeta(plan.run.path) }),
    ...(plan.transports.some((t) => descriptorOf(t).httpServer === 'h2') && {
      h2: plan.run.h2c
        ? 'h2c: cleartext HTTP/2 with prior knowledge (--h2c), which no browser does'
        : 'TLS with ALPN h2 on a self-signed certificate made for the run, as browsers reach an https origin',
    }),
  };
  // Rows on an emulated link: each link is recorded with its parameters and where they come from.
  for (const t of plan.transports) {
    const l = descriptorOf(t).link;
    if (l) meta.links = { ...meta.links, [l.name]: linkInWords(l) };
  }
  return meta;
}

/** Peer rows: what they need is installed on first use, and the version that runs is recorded; the rows that cannot run, and why. */
function preparePeers(plan: BenchPlan, meta: Results['meta'], log: (line: string) => void): Map<TransportName, string> {
  const unavailable = new Map<TransportName, string>();
  for (const t of plan.transports) {
    const d = descriptorOf(t);
    if (!d.peer) continue;
    try {
      ensurePeer(d);
      meta.peers = { ...meta.peers, [t]: d.peer.version() };
    } catch (e) {
      unavailable.set(t, (e as Error).message);
      log(`${t}: not available — ${(e as Error).message}`);
    }
  }
  return unavailable;
}

/** Calibration loop timings of the whole run, and the trials rerun because the machine was slow. */
class Calibration {
  readonly befores: number[] = [];
  readonly afters: number[] = [];
  /** Loopback round trips timed before each trial, µs (recorded, not judged). */
  readonly loopbacks: number[] = [];
  noisyReruns = 0;

  /** The results' `meta.calibration`, or undefined when no trial ran. */
  meta(): Results['meta']['calibration'] {
    const timings = [...this.befores, ...this.afters];
    if (!timings.length) return undefined;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const loopbacks = this.loopbacks;
    return {
      medianMs: r2(median(timings)),
      minMs: r2(Math.min(...timings)),
      maxMs: r2(Math.max(...timings)),
      count: timings.length,
      ...(loopbacks.length ? { loopbackUs: { median: r2(median(loopbacks)), min: Math.min(...loopbacks), max: Math.max(...loopbacks) } } : {}),
    };
  }
}

/** One transport's row of a scenario: its first progress index (as plannedRuns counts them), its trials, or its result when it cannot run. */
interface Slot {
  t: TransportName;
  tag: string;
  first: number;
  trials: TransportResult[];
  settled?: TransportResult;
}

/** Where the runner stands in the plan: rows begun of `total`, and progress indexes handed out (as plannedRuns counts them). */
interface Position {
  step: number;
  run: number;
  readonly total: number;
}

/** What settling a scenario's rows needs: the plan, its progress and log, the interrupt, the peer rows that cannot run. */
interface SlotContext {
  plan: BenchPlan;
  progress: Progress;
  log: (line: string) => void;
  signal: AbortSignal;
  unavailable: Map<TransportName, string>;
}

/** One slot per transport of a scenario; a row that cannot run (its peer unavailable, the scenario not for it) is settled at once. */
function slotsOf(planned: PlannedScenario, repeat: number, at: Position, c: SlotContext): Slot[] {
  const { scenario, params } = planned;
  const slots: Slot[] = [];
  for (const t of rowsOf(scenario, params, c.plan.transports)) {
    at.step++;
    if (c.signal.aborted) break;
    const tag = `[${at.step}/${at.total} ${scenario.name}]`;
    const first = at.run;
    const missing = c.unavailable.get(t);
    const skip = missing ? null : whyNot(scenario, t, params, c.plan.run.path);
    at.run += skip ? 1 : repeat;
    if (missing) {
      for (let i = 0; i < repeat; i++) c.progress.finish(first + i, true);
      slots.push({ t, tag, first, trials: [], settled: erroredResult(t, missing) });
    } else if (skip) {
      c.log(`${tag} ${t}: skipped — ${skip}`);
      c.progress.finish(first, true);
      slots.push({ t, tag, first, trials: [], settled: notApplicableResult(t, skip) });
    } else slots.push({ t, tag, first, trials: [] });
  }
  return slots;
}

/** What runs every trial of the run: the plan, the interrupt, the shared fixed-load memo, the calibration. */
class TrialRunner {
  // The same fixed-load phase (transport, spec, trial) is measured once however many scenarios report it.
  private readonly fixedLoads: NonNullable<RunParams['fixedLoads']> = new Map();
  private readonly loadCores: number;

  constructor(
    private readonly plan: BenchPlan,
    private readonly log: (line: string) => void,
    private readonly signal: AbortSignal,
    private readonly calibration: Calibration,
  ) {
    this.loadCores = plan.run.cpus && !('off' in plan.run.cpus) ? plan.run.cpus.load.length : 1;
  }

  /** One run of `t` with params `p`; a failure becomes an errored row. */
  private async once(planned: PlannedScenario, t: TransportName, k: number, trialTag: string, p: object): Promise<TransportResult> {
    const { scenario, repeat: own } = planned;
    const started = performance.now();
    try {
      const row = await scenario.run(t, p, {
        ...this.plan.run,
        fixedLoads: this.fixedLoads,
        scenario: scenario.name,
        trial: k,
        progress: (l) => this.log(`${trialTag} ${l}`),
        signal: this.signal,
        ...(own !== undefined && { quickTrials: true }),
      });
      this.log(`${trialTag} ${t}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return row;
    } catch (e) {
      const why = this.signal.aborted ? 'interrupted by the user' : (e as Error).message;
      this.log(`${trialTag} ${t}: ERRORED — ${why}`);
      return erroredResult(t, why);
    }
  }

  /** Runs with more load processes while the last run's load was bound and the load's CPUs allow: the load must not be the hidden limit. */
  private async unbound(planned: PlannedScenario, t: TransportName, k: number, trialTag: string): Promise<TransportResult> {
    const { params } = planned;
    let row = await this.once(planned, t, k, trialTag, params);
    const procs = (params as { loadProcesses?: unknown }).loadProcesses;
    for (let more = typeof procs === 'number' ? moreLoadProcesses(row, procs, this.loadCores) : undefined; more !== undefined && !this.signal.aborted; ) {
      this.log(`${trialTag} ${t}: the load client was bound; again with ${more} load processes`);
      row = await this.once(planned, t, k, trialTag, { ...params, loadProcesses: more });
      more = moreLoadProcesses(row, more, this.loadCores);
    }
    return row;
  }

  /** Trial `k` of `t`, timed between two calibrations and run again (a few times at most) when the machine was slower during it. */
  async trial(planned: PlannedScenario, t: TransportName, k: number, trialTag: string): Promise<TransportResult> {
    const c = this.calibration;
    for (let reruns = 0; ; reruns++) {
      const before = calibrate();
      c.loopbacks.push(await loopbackProbe());
      let row = await this.unbound(planned, t, k, trialTag);
      if (row.state === 'completed' && row.client?.clientBound) row = { ...row, extra: { ...row.extra, floor: true } };
      // The trial's children are gone by now; a short pause lets their exit settle before timing.
      await new Promise((r) => setTimeout(r, 100));
      const after = calibrate();
      c.befores.push(before);
      c.afters.push(after);
      const noisy = row.state === 'completed' && noisyTrial(c.befores, c.afters, before, after);
      if (noisy && reruns < (planned.scenario.noisyReruns ?? MAX_NOISY_RERUNS) && !this.signal.aborted) {
        c.noisyReruns++;
        this.log(`${trialTag} ${t}: the machine ran slower during this trial (calibration ${before.toFixed(1)}/${after.toFixed(1)} ms); running it again`);
        continue;
      }
      return noisy ? { ...row, extra: { ...row.extra, noisy: true } } : row;
    }
  }
}

/** Runs the plan; resolves with everything measured, also after an interrupt. */
export async function runBench(plan: BenchPlan): Promise<{ results: Results; interrupted: boolean }> {
  // nginx in front of every row: installed on first use, as the peers' programs are.
  if (plan.run.path?.via?.kind === 'nginx') ensureScript('ensure-nginx.sh', 'nginx');
  const sink: ProgressSink = plan.log
    ? { write: (text) => plan.log!(text.replace(/\n$/, '')), tty: false }
    : { write: (text) => process.stderr.write(text), tty: process.stderr.isTTY === true };
  const progress = new Progress(plannedRuns(plan), () => performance.now(), sink);
  const log = (line: string) => progress.log(line);
  progress.begin();
  // In a terminal the countdown moves between log lines too.
  const ticker = sink.tty ? setInterval(() => progress.redraw(), 1000) : undefined;
  ticker?.unref();
  const results: Results = { meta: runMeta(plan), scenarios: [] };
  const unavailable = preparePeers(plan, results.meta, log);
  // The child programs are bundled before the first fork, so none of the run's children pays for tsx.
  await prepareChildren(log);
  const stopper = new AbortController();
  const onSigint = () => {
    if (stopper.signal.aborted) return;
    log('interrupted: stopping every child process and writing what was measured');
    stopper.abort();
    for (const c of liveChildren) void c.kill(200);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const calibration = new Calibration();
  const runner = new TrialRunner(plan, log, stopper.signal, calibration);
  try {
    const at: Position = {
      step: 0,
      run: 0,
      total: plan.scenarios.reduce((a, { scenario, params }) => a + rowsOf(scenario, params, plan.transports).length, 0),
    };
    for (const planned of plan.scenarios) {
      const { scenario, params, repeat: own } = planned;
      const sr: ScenarioResult = { name: scenario.name, params: { ...params }, results: [] };
      results.scenarios.push(sr);
      const repeat = own ?? plan.repeat ?? 1;
      const slots = slotsOf(planned, repeat, at, { plan, progress, log, signal: stopper.signal, unavailable });
      // Trials take turns across transports (the first of each, then the second of each…): a machine
      // that drifts while a scenario runs then weighs on every transport alike, not on the one measured last.
      for (let k = 1; k <= repeat && !stopper.signal.aborted; k++) {
        for (const slot of slots) {
          if (slot.settled || stopper.signal.aborted) continue;
          // Reruns (a noisy trial, more load processes) count as this run's time: the ETA learns from them too.
          const index = slot.first + k - 1;
          progress.start(index);
          slot.trials.push(await runner.trial(planned, slot.t, k, repeat > 1 ? `${slot.tag} (trial ${k}/${repeat})` : slot.tag));
          progress.finish(index);
        }
      }
      for (const slot of slots) {
        if (slot.settled) sr.results.push(slot.settled);
        else if (slot.trials.length) sr.results.push(combineTrials(slot.trials));
      }
      try {
        const summary = scenario.summarize?.(sr);
        if (summary) sr.summary = summary;
      } catch (e) {
        log(`[${scenario.name}] could not summarize across transports: ${(e as Error).message}`);
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    progress.end();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  results.meta.finishedAt = new Date().toISOString();
  if ((plan.repeat ?? 1) > 1) results.meta.repeats = plan.repeat;
  results.meta.noisyReruns = calibration.noisyReruns;
  const cal = calibration.meta();
  if (cal) results.meta.calibration = cal;
  return { results, interrupted: stopper.signal.aborted };
}
