/** Reading Stripe events: both API shapes, ignored types, and malformed payloads. */
import { describe, expect, it } from 'vitest';

import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';

const envelope = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', type, created: 1_900_000_000, data: { object } });

describe('normalizeStripeEvent', () => {
  it('reads a subscription with its period end on the subscription (API before 2025-03-31)', () => {
    const result = normalizeStripeEvent(
      envelope('customer.subscription.updated', {
        id: 'sub_1',
        customer: 'cus_1',
        status: 'active',
        cancel_at_period_end: true,
        current_period_end: 1_900_100_000,
        trial_end: null,
        items: { data: [{ price: { id: 'price_a' } }] },
      }),
    );
    expect(result).toEqual({
      ok: true,
      event: {
        type: 'subscription_changed',
        eventId: 'evt_1',
        created: new Date(1_900_000_000_000),
        deleted: false,
        snapshot: { subscriptionId: 'sub_1', stripeCustomerId: 'cus_1', status: 'active', priceId: 'price_a', currentPeriodEnd: new Date(1_900_100_000_000), cancelAtPeriodEnd: true, trialEnd: null, defaultPaymentMethod: null },
      },
    });
  });

  it('reads the period end from the item and the invoice subscription from its parent (API from 2025-03-31)', () => {
    const subscription = normalizeStripeEvent(
      envelope('customer.subscription.deleted', { id: 'sub_1', customer: { id: 'cus_1' }, status: 'canceled', items: { data: [{ price: { id: 'price_a' }, current_period_end: 1_900_100_000 }] } }),
    );
    expect(subscription.ok && subscription.event).toMatchObject({ type: 'subscription_changed', deleted: true, snapshot: { stripeCustomerId: 'cus_1', currentPeriodEnd: new Date(1_900_100_000_000) } });
    const invoice = normalizeStripeEvent(
      envelope('invoice.paid', { id: 'in_1', parent: { subscription_details: { subscription: 'sub_1' } }, customer: 'cus_1', lines: { data: [{ period: { end: 1_900_100_000 } }, { period: { end: 1_900_200_000 } }] } }),
    );
    expect(invoice.ok && invoice.event).toMatchObject({ type: 'invoice_paid', subscriptionId: 'sub_1', chargeId: null, periodEndsAt: new Date(1_900_200_000_000) });
  });

  it.each([
    ['an unhandled type', envelope('customer.created', { id: 'cus_1' }), 'UNHANDLED_TYPE'],
    ['a one-off Checkout payment', envelope('checkout.session.completed', { mode: 'payment', subscription: null }), 'NOT_A_SUBSCRIPTION'],
    ['an invoice outside subscriptions', envelope('invoice.paid', { id: 'in_1' }), 'NOT_A_SUBSCRIPTION'],
  ])('ignores %s', (_name, raw, why) => {
    expect(normalizeStripeEvent(raw)).toMatchObject({ ok: true, event: { type: 'ignored', why } });
  });

  it('tells a full refund from a partial one', () => {
    const refund = (amountRefunded: number) => normalizeStripeEvent(envelope('charge.refunded', { id: 'ch_1', amount: 2000, amount_refunded: amountRefunded, invoice: 'in_1' }));
    expect(refund(2000)).toMatchObject({ ok: true, event: { type: 'charge_refunded', fullyRefunded: true, invoiceId: 'in_1' } });
    expect(refund(500)).toMatchObject({ ok: true, event: { fullyRefunded: false } });
  });

  it.each([
    ['not an object', 'hello'],
    ['an id that is not an event id', { ...envelope('invoice.paid', {}), id: 'in_1' }],
    ['a subscription without a status', envelope('customer.subscription.created', { id: 'sub_1' })],
    ['a dispute without a charge', envelope('charge.dispute.created', { id: 'dp_1' })],
  ])('calls %s MALFORMED_EVENT', (_name, raw) => {
    expect(normalizeStripeEvent(raw)).toMatchObject({ ok: false, code: 'MALFORMED_EVENT' });
  });
});
