/**
 * The order of a subscription's snapshots and the plan its history implies, on events built from
 * Stripe's fixture objects: the three ways keeping only the newest snapshot went wrong (issue
 * 12), each shown in every delivery order.
 */
import { describe, expect, it } from 'vitest';

import type { SubscriptionChanged } from '../../lib/billing/billing-event.js';
import { decideBillingActions } from '../../lib/billing/decide-billing-actions.js';
import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';
import { latestSnapshot, orderSnapshotFacts, targetPlan, type SnapshotFact } from '../../lib/billing/subscription-history.js';
import { emptySubscriptionState } from '../../lib/billing/subscription-state.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { BILLING_TEST_PLANS, PRICES, subscriptionEvent, type StripeEventJson, type SubscriptionFields } from '../support/stripe-events.js';

const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
const t = (iso: string) => new Date(iso);
const NOW = t('2030-01-10T00:00:00Z');
const DAY = 86_400_000;

const sub = (overrides: Partial<SubscriptionFields> = {}): SubscriptionFields => ({
  id: 'sub_history',
  customer: 'cus_history',
  price: PRICES.pro,
  status: 'active',
  periodStart: t('2030-01-01T00:00:00Z'),
  periodEnd: t('2030-02-01T00:00:00Z'),
  generation: 'current',
  ...overrides,
});

