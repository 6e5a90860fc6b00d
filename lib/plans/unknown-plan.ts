/** The refusal for a plan id the catalogue does not hold: it lists the plans that exist. */
import type { PlanCatalogue } from './plan-catalogue.js';

/** Message and details of an UNKNOWN_PLAN refusal. */
export interface UnknownPlan {
  readonly message: string;
  readonly details: { readonly planId: string; readonly plans: readonly string[] };
}

/** `No plan "gold" in the catalogue; the plans are: basic, pro.` with the ids in catalogue order. */
export function describeUnknownPlan(planId: string, catalogue: Pick<PlanCatalogue, 'plans'>): UnknownPlan {
  const plans = catalogue.plans.map((plan) => plan.id);
  const listed = plans.length === 0 ? 'the catalogue is empty' : `the plans are: ${plans.join(', ')}`;
  return { message: `No plan ${JSON.stringify(planId)} in the catalogue; ${listed}.`, details: { planId, plans } };
}
