/** The push scenario's part of the report: nothing beyond the general figures, which are all about delivery. */
import type { ScenarioFacet } from '../../report-model/facet.ts';

/** The push facet: the load in words comes from the common parameter names. */
export const pushFacet: ScenarioFacet = {};
