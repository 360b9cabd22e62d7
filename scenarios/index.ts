/** The scenario registry: one line per scenario. */
import type { Scenario } from './contract.ts';
import { push } from './push.ts';
import { echo, echoPingPong } from './echo.ts';
import { fanOut } from './fan-out.ts';

export const SCENARIOS: Scenario<any>[] = [push, echo, echoPingPong, fanOut];

/** A scenario by name. */
export function scenarioByName(name: string): Scenario<any> | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
