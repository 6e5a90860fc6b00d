/** Reading Stripe events built from Stripe's fixture objects in both API generations; ignored types; malformed payloads. */
import { describe, expect, it } from 'vitest';

import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';
import {
  chargeRefunded,
  checkoutCompleted,
  disputeCreated,
  invoiceEvent,
  invoicePaymentPaid,
  PRICES,
  subscriptionEvent,
  type ApiGeneration,
} from '../support/stripe-events.js';

const envelope = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', type, created: 1_900_000_000, data: { object } });

describe('normalizeStripeEvent', () => {
  const t = (iso: string) => new Date(iso);
  const fields = (generation: ApiGeneration) => ({
    id: 'sub_1',
    customer: 'cus_1',
    price: PRICES.pro,
    items: [{ price: PRICES.seats, quantity: 4 }, { price: PRICES.pro, quantity: 1 }],
    status: 'active' as const,
    periodStart: t('2030-01-01T00:00:00Z'),
    periodEnd: t('2030-02-01T00:00:00Z'),
    cancelAtPeriodEnd: true,
    generation,
  });

  it('reads the items\' quantities of previous_attributes when every item states one (they order seat changes of one second)', () => {
    const previous = (data: unknown[]) => {
      const normalized = normalizeStripeEvent(subscriptionEvent('updated', fields('current'), t('2030-01-05T00:00:00Z'), { items: { object: 'list', data } }));
      return normalized.ok && normalized.event.type === 'subscription_changed' ? normalized.event.previous : undefined;
    };
    expect(previous([{ price: { id: PRICES.seats }, quantity: 4 }, { price: { id: PRICES.proPerSeat }, quantity: 7 }])).toEqual({ priceIds: [PRICES.seats, PRICES.proPerSeat], quantities: [4, 7] });
    expect(previous([{ price: { id: PRICES.seats }, quantity: 4 }, { price: { id: PRICES.proPerSeat } }])).toEqual({ priceIds: [PRICES.seats, PRICES.proPerSeat] });
  });

  it.each(['legacy', 'current'] as const)('reads a fixture subscription of the %s API generation: every item, the period, previous_attributes', (generation) => {
    const raw = subscriptionEvent('updated', fields(generation), t('2030-01-05T00:00:00Z'), { status: 'incomplete', cancel_at_period_end: false, items: { data: [{ price: { id: PRICES.basic } }] } });
    expect(normalizeStripeEvent(raw)).toEqual({
      ok: true,
      event: {
        type: 'subscription_changed',
        eventId: raw.id,
        created: t('2030-01-05T00:00:00Z'),
        deleted: false,
        previous: { status: 'incomplete', cancelAtPeriodEnd: false, priceIds: [PRICES.basic] },
        snapshot: {
          subscriptionId: 'sub_1',
          stripeCustomerId: 'cus_1',
          status: 'active',
          items: [
            { priceId: PRICES.seats, quantity: 4 },
            { priceId: PRICES.pro, quantity: 1 },
          ],
          currentPeriodStart: t('2030-01-01T00:00:00Z'),
          currentPeriodEnd: t('2030-02-01T00:00:00Z'),
          cancelAtPeriodEnd: true,
          trialEnd: null,
          defaultPaymentMethod: null,
        },
      },
    });
  });

  it.each(['legacy', 'current'] as const)('reads a fixture invoice of the %s API generation: its subscription, payment and period', (generation) => {
    const raw = invoiceEvent(
      'paid',
      { id: 'in_1', subscription: 'sub_1', customer: 'cus_1', email: 'a@example.com', charge: 'ch_1', paymentIntent: 'pi_1', price: PRICES.pro, periodStart: t('2030-01-01T00:00:00Z'), periodEnd: t('2030-02-01T00:00:00Z'), generation },
      t('2030-01-01T00:00:00Z'),
    );
    const links = generation === 'legacy' ? { chargeId: 'ch_1', paymentIntentId: 'pi_1' } : { chargeId: null, paymentIntentId: null };
    expect(normalizeStripeEvent(raw)).toMatchObject({ ok: true, event: { type: 'invoice_paid', subscriptionId: 'sub_1', invoiceId: 'in_1', email: 'a@example.com', periodEndsAt: t('2030-02-01T00:00:00Z'), ...links } });
  });

  it('reads invoice_payment.paid: the invoice and the payment intent that paid it (API from 2025-03-31)', () => {
    const raw = invoicePaymentPaid({ invoice: 'in_1', paymentIntent: 'pi_1' }, t('2030-01-01T00:00:00Z'));
    expect(normalizeStripeEvent(raw)).toMatchObject({ ok: true, event: { type: 'invoice_payment_paid', invoiceId: 'in_1', paymentIntentId: 'pi_1', chargeId: null } });
  });

  it('reads a refunded fixture charge with or without its invoice, and a dispute with its payment intent', () => {
    const legacy = chargeRefunded({ charge: 'ch_1', invoice: 'in_1', paymentIntent: 'pi_1', customer: 'cus_1' }, t('2030-01-01T00:00:00Z'));
    const current = chargeRefunded({ charge: 'ch_1', invoice: null, paymentIntent: 'pi_1', customer: 'cus_1' }, t('2030-01-01T00:00:00Z'));
    expect(normalizeStripeEvent(legacy)).toMatchObject({ ok: true, event: { type: 'charge_refunded', chargeId: 'ch_1', invoiceId: 'in_1', paymentIntentId: 'pi_1', fullyRefunded: true } });
    expect(normalizeStripeEvent(current)).toMatchObject({ ok: true, event: { type: 'charge_refunded', invoiceId: null, paymentIntentId: 'pi_1' } });
    const dispute = disputeCreated({ charge: 'ch_1', paymentIntent: 'pi_1' }, t('2030-01-01T00:00:00Z'));
    expect(normalizeStripeEvent(dispute)).toMatchObject({ ok: true, event: { type: 'dispute_created', chargeId: 'ch_1', paymentIntentId: 'pi_1', reason: 'fraudulent' } });
  });

  it('reads a fixture Checkout without a customer e-mail as one with `email: null`', () => {
    const raw = checkoutCompleted({ subscription: 'sub_1', customer: 'cus_1', email: null }, t('2030-01-01T00:00:00Z'));
    expect(normalizeStripeEvent(raw)).toMatchObject({ ok: true, event: { type: 'checkout_completed', subscriptionId: 'sub_1', email: null } });
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
