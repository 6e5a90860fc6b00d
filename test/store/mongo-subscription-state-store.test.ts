/**
 * Subscription states on the MongoDB-wire server: each snapshot is kept once per event id,
 * whatever the repeats and races; the newest API read is kept beside them; payments link their
 * subscription by charge, payment intent and invoice.
 */
import { describe, expect, it } from 'vitest';

import type { SubscriptionChanged } from '../../lib/billing/billing-event.js';
import { normalizeStripeEvent } from '../../lib/billing/normalize-stripe-event.js';
import { MongoSubscriptionStateStore } from '../../lib/store/mongo-subscription-state-store.js';
import { withTestDatabase } from '../setup/services.js';
import { invoiceEvent, invoicePaymentPaid, PRICES, subscriptionEvent } from '../support/stripe-events.js';

const t = (iso: string) => new Date(iso);
const NOW = t('2030-01-10T00:00:00Z');

function snapshotEvent(second: string, cancel: boolean): SubscriptionChanged {
  const raw = subscriptionEvent(
    'updated',
    { id: 'sub_store', customer: 'cus_store', price: PRICES.pro, status: 'active', periodStart: t('2030-01-01T00:00:00Z'), periodEnd: t('2030-02-01T00:00:00Z'), cancelAtPeriodEnd: cancel, generation: 'current' },
    t(second),
  );
  const normalized = normalizeStripeEvent(raw);
  if (!normalized.ok || normalized.event.type !== 'subscription_changed') throw new Error('not a snapshot');
  return normalized.event;
}

describe('MongoSubscriptionStateStore', () => {
  it('keeps each snapshot once per event id, through repeats and concurrent first folds', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoSubscriptionStateStore({ db });
      await store.ensureIndexes();
      const events = Array.from({ length: 8 }, (_, i) => snapshotEvent(`2030-01-0${1 + (i % 3)}T00:00:0${i}Z`, i % 2 === 0));
      // Every event three times, all at once, on a subscription not stored yet.
      await Promise.all([...events, ...events, ...events].map((event) => store.fold('sub_store', event, NOW)));
      const state = await store.get('sub_store');
      expect(state?.snapshots.map((fact) => fact.ref).sort()).toEqual(events.map((event) => event.eventId).sort());
      expect(state?.stripeCustomerId).toBe('cus_store');
    });
  });

  it('keeps only the newest API read, beside the event snapshots', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoSubscriptionStateStore({ db });
      const event = snapshotEvent('2030-01-01T00:00:00Z', false);
      await store.fold('sub_store', event, NOW);
      const read = (cancel: boolean) => ({ ...event.snapshot, cancelAtPeriodEnd: cancel });
      await store.foldApiSnapshot(read(true), t('2030-01-05T00:00:00Z'), NOW);
      await store.foldApiSnapshot(read(false), t('2030-01-03T00:00:00Z'), NOW);
      const state = await store.get('sub_store');
      expect(state?.snapshots.map((fact) => [fact.ref, fact.at, fact.snapshot.cancelAtPeriodEnd])).toEqual([
        [event.eventId, t('2030-01-01T00:00:00Z'), false],
        ['api', t('2030-01-05T00:00:00Z'), true],
      ]);
    });
  });

  it('links a payment to its subscription by charge and payment intent (legacy invoice) or invoice payment (current)', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoSubscriptionStateStore({ db });
      await store.ensureIndexes();
      const invoice = (generation: 'legacy' | 'current', id: string, subscription: string) => {
        const raw = invoiceEvent('paid', { id, subscription, customer: 'cus_store', email: null, charge: `ch_${id}`, paymentIntent: `pi_${id}`, price: PRICES.pro, periodStart: t('2030-01-01T00:00:00Z'), periodEnd: t('2030-02-01T00:00:00Z'), generation }, NOW);
        const normalized = normalizeStripeEvent(raw);
        if (!normalized.ok || normalized.event.type === 'ignored') throw new Error('not an invoice');
        return normalized.event;
      };
      await store.fold('sub_old', invoice('legacy', 'in_old', 'sub_old'), NOW);
      await store.fold('sub_new', invoice('current', 'in_new', 'sub_new'), NOW);
      expect([await store.subscriptionOfCharge('ch_in_old'), await store.subscriptionOfPaymentIntent('pi_in_old')]).toEqual(['sub_old', 'sub_old']);
      // The current generation's invoice names no payment: invoice_payment.paid does.
      expect(await store.subscriptionOfPaymentIntent('pi_in_new')).toBeNull();
      const payment = normalizeStripeEvent(invoicePaymentPaid({ invoice: 'in_new', paymentIntent: 'pi_in_new' }, NOW));
      if (!payment.ok || payment.event.type !== 'invoice_payment_paid') throw new Error('not an invoice payment');
      expect(await store.subscriptionOfInvoice('in_new')).toBe('sub_new');
      await store.fold('sub_new', payment.event, NOW);
      expect(await store.subscriptionOfPaymentIntent('pi_in_new')).toBe('sub_new');
    });
  });
});
