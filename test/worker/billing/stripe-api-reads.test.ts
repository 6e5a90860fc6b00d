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
import { chargeRefunded, checkoutCompleted, PRICES, subscriptionEvent } from '../../support/stripe-events.js';
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
