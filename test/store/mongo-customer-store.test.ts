/** The customer store's find-or-create against the real MongoDB-wire server. */
import { describe, expect, it } from 'vitest';

import { MongoCustomerStore } from '../../lib/store/mongo-customer-store.js';
import { withTestDatabase } from '../setup/services.js';

const t1 = new Date('2026-03-01T10:00:00.000Z');
const t2 = new Date('2026-03-02T10:00:00.000Z');

describe('MongoCustomerStore.findOrCreateByStripeId', () => {
  it('creates the customer of a new Stripe customer id, and finds the same one afterwards', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoCustomerStore({ db });
      await store.ensureIndexes();
      const created = await store.findOrCreateByStripeId('cus_stripe1', 'a@example.com', t1);
      expect(created).toMatchObject({ stripeCustomerId: 'cus_stripe1', email: 'a@example.com', createdAt: t1, updatedAt: t1 });
      expect(created._id).toMatch(/^cus_/);
      expect(await store.findOrCreateByStripeId('cus_stripe1', null, t2)).toEqual(created);
      expect(await store.collection.countDocuments({})).toBe(1);
    });
  });

  it('replaces a missing or different e-mail with a known one, and keeps it when none is given', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoCustomerStore({ db });
      await store.ensureIndexes();
      const created = await store.findOrCreateByStripeId('cus_stripe2', null, t1);
      expect(await store.findOrCreateByStripeId('cus_stripe2', 'b@example.com', t2)).toMatchObject({ _id: created._id, email: 'b@example.com', updatedAt: t2 });
      expect(await store.get(created._id)).toMatchObject({ email: 'b@example.com', createdAt: t1, updatedAt: t2 });
      expect(await store.findOrCreateByStripeId('cus_stripe2', null, t2)).toMatchObject({ email: 'b@example.com' });
    });
  });

  it('converges on one customer when many jobs ask at once', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoCustomerStore({ db });
      await store.ensureIndexes();
      const found = await Promise.all(Array.from({ length: 8 }, () => store.findOrCreateByStripeId('cus_stripe3', 'c@example.com', t1)));
      expect(new Set(found.map((customer) => customer._id)).size).toBe(1);
      expect(await store.collection.countDocuments({ stripeCustomerId: 'cus_stripe3' })).toBe(1);
    });
  });
});
