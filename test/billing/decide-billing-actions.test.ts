/** The mapping from a subscription's state to the next license change, at fixed times. */
import { describe, expect, it } from 'vitest';

import type { SubscriptionSnapshot } from '../../lib/billing/billing-event.js';
import { decideBillingActions } from '../../lib/billing/decide-billing-actions.js';
import { emptySubscriptionState, failingSince, type SubscriptionState } from '../../lib/billing/subscription-state.js';
import { issueLicense } from '../../lib/lifecycle/issue-license.js';
import type { License } from '../../lib/lifecycle/license.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { BILLING_TEST_PLANS, PRICES } from '../support/stripe-events.js';

const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
const now = new Date('2030-01-10T00:00:00Z');
const day = (n: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + n * 86_400_000);
const snapshot = (overrides: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot => ({
  subscriptionId: 'sub_1',
  stripeCustomerId: 'cus_1',
  status: 'active',
  items: [{ priceId: PRICES.basic, quantity: 1 }],
  currentPeriodStart: day(0),
  currentPeriodEnd: day(30),
  cancelAtPeriodEnd: false,
  trialEnd: null,
  defaultPaymentMethod: null,
  ...overrides,
});
/** The state of one snapshot seen at `at`. */
const snap = (s: SubscriptionSnapshot, at: Date = day(0)): Pick<SubscriptionState, 'snapshots'> => ({ snapshots: [{ ref: 'evt_s', at, deleted: false, snapshot: s, previous: null }] });
const state = (overrides: Partial<SubscriptionState> = {}): SubscriptionState => ({ ...emptySubscriptionState('sub_1'), ...snap(snapshot()), ...overrides });
const license = (overrides: Partial<License> = {}): License => {
  const issued = issueLicense({ id: 'lic_1', keyDigest: 'd', keyType: 'production', product: 'TO', plan: plans.get('basic')!, periodEndsAt: day(30) }, day(0));
  if (!issued.ok) throw new Error('not issued');
  return { ...issued.license, ...overrides };
};
const decide = (s: SubscriptionState, l: License | null, paymentGraceMs = 0) => decideBillingActions({ state: s, license: l, plans, now, paymentGraceMs, ref: 'evt_1' });

describe('decideBillingActions', () => {
  it('waits while the subscription has not been seen', () => {
    expect(decide(emptySubscriptionState('sub_1'), null)).toEqual({ outcome: 'waiting', code: 'SUBSCRIPTION_NOT_SEEN' });
  });

  it('issues a trial key for a trialing subscription, and a trial-type key after the trial converted', () => {
    expect(decide(state(snap(snapshot({ status: 'trialing', trialEnd: day(14), currentPeriodEnd: day(14) }))), null)).toEqual({
      outcome: 'change',
      change: { type: 'issue', planId: 'basic', seats: 1, keyType: 'trial', trialEndsAt: day(14), periodEndsAt: day(14) },
    });
    expect(decide(state(snap(snapshot({ trialEnd: day(5) }))), null)).toMatchObject({ change: { keyType: 'trial', trialEndsAt: null, periodEndsAt: day(30) } });
  });

  it('refuses a price no plan has, and provisions nothing for an ended period', () => {
    expect(decide(state(snap(snapshot({ items: [{ priceId: 'price_unknown', quantity: 1 }] }))), null)).toMatchObject({ outcome: 'refused', code: 'UNKNOWN_PRICE', details: { priceIds: ['price_unknown'] } });
    expect(decide(state(snap(snapshot({ currentPeriodEnd: day(5) }))), null)).toEqual({ outcome: 'nothing_to_provision', code: 'PERIOD_OVER' });
    expect(decide(state(snap(snapshot({ status: 'incomplete' }))), null)).toEqual({ outcome: 'nothing_to_provision', code: 'SUBSCRIPTION_NOT_STARTED' });
  });

  it.each([
    ['a paid invoice beyond the period renews', state({ paidThrough: day(60), lastPaidAt: day(29) }), license(), { type: 'renew', periodEndsAt: day(60) }],
    ['a conversion renews and ends the trial', state(snap(snapshot({ currentPeriodEnd: day(44) }))), license({ trial: { endsAt: day(14) }, periodEndsAt: day(14) }), { type: 'renew', periodEndsAt: day(44), endsTrial: true }],
    ['a higher price changes the plan', state(snap(snapshot({ items: [{ priceId: PRICES.pro, quantity: 1 }] }))), license(), { type: 'change_plan' }],
    ['cancel_at_period_end cancels', state(snap(snapshot({ cancelAtPeriodEnd: true }))), license(), { type: 'cancel' }],
    ['a deleted subscription cancels', state({ deletedAt: day(9) }), license(), { type: 'cancel' }],
    ['an uncancelled subscription resumes', state(), license({ cancelAtPeriodEnd: true }), { type: 'resume' }],
    ['a full refund revokes', state({ refund: { at: day(9), ref: 'ch_1' } }), license(), { type: 'revoke', reason: 'refund' }],
    ['a dispute suspends', state({ dispute: { at: day(9), ref: 'evt_9', disputeId: 'dp_1', reason: 'fraudulent', chargeId: 'ch_1' } }), license(), { type: 'suspend', reason: 'dispute', note: 'Stripe dispute dp_1: fraudulent' }],
    ['a failed payment past its grace suspends', state({ failures: [day(8)] }), license(), { type: 'suspend', reason: 'payment_failed' }],
    ['a payment after the failure reinstates', state({ failures: [day(8)], lastPaidAt: day(9) }), license({ status: 'suspended', suspension: { reason: 'payment_failed', at: day(8), note: null } }), { type: 'reinstate', onlyIf: 'payment_failed' }],
  ] as const)('%s', (_name, s, l, command) => {
    expect(decide(s, l)).toMatchObject({ outcome: 'change', change: { type: 'command', command } });
  });

  it('leaves an abuse hold alone, and a revoked license settled', () => {
    expect(decide(state(), license({ status: 'suspended', suspension: { reason: 'abuse_hold', at: day(8), note: null } }))).toMatchObject({ outcome: 'settled' });
    expect(decide(state({ refund: { at: day(9), ref: 'ch_1' } }), license({ status: 'revoked', revocation: { reason: 'refund', at: day(9), note: null } }))).toEqual({
      outcome: 'settled',
      effects: [{ type: 'email', kind: 'license_revoked', dedupeKey: 'license_revoked:lic_1', data: { planId: 'basic', reason: 'refund' } }],
    });
  });

  it('within the payment grace: no suspension yet, a payment_failed e-mail and a recheck at the end of the grace', () => {
    const decision = decide(state({ failures: [day(8)] }), license(), 3 * 86_400_000);
    expect(decision).toMatchObject({ outcome: 'settled' });
    expect(decision.outcome === 'settled' && decision.effects).toEqual(
      expect.arrayContaining([
        { type: 'email', kind: 'payment_failed', dedupeKey: `payment_failed:sub_1:${day(8).getTime()}`, data: { planId: 'basic', graceEndsAt: day(11).toISOString() } },
        { type: 'recheck', at: day(11) },
      ]),
    );
  });

  it('counts a failure only while it is newer than the last payment, whatever order they arrived in', () => {
    expect(failingSince(state({ failures: [day(8), day(3)], lastPaidAt: day(5) }))).toEqual(day(8));
    expect(failingSince(state({ failures: [day(3)], lastPaidAt: day(5) }))).toBeNull();
    expect(failingSince(state({ ...snap(snapshot({ status: 'past_due' }), day(6)), lastPaidAt: day(5) }))).toEqual(day(6));
  });
});
