import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';

/** A plan with only the required fields, so every default is visible. */
const minimalPlan = {
  id: 'basic',
  rank: 0,
  limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: 1000 },
};

/** A plan with every field given. */
const fullPlan = {
  id: 'pro',
  name: 'Pro',
  rank: 10,
  limits: { maxActivations: 3, maxDomains: 2, validationsPerMonth: null },
  features: ['export', 'sso'],
  trialDays: 14,
  stripePriceIds: ['price_pro_monthly', 'price_pro_yearly'],
  abuseThresholds: { validationsPerHour: 500, countriesPerDay: 5 },
};

const validCatalogue = { plans: [minimalPlan, fullPlan] };

/** The ConfigurationError thrown by loading `input`; fails the test when nothing is thrown. */
function loadError(input: unknown): ConfigurationError {
  try {
    loadPlanCatalogue(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected loadPlanCatalogue to throw a ConfigurationError');
}

describe('loadPlanCatalogue with a valid catalogue', () => {
  it('fills the defaults of optional fields', () => {
    const catalogue = loadPlanCatalogue(validCatalogue);

    expect(catalogue.get('basic')).toEqual({
      id: 'basic',
      name: 'basic',
      rank: 0,
      limits: { maxActivations: 1, maxDomains: null, validationsPerMonth: 1000 },
      features: [],
      trialDays: 0,
      stripePriceIds: [],
      abuseThresholds: {},
    });
  });

  it('keeps every field that is given', () => {
    const catalogue = loadPlanCatalogue(validCatalogue);

    expect(catalogue.get('pro')).toEqual(fullPlan);
  });

  it('lists the plans in catalogue order', () => {
    const catalogue = loadPlanCatalogue(validCatalogue);

    expect(catalogue.plans.map((plan) => plan.id)).toEqual(['basic', 'pro']);
  });

  it.each([
    { lookup: 'get', key: 'basic', planId: 'basic' },
    { lookup: 'get', key: 'pro', planId: 'pro' },
    { lookup: 'get', key: 'enterprise', planId: undefined },
    { lookup: 'byStripePrice', key: 'price_pro_monthly', planId: 'pro' },
    { lookup: 'byStripePrice', key: 'price_pro_yearly', planId: 'pro' },
    { lookup: 'byStripePrice', key: 'price_unknown', planId: undefined },
    { lookup: 'byStripePrice', key: 'pro', planId: undefined },
  ] as const)('$lookup($key) finds plan $planId', ({ lookup, key, planId }) => {
    const catalogue = loadPlanCatalogue(validCatalogue);

    expect(catalogue[lookup](key)?.id).toBe(planId);
  });

  it('returns frozen plans, so no caller can change the catalogue', () => {
    const catalogue = loadPlanCatalogue(validCatalogue);
    const pro = catalogue.get('pro');

    expect(Object.isFrozen(catalogue.plans)).toBe(true);
    expect(Object.isFrozen(pro)).toBe(true);
    expect(Object.isFrozen(pro?.limits)).toBe(true);
    expect(Object.isFrozen(pro?.features)).toBe(true);
    expect(Object.isFrozen(pro?.stripePriceIds)).toBe(true);
  });

  it('does not share arrays with the input', () => {
    const pro = structuredClone(fullPlan);
    const catalogue = loadPlanCatalogue({ plans: [minimalPlan, pro] });
    pro.features.push('leaked');

    expect(catalogue.get('pro')?.features).toEqual(['export', 'sso']);
  });
});

/** `validCatalogue` with plan `index` replaced by `plan`. */
function withPlan(index: number, plan: Record<string, unknown>): { plans: unknown[] } {
  const plans: unknown[] = [...validCatalogue.plans];
  plans[index] = plan;
  return { plans };
}

describe('loadPlanCatalogue with a malformed catalogue', () => {
  it.each<{ name: string; input: unknown; field: string }>([
    { name: 'not an object at all', input: 'plans', field: 'catalogue' },
    { name: 'null', input: null, field: 'catalogue' },
    { name: 'an array instead of an object', input: [minimalPlan], field: 'catalogue' },
    { name: 'no plans', input: {}, field: 'plans' },
    { name: 'an empty plans array', input: { plans: [] }, field: 'plans' },
    { name: 'plans that is not an array', input: { plans: minimalPlan }, field: 'plans' },
    { name: 'a plan that is not an object', input: withPlan(1, 'pro' as unknown as Record<string, unknown>), field: 'plans[1]' },
    { name: 'an upper-case id', input: withPlan(0, { ...minimalPlan, id: 'Basic' }), field: 'plans[0].id' },
    { name: 'an id with a space', input: withPlan(0, { ...minimalPlan, id: 'basic plan' }), field: 'plans[0].id' },
    { name: 'a missing id', input: withPlan(0, { ...minimalPlan, id: undefined }), field: 'plans[0].id' },
    { name: 'an empty name', input: withPlan(1, { ...fullPlan, name: '' }), field: 'plans[1].name' },
    { name: 'a negative rank', input: withPlan(0, { ...minimalPlan, rank: -1 }), field: 'plans[0].rank' },
    { name: 'a fractional rank', input: withPlan(0, { ...minimalPlan, rank: 1.5 }), field: 'plans[0].rank' },
    { name: 'missing limits', input: withPlan(0, { ...minimalPlan, limits: undefined }), field: 'plans[0].limits' },
    {
      name: 'a string seat limit',
      input: withPlan(1, { ...fullPlan, limits: { ...fullPlan.limits, maxActivations: '3' } }),
      field: 'plans[1].limits.maxActivations',
    },
    {
      name: 'a zero domain limit',
      input: withPlan(1, { ...fullPlan, limits: { ...fullPlan.limits, maxDomains: 0 } }),
      field: 'plans[1].limits.maxDomains',
    },
    {
      name: 'a missing quota (null must be explicit)',
      input: withPlan(0, { ...minimalPlan, limits: { maxActivations: 1, maxDomains: null } }),
      field: 'plans[0].limits.validationsPerMonth',
    },
    { name: 'an empty feature', input: withPlan(1, { ...fullPlan, features: ['export', ''] }), field: 'plans[1].features[1]' },
    { name: 'a trial of more than a year', input: withPlan(1, { ...fullPlan, trialDays: 366 }), field: 'plans[1].trialDays' },
    {
      name: 'a Stripe price without the price_ prefix',
      input: withPlan(1, { ...fullPlan, stripePriceIds: ['price_ok', 'prod_123'] }),
      field: 'plans[1].stripePriceIds[1]',
    },
    {
      name: 'a zero abuse threshold',
      input: withPlan(1, { ...fullPlan, abuseThresholds: { autoSuspendScore: 0 } }),
      field: 'plans[1].abuseThresholds.autoSuspendScore',
    },
    { name: 'a repeated id', input: withPlan(1, { ...fullPlan, id: 'basic' }), field: 'plans[1].id' },
    { name: 'a repeated rank', input: withPlan(1, { ...fullPlan, rank: 0 }), field: 'plans[1].rank' },
    {
      name: 'a Stripe price used by two plans',
      input: withPlan(0, { ...minimalPlan, stripePriceIds: ['price_pro_yearly'] }),
      field: 'plans[1].stripePriceIds',
    },
    {
      name: 'a Stripe price listed twice in one plan',
      input: withPlan(1, { ...fullPlan, stripePriceIds: ['price_pro_monthly', 'price_pro_monthly'] }),
      field: 'plans[1].stripePriceIds',
    },
    // An unknown field is named itself, not the object that holds it: the reader must know what to delete.
    { name: 'an unknown field on a plan', input: withPlan(1, { ...fullPlan, colour: 'gold' }), field: 'plans[1].colour' },
    {
      name: 'an unknown limit',
      input: withPlan(0, { ...minimalPlan, limits: { ...minimalPlan.limits, maxSeats: 3 } }),
      field: 'plans[0].limits.maxSeats',
    },
    { name: 'an unknown top-level field', input: { ...validCatalogue, currency: 'EUR' }, field: 'currency' },
    {
      name: 'a per-seat price on a plan without machine seats',
      input: withPlan(0, { ...minimalPlan, limits: { ...minimalPlan.limits, maxActivations: null, maxDomains: 3 }, stripePriceIds: [{ id: 'price_site', perSeat: true }] }),
      field: 'plans[0].stripePriceIds[0].perSeat',
    },
    { name: 'a price entry with a mistyped flag', input: withPlan(1, { ...fullPlan, stripePriceIds: [{ id: 'price_pro_seat', perseat: true }] }), field: 'plans[1].stripePriceIds[0].perseat' },
    { name: 'a price entry whose perSeat is not a boolean', input: withPlan(1, { ...fullPlan, stripePriceIds: [{ id: 'price_pro_seat', perSeat: 'yes' }] }), field: 'plans[1].stripePriceIds[0]' },
    { name: 'a price entry that is a number', input: withPlan(1, { ...fullPlan, stripePriceIds: [42] }), field: 'plans[1].stripePriceIds[0]' },
    {
      name: 'a Stripe price listed once plain and once per seat',
      input: withPlan(1, { ...fullPlan, stripePriceIds: ['price_pro_monthly', { id: 'price_pro_monthly', perSeat: true }] }),
      field: 'plans[1].stripePriceIds',
    },
  ])('rejects $name, naming $field', ({ input, field }) => {
    const error = loadError(input);

    expect(error.context.field).toBe(field);
    expect(error.code).toBe('INVALID_CONFIGURATION');
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('per-seat prices', () => {
  const catalogue = loadPlanCatalogue(
    withPlan(1, { ...fullPlan, stripePriceIds: ['price_pro_monthly', { id: 'price_pro_seat', perSeat: true }, { id: 'price_pro_yearly', perSeat: false }] }),
  );

  it('reads { id, perSeat } beside plain ids: every id provisions the plan, only the flagged one is sold per seat', () => {
    expect(catalogue.get('pro')).toMatchObject({ stripePriceIds: ['price_pro_monthly', 'price_pro_seat', 'price_pro_yearly'], perSeatStripePriceIds: ['price_pro_seat'] });
    expect(['price_pro_monthly', 'price_pro_seat', 'price_pro_yearly'].map((price) => catalogue.byStripePrice(price)?.id)).toEqual(['pro', 'pro', 'pro']);
    expect(['price_pro_monthly', 'price_pro_seat', 'price_pro_yearly', 'price_unknown'].map(catalogue.isPerSeatPrice)).toEqual([false, true, false, false]);
  });

  it('leaves plans without per-seat prices as they were', () => {
    expect(catalogue.get('basic')).not.toHaveProperty('perSeatStripePriceIds');
  });

  it('explains what a bad price entry should look like', () => {
    expect(loadError(withPlan(1, { ...fullPlan, stripePriceIds: [42] })).message).toContain('{ "id": "price_...", "perSeat": true }');
    expect(loadError(withPlan(0, { ...minimalPlan, limits: { ...minimalPlan.limits, maxActivations: null }, stripePriceIds: [{ id: 'price_x', perSeat: true }] })).message).toContain(
      'a per-seat price needs limits.maxActivations',
    );
  });
});
