/** The shipped catalogue, config/plans.json, shows how plans name their Stripe prices. */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';

describe('config/plans.json', () => {
  it('loads, and names example Stripe prices on every paid plan, each provisioning its plan', () => {
    const catalogue = loadPlanCatalogue(JSON.parse(readFileSync(new URL('../../config/plans.json', import.meta.url), 'utf8')));
    for (const plan of catalogue.plans) {
      expect(plan.stripePriceIds.length).toBeGreaterThan(0);
      for (const price of plan.stripePriceIds) {
        expect(price).toMatch(/^price_example_/);
        expect(catalogue.byStripePrice(price)?.id).toBe(plan.id);
      }
    }
  });
});