/** The snapshot fact an event folds into. */
function factOf(raw: StripeEventJson): SnapshotFact {
  const normalized = normalizeStripeEvent(raw);
  if (!normalized.ok || normalized.event.type !== 'subscription_changed') throw new Error(`not a subscription event: ${raw.type}`);
  const event: SubscriptionChanged = normalized.event;
  return { ref: event.eventId, at: event.created, deleted: event.deleted, snapshot: event.snapshot, previous: event.previous };
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

const decide = (facts: readonly SnapshotFact[], options: { canReadApi?: boolean } = {}) =>
  decideBillingActions({ state: { ...emptySubscriptionState('sub_history'), snapshots: facts }, license: null, plans, now: NOW, paymentGraceMs: 0, ref: 'evt_test', ...options });

describe('same-second snapshots (issue 12, item 1)', () => {
  const second = t('2030-01-01T00:00:00Z');
  // Event ids carry no order: the `updated` id sorts before the `created` one on purpose.
  const created = { ...subscriptionEvent('created', sub({ status: 'incomplete' }), second), id: 'evt_zzz_created' };
  const updated = { ...subscriptionEvent('updated', sub({ status: 'active' }), second, { status: 'incomplete' }), id: 'evt_aaa_updated' };

  it.each(permutations([created, updated]).map((order) => [order.map((e) => e.type).join(' then '), order] as const))(
    'a default_incomplete checkout (%s) is current as active and issues the key',
    (_name, order) => {
      const facts = order.map(factOf);
      expect(latestSnapshot(facts)).toMatchObject({ fact: { snapshot: { status: 'active' } }, tied: false });
      expect(decide(facts)).toMatchObject({ outcome: 'change', change: { type: 'issue', planId: 'pro' } });
    },
  );

  it('orders by previous_attributes before status progression: a cancellation undone in its second', () => {
    const cancelled = subscriptionEvent('updated', sub({ cancelAtPeriodEnd: true }), second, { cancel_at_period_end: false });
    const resumed = subscriptionEvent('updated', sub({ cancelAtPeriodEnd: false, periodEnd: t('2030-02-01T00:00:00Z') }), second, { cancel_at_period_end: true });
    const before = subscriptionEvent('updated', sub({ status: 'past_due' }), t('2029-12-31T00:00:00Z'));
    for (const order of permutations([cancelled, resumed, before])) {
      // cancelled ← resumed ← … : each names the other as its previous state, so this is a tie.
      expect(latestSnapshot(order.map(factOf))?.tied).toBe(true);
    }
    const failed = subscriptionEvent('updated', sub({ status: 'past_due' }), second, { status: 'active' });
    const created = subscriptionEvent('created', sub({ status: 'active' }), second);
    for (const order of permutations([failed, created])) expect(orderSnapshotFacts(order.map(factOf)).map((f) => f.snapshot.status)).toEqual(['active', 'past_due']);
    const recovered = subscriptionEvent('updated', sub({ status: 'active' }), second, { status: 'past_due' });
    // A failure and its recovery in one second point at each other: only the API can say which is current.
    expect(latestSnapshot([failed, recovered].map(factOf))?.tied).toBe(true);
    expect(decide([failed, recovered].map(factOf), { canReadApi: true })).toEqual({ outcome: 'needs_api_read', code: 'SNAPSHOTS_TIED' });
  });

  it('reports a tie nothing orders (same second, same status, no previous_attributes), and asks for an API read when it can', () => {
    const a = factOf(subscriptionEvent('updated', sub({ cancelAtPeriodEnd: false }), second));
    const b = factOf(subscriptionEvent('updated', sub({ cancelAtPeriodEnd: true }), second));
    expect(latestSnapshot([a, b])?.tied).toBe(true);
    expect(decide([a, b], { canReadApi: true })).toEqual({ outcome: 'needs_api_read', code: 'SNAPSHOTS_TIED' });
    // Without an API key, a fixed order by content: the same answer in either order.
    expect(latestSnapshot([a, b])?.fact).toBe(latestSnapshot([b, a])?.fact);
    // An API read is newer than the events and settles it.
    const api: SnapshotFact = { ref: 'api', at: t('2030-01-01T00:00:05Z'), deleted: false, snapshot: b.snapshot, previous: null };
    expect(latestSnapshot([a, b, api])).toMatchObject({ fact: { ref: 'api' }, tied: false });
  });
});

describe('plan changes out of order (issue 12, item 2)', () => {
  const events = [
    subscriptionEvent('created', sub({ price: PRICES.basic }), t('2030-01-01T00:00:00Z')),
    subscriptionEvent('updated', sub({ price: PRICES.web }), t('2030-01-03T00:00:00Z'), { items: { data: [{ price: { id: PRICES.basic } }] } }),
    subscriptionEvent('updated', sub({ price: PRICES.pro }), t('2030-01-07T00:00:00Z'), { items: { data: [{ price: { id: PRICES.web } }] } }),
  ];

  it.each(permutations([0, 1, 2]).map((order) => [order.join(','), order] as const))('in the order %s: the upgrade stays, the downgrade waits for the period end', (_name, order) => {
    const target = targetPlan(order.map((i) => factOf(events[i]!)), plans, NOW, 0);
    expect(target).toMatchObject({ current: { id: 'web' }, pending: { id: 'pro' }, pendingAt: t('2030-02-01T00:00:00Z') });
  });

  it('a downgrade made in the previous period is in force from the period start, even before its renewal arrives', () => {
    const late = targetPlan([factOf(events[1]!), factOf(events[2]!)], plans, t('2030-02-05T00:00:00Z'), DAY);
    expect(late).toMatchObject({ current: { id: 'pro' }, pending: null, currentSince: t('2030-02-02T00:00:00Z') });
  });
});

describe('items beyond the first (issue 12, item 3)', () => {
  it('finds the plan on a later item when an add-on comes first, and refuses only when no item has a catalogue price', () => {
    const withAddOn = factOf(subscriptionEvent('created', sub({ items: [{ price: PRICES.seats, quantity: 5 }, { price: PRICES.support }, { price: PRICES.pro }] }), t('2030-01-01T00:00:00Z')));
    expect(decide([withAddOn])).toMatchObject({ outcome: 'change', change: { type: 'issue', planId: 'pro' } });
    const onlyAddOns = factOf(subscriptionEvent('created', sub({ items: [{ price: PRICES.seats }, { price: PRICES.support }] }), t('2030-01-01T00:00:00Z')));
    expect(decide([onlyAddOns])).toMatchObject({ outcome: 'refused', code: 'UNKNOWN_PRICE', details: { priceIds: [PRICES.seats, PRICES.support] } });
  });
});

describe('the renewal grace', () => {
  it('pads the paid period so that a late renewal webhook finds the key still valid', () => {
    const fact = factOf(subscriptionEvent('created', sub(), t('2030-01-01T00:00:00Z')));
    const decision = decideBillingActions({ state: { ...emptySubscriptionState('sub_history'), snapshots: [fact] }, license: null, plans, now: NOW, paymentGraceMs: 0, renewalGraceMs: 3 * DAY, ref: 'evt_test' });
    expect(decision).toMatchObject({ change: { type: 'issue', periodEndsAt: t('2030-02-04T00:00:00Z') } });
  });
});

describe('per-seat prices: the quantity sets the seats', () => {
  const seated = (quantity: number, created: string, previousQuantity?: number) =>
    factOf(
      subscriptionEvent(
        previousQuantity === undefined ? 'created' : 'updated',
        sub({ price: PRICES.proPerSeat, items: [{ price: PRICES.proPerSeat, quantity }] }),
        t(created),
        previousQuantity === undefined ? undefined : { items: { object: 'list', data: [{ price: { id: PRICES.proPerSeat }, quantity: previousQuantity }] } },
      ),
    );

  it('a subscription with a per-seat price of quantity 7 issues a license with 7 seats', () => {
    expect(decide([seated(7, '2030-01-01T00:00:00Z')])).toMatchObject({ outcome: 'change', change: { type: 'issue', planId: 'pro', seats: 7 } });
  });

  it('the same plan on a price that is not per seat keeps the plan\'s seats, whatever the quantity', () => {
    const plain = factOf(subscriptionEvent('created', sub({ items: [{ price: PRICES.pro, quantity: 7 }] }), t('2030-01-01T00:00:00Z')));
    expect(decide([plain])).toMatchObject({ change: { type: 'issue', planId: 'pro', seats: 3 } });
  });

  it('an item of quantity 0 still gives one seat', () => {
    expect(decide([seated(0, '2030-01-01T00:00:00Z')])).toMatchObject({ change: { seats: 1 } });
  });

  it.each(permutations([0, 1, 2]).map((order) => [order.join(','), order] as const))(
    'in the order %s: 5 seats, 9 at t+2 (now), 4 at t+6 (at the period end) end on 9 with 4 pending',
    (_name, order) => {
      const facts = [seated(5, '2030-01-01T00:00:00Z'), seated(9, '2030-01-03T00:00:00Z', 5), seated(4, '2030-01-07T00:00:00Z', 9)];
      const target = targetPlan(order.map((i) => facts[i]!), plans, NOW, 0);
      expect(target).toMatchObject({ current: { id: 'pro', limits: { maxActivations: 9 } }, pending: { id: 'pro', limits: { maxActivations: 4 } }, pendingAt: t('2030-02-01T00:00:00Z') });
    },
  );

  it.each(permutations([0, 1, 2]).map((order) => [order.join(','), order] as const))(
    'in the order %s: seat changes made in one second are ordered by their previous quantities',
    (_name, order) => {
      const facts = [seated(5, '2030-01-01T00:00:00Z'), seated(8, '2030-01-03T00:00:00Z', 5), seated(6, '2030-01-03T00:00:00Z', 8)];
      const ordered = order.map((i) => facts[i]!);
      expect(latestSnapshot(ordered)).toMatchObject({ fact: { snapshot: { items: [{ quantity: 6 }] } }, tied: false });
      expect(targetPlan(ordered, plans, NOW, 0)).toMatchObject({ current: { limits: { maxActivations: 8 } }, pending: { limits: { maxActivations: 6 } } });
    },
  );

  it('fewer seats from the period before are in force from the period start', () => {
    const renewed = factOf(
      subscriptionEvent('updated', sub({ price: PRICES.proPerSeat, items: [{ price: PRICES.proPerSeat, quantity: 4 }], periodStart: t('2030-02-01T00:00:00Z'), periodEnd: t('2030-03-01T00:00:00Z') }), t('2030-02-01T00:00:00Z'), {
        current_period_end: Math.floor(t('2030-02-01T00:00:00Z').getTime() / 1000),
      }),
    );
    const target = targetPlan([seated(9, '2030-01-01T00:00:00Z'), seated(4, '2030-01-07T00:00:00Z', 9), renewed], plans, t('2030-02-05T00:00:00Z'), DAY);
    expect(target).toMatchObject({ current: { id: 'pro', limits: { maxActivations: 4 } }, pending: null, currentSince: t('2030-02-02T00:00:00Z') });
  });
});
