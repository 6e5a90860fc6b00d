import { describe, expect, it } from 'vitest';

import type { EmailRequest } from '../../lib/mail/email-request.js';
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { withTestDatabase } from '../setup/services.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const REQUEST: EmailRequest = {
  kind: 'key_delivery',
  to: 'ada@example.com',
  licenseId: 'lic_1',
  customerId: 'cus_1',
  dedupeKey: 'key_delivery:sub_1',
  data: { planName: 'Pro' },
};

describe('MongoEmailOutbox', () => {
  it('stores a request as a pending e-mail and wakes the sender once', async () => {
    await withTestDatabase(async (db) => {
      const woken: string[] = [];
      const outbox = new MongoEmailOutbox({ db, onEnqueued: (id) => void woken.push(id) });
      const first = await outbox.enqueue(REQUEST, NOW);
      expect(first.created).toBe(true);
      expect(await outbox.get(first.id)).toMatchObject({ status: 'pending', attempts: 0, to: 'ada@example.com', nextAttemptAt: NOW, data: { planName: 'Pro' } });
      expect(woken).toEqual([first.id]);
    });
  });

  it('queues a repeated dedupe key once, even when the requests race', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      const results = await Promise.all(Array.from({ length: 10 }, () => outbox.enqueue(REQUEST, NOW)));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.id)).size).toBe(1);
      expect(await outbox.collection.countDocuments()).toBe(1);
    });
  });
});
