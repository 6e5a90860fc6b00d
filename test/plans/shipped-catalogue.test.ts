/**
 * The plan catalogue shipped in config/plans.json (the default of KEYWARD_PLANS_FILE) loads and
 * holds the plans the README and docs name. (Moved here from the CLI's configuration test when
 * the CLI stopped reading the catalogue: it talks to the server now.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';

const root = resolve(fileURLToPath(import.meta.url), '../../..');

describe('config/plans.json', () => {
  it('loads, with the shipped plans and their limits', () => {
    const catalogue = loadPlanCatalogue(JSON.parse(readFileSync(resolve(root, 'config/plans.json'), 'utf8')));
    expect(catalogue.plans.map((plan) => plan.id).sort()).toEqual(['metered', 'pro', 'starter', 'team', 'web']);
    expect(catalogue.get('starter')).toMatchObject({ limits: { maxActivations: 1 }, trialDays: 14 });
    expect(catalogue.get('team')?.limits.maxActivations).toBe(25);
    // Team is also sold per seat: that price's quantity sets the seats instead of the 25.
    expect(catalogue.isPerSeatPrice('price_example_team_per_seat_monthly')).toBe(true);
    expect(catalogue.byStripePrice('price_example_team_per_seat_monthly')?.id).toBe('team');
    expect(catalogue.get('web')?.limits.maxDomains).toBe(3);
    expect(catalogue.get('metered')?.limits.validationsPerMonth).toBeGreaterThan(0);
  });
});
