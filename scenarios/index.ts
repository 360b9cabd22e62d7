/** The scenario registry: one line per scenario. */
import type { ScenarioResult } from '../metrics/results.ts';
import type { ScenarioFacet } from '../report-model/facet.ts';
import type { Scenario } from './contract.ts';
import { push } from './push/index.ts';
import { echo, echoPingPong, echoPipelined } from './echo/index.ts';
import { fanOut } from './fan-out/index.ts';
import { throughputDown, throughputUp } from './throughput/index.ts';
import { overhead } from './overhead/index.ts';
import { connections } from './connections/index.ts';
import { deadPeer } from './dead-peer/index.ts';
import { httpSaturation } from './http-saturation/index.ts';
import { proxyLessons } from './proxy-lessons/index.ts';
import { connect } from './connect/index.ts';
import { failover } from './failover/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: each scenario has its own params type; the runner hands each its own
export const SCENARIOS: Scenario<any>[] = [
  push,
  echo,
  echoPingPong,
  echoPipelined,
  fanOut,
  throughputDown,
  throughputUp,
  overhead,
  connections,
  deadPeer,
  httpSaturation,
  proxyLessons,
  connect,
  failover,
];

/** A scenario by name. */
// biome-ignore lint/suspicious/noExplicitAny: see SCENARIOS
export function scenarioByName(name: string): Scenario<any> | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/**
 * The facet that reads a scenario of a results file: its own by name, or for
 * a name the lab no longer runs (an older file) the first facet that
 * recognises its figures; undefined when none does.
 */
export function facetOf(s: ScenarioResult): ScenarioFacet | undefined {
  return scenarioByName(s.name)?.facet ?? SCENARIOS.find((x) => x.facet.reads?.(s))?.facet;
}

/** Names that select several scenarios at once. */
export const SCENARIO_GROUPS: Record<string, string[]> = {
  echo: ['echo', 'echo-ping-pong', 'echo-pipelined'],
  throughput: ['throughput-down', 'throughput-up'],
};
