/**
 * Specification of the relay (events recorded on their source document → the outbox).
 * Invariants: an event pushed onto the source while the relay copies is never lost; a relay
 * run twice, or interrupted after copying, records each event once.
 */
import { describe, expect, it } from 'vitest';

import { MongoWebhookOutbox } from '../../lib/store/mongo-webhook-outbox.js';
import { MongoWebhookRelay } from '../../lib/store/mongo-webhook-relay.js';
import type { WebhookEvent } from '../../lib/webhooks/webhook-event.js';
import { withTestDatabase } from '../setup/services.js';

const event = (id: string): WebhookEvent => ({ id, type: 'license.renewed', occurredAt: new Date('2026-11-01T10:00:00Z'), data: { license: { id: 'lic_1' } } });

describe('MongoWebhookRelay', () => {
  it('keeps an event pushed while it copies, and relays it on the next run', async () => {
    await withTestDatabase(async (db) => {
      const licenses = db.collection<{ _id: string; pendingWebhookEvents?: WebhookEvent[] }>('licenses');
      await licenses.insertOne({ _id: 'lic_1', pendingWebhookEvents: [event('evt_a')] });
      const outbox = new MongoWebhookOutbox({ db });
      // A writer records a new change between the relay's read and its clean-up.
      const racing = Object.create(outbox) as MongoWebhookOutbox;
      racing.record = async (events, now) => {
        await outbox.record(events, now);
        await licenses.updateOne({ _id: 'lic_1' }, { $push: { pendingWebhookEvents: event('evt_b') } });
      };
      const now = new Date('2026-11-01T10:00:01Z');
      expect(await new MongoWebhookRelay({ db, outbox: racing, sources: ['licenses'] }).relay(now)).toBe(1);
      expect((await licenses.findOne({ _id: 'lic_1' }))?.pendingWebhookEvents?.map((pending) => pending.id)).toEqual(['evt_b']);

      const relay = new MongoWebhookRelay({ db, outbox, sources: ['licenses'] });
      expect(await relay.relay(now)).toBe(1);
      expect(await licenses.findOne({ _id: 'lic_1' })).toEqual({ _id: 'lic_1' });
      expect(await relay.relay(now)).toBe(0);
      expect((await outbox.pendingFanOut(10)).map((recorded) => recorded.id).sort()).toEqual(['evt_a', 'evt_b']);
    });
  });

  it('records an event once when the relay is interrupted after copying and runs again', async () => {
    await withTestDatabase(async (db) => {
      const licenses = db.collection<{ _id: string; pendingWebhookEvents?: WebhookEvent[] }>('licenses');
      await licenses.insertOne({ _id: 'lic_1', pendingWebhookEvents: [event('evt_a'), event('evt_b')] });
      const outbox = new MongoWebhookOutbox({ db });
      const crashing = Object.create(outbox) as MongoWebhookOutbox;
      crashing.record = async (events, now) => {
        await outbox.record(events, now);
        throw new Error('killed after copying');
      };
      const now = new Date('2026-11-01T10:00:01Z');
      await expect(new MongoWebhookRelay({ db, outbox: crashing, sources: ['licenses'] }).relay(now)).rejects.toThrow();
      await outbox.fanOut(event('evt_a'), ['whe_1'], now);
      expect(await new MongoWebhookRelay({ db, outbox, sources: ['licenses'] }).relay(now)).toBe(2);
      // evt_a was fanned out already: copying it again does not make it pending again.
      expect((await outbox.pendingFanOut(10)).map((recorded) => recorded.id)).toEqual(['evt_b']);
      expect(await db.collection('webhook_events').countDocuments()).toBe(2);
      expect(await licenses.findOne({ _id: 'lic_1' })).toEqual({ _id: 'lic_1' });
    });
  });
});
