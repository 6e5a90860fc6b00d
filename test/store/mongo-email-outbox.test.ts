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

const at = (iso: string) => new Date(iso);
const LEASE_MS = 60_000;

function request(n: number, overrides: Partial<EmailRequest> = {}): EmailRequest {
  return { ...REQUEST, dedupeKey: `key_delivery:sub_${n}`, licenseId: `lic_${n}`, ...overrides };
}

describe('MongoEmailOutbox claims', () => {
  it('claims the e-mail due longest, counts the attempt and hides it for the lease', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      await outbox.ensureIndexes();
      const later = await outbox.enqueue(request(1), at('2026-03-01T10:00:05Z'));
      const earlier = await outbox.enqueue(request(2), at('2026-03-01T10:00:00Z'));
      await outbox.enqueue(request(3), at('2026-03-01T11:00:00Z'));

      const now = at('2026-03-01T10:30:00Z');
      const first = await outbox.claimDue(now, LEASE_MS);
      expect(first?.email).toMatchObject({ _id: earlier.id, attempts: 1, nextAttemptAt: at('2026-03-01T10:31:00Z'), lastAttemptAt: now });
      expect((await outbox.claimDue(now, LEASE_MS))?.email._id).toBe(later.id);
      // The third is not due yet, and the claimed ones are leased.
      expect(await outbox.claimDue(now, LEASE_MS)).toBeNull();
    });
  });

  it('gives a lapsed lease to the next claim, and the first holder can no longer settle the e-mail', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      const { id } = await outbox.enqueue(request(1), NOW);
      const dead = await outbox.claimDue(NOW, LEASE_MS);
      const afterLease = new Date(NOW.getTime() + LEASE_MS);
      const next = await outbox.claimDue(afterLease, LEASE_MS);
      expect(next?.email).toMatchObject({ _id: id, attempts: 2 });
      expect(await outbox.markSent(dead!, afterLease)).toBe(false);
      expect(await outbox.markSent(next!, afterLease)).toBe(true);
      expect(await outbox.get(id)).toMatchObject({ status: 'sent', sentAt: afterLease, leaseId: null, attempts: 2 });
      // Settled once: a repeated settle changes nothing.
      expect(await outbox.markFailed(next!, afterLease, 'late')).toBe(false);
    });
  });

  it('never hands one e-mail to two of many racing claims', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      for (let n = 0; n < 20; n++) await outbox.enqueue(request(n), NOW);
      const claims = await Promise.all(Array.from({ length: 60 }, () => outbox.claimDue(NOW, LEASE_MS)));
      const ids = claims.filter((claim) => claim !== null).map((claim) => claim.email._id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });
  });

  it('puts a retried e-mail back at its next attempt time with the error, and a failed one out of the sender’s reach', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      const retried = await outbox.enqueue(request(1), NOW);
      const failed = await outbox.enqueue(request(2), NOW);
      const claimRetry = await outbox.claimDue(NOW, LEASE_MS);
      const claimFail = await outbox.claimDue(NOW, LEASE_MS);
      const next = at('2026-03-01T10:05:00Z');
      expect(await outbox.markRetry(claimRetry!, next, 'connect ECONNREFUSED')).toBe(true);
      expect(await outbox.markFailed(claimFail!, NOW, `550 ${'x'.repeat(1_000)}`)).toBe(true);
      expect(await outbox.get(retried.id)).toMatchObject({ status: 'pending', nextAttemptAt: next, lastError: 'connect ECONNREFUSED', leaseId: null });
      const gaveUp = await outbox.get(failed.id);
      expect(gaveUp).toMatchObject({ status: 'failed', failedAt: NOW });
      expect(gaveUp?.lastError).toHaveLength(500);
      expect(await outbox.claimDue(at('2026-03-01T10:04:59Z'), LEASE_MS)).toBeNull();
      const again = await outbox.claimDue(next, LEASE_MS);
      expect(again?.email).toMatchObject({ _id: retried.id, attempts: 2 });
      await outbox.markSent(again!, next);
      expect(await outbox.claimDue(at('2027-01-01T00:00:00Z'), LEASE_MS)).toBeNull();
    });
  });
});

