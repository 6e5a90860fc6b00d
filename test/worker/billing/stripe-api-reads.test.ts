/**
 * When an event's payload is not enough, the worker reads the current object from the Stripe
 * API with the `stripe` library; here against stripe-mock, whose fixed fixtures the assertions
 * read back through the same library.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';

import { MongoSubscriptionStateStore } from '../../../lib/store/mongo-subscription-state-store.js';
import { stripeApiOf } from '../../../worker/billing/billing-config.js';
import { startBillingSystem } from '../../support/billing-fixture.js';
import { chargeRefunded, checkoutCompleted, invoicePaymentPaid, PRICES, subscriptionEvent, subscriptionObject } from '../../support/stripe-events.js';
import { startStripeStandIn } from '../../support/stripe-standin.js';
import { subscriptionStory } from '../../support/subscription-story.js';
import { stripeMockUrl } from '../../setup/services.js';

const API_KEY = 'sk_test_keyward';
const stripeMock = () => {
  const { hostname, port } = new URL(stripeMockUrl());
  return new Stripe(API_KEY, { host: hostname, port: Number(port), protocol: 'http' });
};
const withStripeMock = () => startBillingSystem({ billing: { stripeApi: stripeApiOf(API_KEY, stripeMockUrl()) } });

describe('Stripe API reads (stripe-mock)', () => {
  it('reads the subscription Checkout names when no subscription event was seen, and decides from what it returned', async () => {
    const billing = await withStripeMock();
    const subscriptionId = 'sub_from_checkout_only';
    const event = checkoutCompleted({ subscription: subscriptionId, customer: 'cus_checkout', email: 'buyer@example.com' }, new Date());
    const applied = await billing.apply(event);

    const fetched = await stripeMock().subscriptions.retrieve(subscriptionId);
    const item = fetched.items.data[0]!;
    const state = await new MongoSubscriptionStateStore({ db: billing.db }).get(subscriptionId);
    expect(state?.snapshots.map((fact) => fact.ref)).toEqual(['api']);
    expect(state?.snapshots[0]?.snapshot).toEqual({
      subscriptionId,
      stripeCustomerId: fetched.customer,
      status: fetched.status,
      items: fetched.items.data.map((i) => ({ priceId: i.price.id, quantity: i.quantity ?? 1 })),
      currentPeriodStart: new Date(Math.max(...fetched.items.data.map((i) => i.current_period_start)) * 1000),
      currentPeriodEnd: new Date(Math.max(...fetched.items.data.map((i) => i.current_period_end)) * 1000),
      cancelAtPeriodEnd: fetched.cancel_at_period_end,
      trialEnd: fetched.trial_end === null ? null : new Date(fetched.trial_end * 1000),
      defaultPaymentMethod: null,
    });
    // stripe-mock's subscription period ended long ago: there is nothing to provision.
    expect(item.current_period_end * 1000).toBeLessThan(Date.now());
    expect(applied).toMatchObject({ status: 'processed', outcome: 'PERIOD_OVER' });
    expect(await billing.license(subscriptionId)).toBeNull();
  });

  it('reports a new trial with the card fingerprint of its payment method', async () => {
    const billing = await withStripeMock();
    const story = subscriptionStory();
    for (const event of story.trialCheckout(PRICES.basic)) await billing.apply(event);
    const method = await stripeMock().paymentMethods.retrieve('pm_card_visa');
    expect(method.card?.fingerprint).toEqual(expect.any(String));
    expect(billing.trials.at(-1)).toMatchObject({ stripeSubscriptionId: story.ids.subscription, cardFingerprint: method.card?.fingerprint, email: story.ids.email });
  });

  it('links a refunded charge it has not seen through the invoice the API returns', async () => {
    const billing = await withStripeMock();
    const refund = chargeRefunded({ charge: 'ch_unseen', invoice: 'in_unseen', customer: 'cus_x' }, new Date());
    const applied = await billing.apply(refund);
    const invoice = await stripeMock().invoices.retrieve('in_unseen');
    const subscriptionId = invoice.parent?.subscription_details?.subscription;
    expect(typeof subscriptionId).toBe('string');
    expect(applied).toMatchObject({ error: null, status: 'processed', subscriptionId });
  });

  it('links a refunded charge of a newer API version through the invoice payment of its payment intent', async () => {
    const billing = await withStripeMock();
    const refund = chargeRefunded({ charge: 'ch_unseen_new', invoice: null, paymentIntent: 'pi_unseen', customer: 'cus_x' }, new Date());
    const applied = await billing.apply(refund);
    const payments = await stripeMock().invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: 'pi_unseen' }, limit: 1 });
    const invoiceId = payments.data[0]?.invoice;
    const invoice = await stripeMock().invoices.retrieve(typeof invoiceId === 'string' ? invoiceId : (invoiceId?.id ?? ''));
    expect(applied).toMatchObject({ error: null, status: 'processed', subscriptionId: invoice.parent?.subscription_details?.subscription });
  });

  it('without an API key, waits for the subscription event instead of reading', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const [created, checkout] = story.trialCheckout(PRICES.basic);
    await billing.send(checkout!);
    await billing.settled(checkout!.id, ['retrying', 'processed', 'failed']);
    await billing.apply(created!);
    expect(await billing.settled(checkout!.id)).toMatchObject({ status: 'processed' });
    expect((await billing.license(story.ids.subscription))?.license.planId).toBe('basic');
  });
});

describe('events billing cannot apply are recorded, not crashed on', () => {
  it('a subscription on a price no plan has fails at once as UNKNOWN_PRICE', async () => {
    const billing = await startBillingSystem();
    const story = subscriptionStory();
    const event = subscriptionEvent('created', { id: story.ids.subscription, customer: story.ids.customer, price: 'price_not_in_catalogue', status: 'active', periodStart: story.at(0), periodEnd: story.at(30) }, new Date());
    expect(await billing.apply(event)).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'UNKNOWN_PRICE' } });
  });
});

describe('Stripe API reads (a stateful stand-in, where stripe-mock’s placeholders cannot show it)', () => {
  const withStandIn = async () => {
    const standIn = await startStripeStandIn();
    const billing = await startBillingSystem({ billing: { stripeApi: stripeApiOf(API_KEY, standIn.url) } });
    return { standIn, billing };
  };

  it('settles two snapshots of one second that nothing orders by reading the subscription as it is now', async () => {
    const { standIn, billing } = await withStandIn();
    const story = subscriptionStory(undefined, { generation: 'current' });
    const second = story.at(0);
    const fields = { id: story.ids.subscription, customer: story.ids.customer, price: PRICES.pro, status: 'active' as const, periodStart: second, periodEnd: story.at(30), generation: 'current' as const };
    standIn.objects.set(story.ids.subscription, subscriptionObject({ ...fields, cancelAtPeriodEnd: true }));
    // The same second, the same status, no previous_attributes: only Stripe knows which is current.
    const kept = subscriptionEvent('updated', { ...fields, cancelAtPeriodEnd: false }, second);
    const cancelled = subscriptionEvent('updated', { ...fields, cancelAtPeriodEnd: true }, second);
    await billing.apply(kept);
    expect(standIn.requests).not.toContain(`GET /v1/subscriptions/${story.ids.subscription}`);
    await billing.apply(cancelled);
    expect(standIn.requests).toContain(`GET /v1/subscriptions/${story.ids.subscription}`);
    expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ status: 'active', planId: 'pro', cancelAtPeriodEnd: true });
  });

  it('links a refund of API 2025-03-31 or later through the invoice payment of its payment intent when no invoice_payment.paid was seen', async () => {
    const { standIn, billing } = await withStandIn();
    const story = subscriptionStory(undefined, { generation: 'current' });
    const checkout = story.paidCheckout(PRICES.basic);
    // Deliver everything but invoice_payment.paid: the payloads alone cannot link the charge.
    for (const event of checkout.events.filter((e) => e.type !== 'invoice_payment.paid')) await billing.apply(event);
    const invoice = checkout.events.find((e) => e.type === 'invoice.paid')!.data.object;
    standIn.objects.set(String(invoice['id']), invoice);
    standIn.invoicePayments.set(checkout.payment.paymentIntent, invoicePaymentPaid({ invoice: String(invoice['id']), paymentIntent: checkout.payment.paymentIntent }, story.at(0)).data.object);
    const [refund] = story.refund(checkout.payment);
    expect(refund!.data.object).not.toHaveProperty('invoice');
    standIn.objects.set(checkout.payment.charge, refund!.data.object);
    expect(await billing.apply(refund!)).toMatchObject({ status: 'processed', error: null, subscriptionId: story.ids.subscription });
    expect(standIn.requests).toEqual(expect.arrayContaining([`GET /v1/charges/${checkout.payment.charge}`, 'GET /v1/invoice_payments', `GET /v1/invoices/${String(invoice['id'])}`]));
    expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ status: 'revoked', revocation: { reason: 'refund' } });
  });
});

describe('without an API key', () => {
  it('links a refund and a dispute of API 2025-03-31 or later through invoice_payment.paid, in either order', async () => {
    const billing = await startBillingSystem({ billing: { jobAttempts: 12 }, webhook: { jobAttempts: 12 } });
    for (const refundFirst of [true, false]) {
      const story = subscriptionStory(undefined, { generation: 'current' });
      const checkout = story.paidCheckout(PRICES.basic);
      const link = checkout.events.find((e) => e.type === 'invoice_payment.paid')!;
      const [dispute] = story.dispute(checkout.payment);
      const rest = checkout.events.filter((e) => e !== link);
      for (const event of rest) await billing.apply(event);
      if (refundFirst) await billing.send(dispute!);
      await billing.apply(link);
      if (!refundFirst) await billing.send(dispute!);
      expect(await billing.settled(dispute!.id)).toMatchObject({ status: 'processed', error: null, subscriptionId: story.ids.subscription });
      expect((await billing.license(story.ids.subscription))?.license).toMatchObject({ status: 'suspended', suspension: { reason: 'dispute' } });
    }
  });
});
