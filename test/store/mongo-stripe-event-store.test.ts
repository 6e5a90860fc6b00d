/** The Stripe event store's batch insert against the real MongoDB-wire server. */
import { describe, expect, it } from 'vitest';

import { MongoStripeEventStore, type NewStripeEvent } from '../../lib/store/mongo-stripe-event-store.js';
import { withTestDatabase } from '../setup/services.js';

const event = (id: string): NewStripeEvent => ({ id, type: 'invoice.paid', created: new Date('2026-03-01T10:00:00.000Z'), livemode: false, body: `{"id":"${id}"}` });
const at = (iso: string): Date => new Date(iso);

describe('MongoStripeEventStore.insertMany', () => {
  it('stores each new event once with its own receipt time, and answers a known id (stored before or earlier in the batch) as a repeat', async () => {
    await withTestDatabase(async (db) => {
      const store = new MongoStripeEventStore({ db });
      await store.insert(event('evt_known'), at('2026-03-01T10:00:01.000Z'));
      const results = await store.insertMany([
        { event: event('evt_a'), now: at('2026-03-01T10:00:02.000Z') },
        { event: event('evt_known'), now: at('2026-03-01T10:00:02.001Z') },
        { event: event('evt_b'), now: at('2026-03-01T10:00:02.002Z') },
        { event: event('evt_a'), now: at('2026-03-01T10:00:02.003Z') },
      ]);
      expect(results).toEqual([
        { ok: true, created: true },
        { ok: true, created: false },
        { ok: true, created: true },
        { ok: true, created: false },
      ]);
      expect(await store.collection.countDocuments({})).toBe(3);
      expect((await store.get('evt_known'))?.receivedAt).toEqual(at('2026-03-01T10:00:01.000Z'));
      expect((await store.get('evt_b'))).toMatchObject({ status: 'received', attempts: 0, receivedAt: at('2026-03-01T10:00:02.002Z'), body: '{"id":"evt_b"}' });
    });
  });

  it('answers an empty batch without a round trip', async () => {
    await withTestDatabase(async (db) => {
      expect(await new MongoStripeEventStore({ db }).insertMany([])).toEqual([]);
    });
  });
});
