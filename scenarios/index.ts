/** The scenario registry: one line per scenario (and one in scenarios/facets.ts, the report's side). */
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

/** Names that select several scenarios at once. */
export const SCENARIO_GROUPS: Record<string, string[]> = {
  echo: ['echo', 'echo-ping-pong', 'echo-pipelined'],
  throughput: ['throughput-down', 'throughput-up'],
};
