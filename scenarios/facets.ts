/**
 * The report's side of the scenario registry: each scenario's facet by its name, and nothing of
 * its run code, so rendering a report from a results file loads no runner, session or child
 * program. The run registry (scenarios/index.ts) lists the same scenarios with their runs; a
 * test checks that both name the same facet for each. Adding a scenario = a line here and a line there.
 */
import type { ScenarioResult } from '../metrics/results.ts';
import type { ScenarioFacet } from '../report-model/facet.ts';
import { pushFacet } from './push/facet.ts';
import { echoOpenLoopFacet, echoPingPongFacet, echoPipelinedFacet } from './echo/facet.ts';
import { fanOutFacet } from './fan-out/facet.ts';
import { throughputFacet } from './throughput/facet.ts';
import { overheadFacet } from './overhead/facet.ts';
import { connectionsFacet } from './connections/facet.ts';
import { deadPeerFacet } from './dead-peer/facet.ts';
import { httpSaturationFacet } from './http-saturation/facet.ts';
import { proxyLessonsFacet } from './proxy-lessons/facet.ts';
import { connectFacet } from './connect/facet.ts';
import { failoverFacet } from './failover/facet.ts';

/** Every scenario's facet by the scenario's name, in the run registry's order. */
export const FACETS: ReadonlyMap<string, ScenarioFacet> = new Map([
  ['push', pushFacet],
  ['echo', echoOpenLoopFacet],
  ['echo-ping-pong', echoPingPongFacet],
  ['echo-pipelined', echoPipelinedFacet],
  ['fan-out', fanOutFacet],
  ['throughput-down', throughputFacet],
  ['throughput-up', throughputFacet],
  ['overhead', overheadFacet],
  ['connections', connectionsFacet],
  ['dead-peer', deadPeerFacet],
  ['http-saturation', httpSaturationFacet],
  ['proxy-lessons', proxyLessonsFacet],
  ['connect', connectFacet],
  ['failover', failoverFacet],
]);

/**
 * The facet that reads a scenario of a results file: its own by name, or for a name the lab no
 * longer runs (an older file) the first facet that recognises its figures; undefined when none does.
 */
export function facetOf(s: ScenarioResult): ScenarioFacet | undefined {
  return FACETS.get(s.name) ?? [...FACETS.values()].find((f) => f.reads?.(s));
}
