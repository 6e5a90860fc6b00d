/**
 * The dead letters: an event that keeps failing ends `failed` (with its error and attempts, and
 * in BullMQ's failed set), is listed by GET /v1/admin/stripe/events?status=failed, and once the
 * cause is fixed, POST …/replay applies it. Events whose e-mail had no address are listed too.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { BILLING_QUEUE } from '../../../lib/billing/billing-jobs.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { startBillingSystem, type BillingSystem } from '../../support/billing-fixture.js';
import { PRICES } from '../../support/stripe-events.js';
import { subscriptionStory } from '../../support/subscription-story.js';
import { redisUrl } from '../../setup/services.js';

async function tokens(billing: BillingSystem) {
  const store = new MongoAdminTokenStore({ db: billing.db });
  const read = await createAdminToken(store, { name: 'reader', scope: 'read' }, new Date());
  const write = await createAdminToken(store, { name: 'operator', scope: 'write' }, new Date());
  return { read: read.token, write: write.token };
}

async function call(billing: BillingSystem, method: 'GET' | 'POST', path: string, token: string | null) {
  const response = await fetch(`${billing.server.url}${path}`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Stripe admin routes', () => {
  it('lists a dead-lettered event with its error and attempts, and replays it once its cause is fixed', async () => {
    const billing = await startBillingSystem({ billing: { jobAttempts: 3 }, webhook: { jobAttempts: 3 } });
    const { read, write } = await tokens(billing);
    const story = subscriptionStory();
    const checkout = story.paidCheckout(PRICES.basic);
    const [created, , invoicePaid] = checkout.events;
    await billing.apply(created!);
    // A refund whose charge no event has linked yet: retried, then dead-lettered.
    const [refund] = story.refund(checkout.charge);
    expect(await billing.apply(refund!)).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'CHARGE_NOT_LINKED' } });

    const listed = await call(billing, 'GET', '/v1/admin/stripe/events?status=failed', read);
    expect(listed).toMatchObject({ status: 200, body: { events: [{ id: refund!.id, type: 'charge.refunded', status: 'failed', attempts: 3, error: { code: 'CHARGE_NOT_LINKED' } }] } });

    const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(BILLING_QUEUE, { connection, prefix: billing.server.config.queuePrefix! });
    onTestFinished(async () => {
      await queue.close();
      await connection.quit();
    });
    // The event records `failed` just before BullMQ moves the job to its failed set.
    let failed: unknown[] = [];
    for (let attempt = 0; attempt < 250 && !failed.some((data) => (data as { eventId?: string }).eventId === refund!.id); attempt++) {
      failed = (await queue.getFailed()).map((job) => job.data as unknown);
      if (failed.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(failed).toContainEqual({ eventId: refund!.id });

    await billing.apply(invoicePaid!);
    expect(await call(billing, 'POST', `/v1/admin/stripe/events/${refund!.id}/replay`, read)).toMatchObject({ status: 403 });
    expect(await call(billing, 'POST', `/v1/admin/stripe/events/${refund!.id}/replay`, write)).toMatchObject({ status: 202, body: { replayed: true } });
    expect(await billing.settled(refund!.id, ['processed'])).toMatchObject({ status: 'processed', error: null });
    expect((await billing.license(story.ids.subscription))?.license.status).toBe('revoked');
  });

  it('lists the events whose e-mail had no address: a checkout without a customer e-mail still issues the key', async () => {
    const billing = await startBillingSystem();
    const { read } = await tokens(billing);
    const story = subscriptionStory(undefined, { email: null });
    const checkout = story.paidCheckout(PRICES.basic);
    for (const event of checkout.events) await billing.apply(event);
    expect((await billing.license(story.ids.subscription))?.license.status).toBe('active');
    const listed = await call(billing, 'GET', '/v1/admin/stripe/events?undelivered=true', read);
    expect(listed.status).toBe(200);
    const events = listed.body['events'] as Array<{ id: string; undeliveredEmails: string[]; subscriptionId: string }>;
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event).toMatchObject({ undeliveredEmails: ['key_delivery'], subscriptionId: story.ids.subscription });
    expect(events.map((event) => event.id)).toContain(checkout.events.at(-1)!.id);
  });

  it('needs an admin token, and answers 404 for an unknown event', async () => {
    const billing = await startBillingSystem({ worker: false });
    const { read } = await tokens(billing);
    expect(await call(billing, 'GET', '/v1/admin/stripe/events', null)).toMatchObject({ status: 401 });
    expect(await call(billing, 'GET', '/v1/admin/stripe/events/evt_nope', read)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await call(billing, 'GET', '/v1/admin/stripe/events?status=bogus', read)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
  });
});