describe('MongoEmailOutbox retryFailed', () => {
  it('puts a failed e-mail back in the queue with fresh attempts, and nothing else', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      const failed = await outbox.enqueue(request(1), NOW);
      const pending = await outbox.enqueue(request(2), at('2026-03-01T10:00:01Z'));
      await outbox.markFailed((await outbox.claimDue(NOW, LEASE_MS))!, NOW, 'EAUTH: 535 bad credentials');
      const later = at('2026-03-02T09:00:00Z');
      expect(await outbox.retryFailed(failed.id, later)).toMatchObject({ _id: failed.id, status: 'pending', attempts: 0, nextAttemptAt: later, failedAt: null });
      expect(await outbox.retryFailed(failed.id, later)).toBeNull();
      expect(await outbox.retryFailed(pending.id, later)).toBeNull();
      expect(await outbox.retryFailed('eml_000000000000000000000000', later)).toBeNull();
      expect((await outbox.claimDue(later, LEASE_MS))?.email._id).toBe(pending.id);
      expect((await outbox.claimDue(later, LEASE_MS))?.email).toMatchObject({ _id: failed.id, attempts: 1 });
    });
  });
});

describe('MongoEmailOutbox pruneSent', () => {
  it('deletes only e-mails sent before the cut-off', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      const old = await outbox.enqueue(request(1), NOW);
      const recent = await outbox.enqueue(request(2), at('2026-03-01T10:00:01Z'));
      const failed = await outbox.enqueue(request(3), at('2026-03-01T10:00:02Z'));
      const waiting = await outbox.enqueue(request(4), at('2026-06-01T10:00:00Z'));
      await outbox.markSent((await outbox.claimDue(NOW, LEASE_MS))!, at('2026-03-01T10:00:00Z'));
      await outbox.markSent((await outbox.claimDue(at('2026-03-01T10:00:01Z'), LEASE_MS))!, at('2026-05-01T00:00:00Z'));
      await outbox.markFailed((await outbox.claimDue(at('2026-03-01T10:00:02Z'), LEASE_MS))!, at('2026-03-01T10:00:02Z'), 'refused');
      expect(await outbox.pruneSent(at('2026-04-01T00:00:00Z'))).toBe(1);
      expect(await outbox.get(old.id)).toBeNull();
      for (const kept of [recent, failed, waiting]) expect(await outbox.get(kept.id)).not.toBeNull();
    });
  });
});

describe('MongoEmailOutbox listings', () => {
  it('lists newest first by status, license or customer, a page at a time', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      await outbox.ensureIndexes();
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        // Two e-mails per second: the cursor must tell equal creation times apart.
        ids.push((await outbox.enqueue(request(n, { licenseId: n % 2 === 0 ? 'lic_even' : 'lic_odd' }), at(`2026-03-01T10:00:0${Math.floor(n / 2)}Z`))).id);
      }
      await outbox.markFailed((await outbox.claimDue(at('2026-03-01T10:00:00Z'), LEASE_MS))!, NOW, 'refused');

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await outbox.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        expect(page.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.data.map((email) => email._id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(seen).toHaveLength(5);
      expect(new Set(seen)).toEqual(new Set(ids));
      const created = await Promise.all(seen.map(async (id) => (await outbox.get(id))!.createdAt.getTime()));
      expect(created).toEqual([...created].sort((a, b) => b - a));

      expect((await outbox.list({ limit: 10, licenseId: 'lic_even' })).data.map((email) => email.licenseId)).toEqual(['lic_even', 'lic_even', 'lic_even']);
      expect((await outbox.list({ limit: 10, status: 'failed' })).data).toHaveLength(1);
      expect((await outbox.list({ limit: 10, status: 'pending', customerId: 'cus_1' })).data).toHaveLength(4);
      expect((await outbox.list({ limit: 10, customerId: 'cus_other' })).data).toHaveLength(0);
    });
  });

  it('finds the address of the latest e-mail of a kind about a license', async () => {
    await withTestDatabase(async (db) => {
      const outbox = new MongoEmailOutbox({ db });
      await outbox.enqueue(request(1, { licenseId: 'lic_a', to: 'old@example.com' }), at('2026-03-01T10:00:00Z'));
      await outbox.enqueue(request(2, { licenseId: 'lic_a', to: 'new@example.com' }), at('2026-03-02T10:00:00Z'));
      await outbox.enqueue(request(3, { licenseId: 'lic_a', to: 'billing@example.com', kind: 'payment_failed' }), at('2026-03-03T10:00:00Z'));
      expect((await outbox.latest('lic_a', 'key_delivery'))?.to).toBe('new@example.com');
      expect(await outbox.latest('lic_b', 'key_delivery')).toBeNull();
    });
  });
});
