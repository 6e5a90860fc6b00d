/**
 * Fault: MongoDB stops in the middle of traffic and comes back (its own mongo-java-server on an
 * H2 file, so the other tests' MongoDB is untouched).
 *
 * Kept while it is down: validations of licenses in the cache answer as before, within the
 * cache's staleness bound (CACHE_MAX_STALE_MS, 60 s here, refresh-ahead off); the process
 * keeps serving; everything acknowledged before the outage.
 * Degrades: an uncached validation answers 503 DATASTORE_UNAVAILABLE with Retry-After after the
 * bounded server-selection time (1.5 s here, 5 s by default) instead of hanging; admin writes
 * answer 503 and change nothing; the Stripe webhook answers non-2xx (Stripe retries it);
 * /readyz answers 503 naming `mongo`.
 * Back: /readyz is ready again, the queued billing job and the e-mail waiting in the outbox
 * retry and complete exactly once, and every route works, without restarting Keyward.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { BILLING_QUEUE } from '../../lib/billing/billing-jobs.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { createAdminToken } from '../../server/auth/admin-auth.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG } from '../../server/config.js';
import { serverWiring } from '../../server/main.js';
import { DEFAULT_BILLING_CONFIG } from '../../worker/billing/billing-config.js';
import { billingModule } from '../../worker/billing/billing-module.js';
import { DEFAULT_MAIL_CONFIG } from '../../worker/mail/mail-config.js';
import { mailModule } from '../../worker/mail/mail-module.js';
import { redisUrl, uniqueName } from '../setup/services.js';
import { startTestServer } from '../support/server-fixture.js';
import { startSmtpServer } from '../support/smtp-test-server.js';
import { BILLING_TEST_PLANS, newStripeIds, postWebhook, PRICES, subscriptionEvent, TEST_WEBHOOK_SECRET } from '../support/stripe-events.js';
import { startTestWorker } from '../support/worker-fixture.js';
import { ownMongo, until } from './own-services.js';

describe('fault: MongoDB stopped mid-traffic and started again', () => {
  it('keeps cached validations, fails the rest cleanly and in bounded time, and recovers everything once it is back', { timeout: 180_000 }, async () => {
    const mongo = await ownMongo();
    const smtp = await startSmtpServer({ down: true });
    const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
    const queuePrefix = uniqueName('q');
    const server = await startTestServer(
      {
        mongoUrl: mongo.url,
        plans,
        queuePrefix,
        cache: { maxStaleMs: 60_000, maxEntries: 1_000, refreshAheadMs: 0 },
        stripe: { ...DEFAULT_STRIPE_WEBHOOK_CONFIG, webhookSecret: TEST_WEBHOOK_SECRET, jobAttempts: 30, jobBackoffMs: 100 },
      },
      serverWiring,
    );
    await startTestWorker(
      {
        mongoUrl: mongo.url,
        mongoDb: server.config.mongoDb,
        plans,
        queuePrefix,
        billing: { ...DEFAULT_BILLING_CONFIG, jobAttempts: 30, jobBackoffMs: 100 },
        mail: { ...DEFAULT_MAIL_CONFIG, smtpUrl: smtp.url, retry: { maxAttempts: 30, baseDelayMs: 100, maxDelayMs: 400 }, sweepIntervalMs: 100, leaseMs: 5_000 },
      },
      [billingModule, mailModule],
      { dropDatabase: false },
    );
    const client = await new MongoClient(mongo.url).connect();
    onTestFinished(() => client.close());
    const db = client.db(server.config.mongoDb);
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'ops', scope: 'write' }, new Date());
    const admin = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
      return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
    };
    const validate = (key: string) => server.post('/v1/licenses/validate', { key });

    // Before: a license in the cache, one never validated, an e-mail waiting for SMTP, a billing job queued.
    const created = await admin('POST', '/v1/admin/licenses', { planId: 'pro', count: 2, email: 'ada@example.com' });
    expect(created.status).toBe(201);
    const [cached, uncached] = created.body['licenses'] as Array<{ id: string; key: string }>;
    if (!cached || !uncached) throw new Error('licenses not created');
    const before = await validate(cached.key);
    expect(before.status).toBe(200);
    const auditBefore = (await admin('GET', `/v1/admin/licenses/${cached.id}/audit`)).body['data'] as unknown[];

    const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    onTestFinished(() => void connection.disconnect());
    const billingQueue = new Queue(BILLING_QUEUE, { connection, prefix: queuePrefix });
    onTestFinished(() => billingQueue.close());
    await billingQueue.pause();
    const ids = newStripeIds();
    const event = subscriptionEvent('created', { id: ids.subscription, customer: ids.customer, price: PRICES.pro, status: 'active', periodStart: new Date(), periodEnd: new Date(Date.now() + 30 * 86_400_000) }, new Date());
    expect((await postWebhook(server.url, event)).status).toBe(200);

    // The outage.
    await mongo.stop();
    await billingQueue.resume();

    const cachedAnswer = await validate(cached.key);
    expect(cachedAnswer.status).toBe(200);
    expect(cachedAnswer.body['code']).toBe(before.body['code']);

    const uncachedAnswer = await validate(uncached.key);
    expect(uncachedAnswer.status).toBe(503);
    expect(uncachedAnswer.body).toMatchObject({ error: { code: 'DATASTORE_UNAVAILABLE' } });
    expect(uncachedAnswer.headers.get('retry-after')).toBe('1');

    const suspend = await admin('POST', `/v1/admin/licenses/${cached.id}/suspend`, { reason: 'abuse_hold' });
    expect(suspend.status).toBe(503);
    expect(suspend.body).toMatchObject({ error: { code: 'DATASTORE_UNAVAILABLE' } });

    expect((await postWebhook(server.url, subscriptionEvent('updated', { id: ids.subscription, customer: ids.customer, price: PRICES.pro, status: 'active', periodStart: new Date(), periodEnd: new Date(Date.now() + 60 * 86_400_000) }, new Date()))).status).toBeGreaterThanOrEqual(500);

    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'unavailable', failed: ['mongo'] });

    // Back.
    await smtp.start();
    await mongo.start();
    await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 'readiness');

    // The queued billing job retried through the outage and completed: one license for the subscription.
    await until(async () => (await db.collection('stripe_events').findOne({ _id: event.id as never }))?.['status'] === 'processed', 'the billing job');
    expect(await db.collection('licenses').countDocuments({ stripeSubscriptionId: ids.subscription })).toBe(1);

    // The e-mails of the licenses created before the outage were sent once each.
    await smtp.waitFor(2);
    await until(async () => (await db.collection('email_outbox').countDocuments({ status: 'sent', to: 'ada@example.com' })) === 2, 'the outbox');
    expect(smtp.received.filter((mail) => mail.envelopeTo.includes('ada@example.com'))).toHaveLength(2);

    // Nothing half-written by the refused suspension; uncached validations and writes work again.
    const license = await admin('GET', `/v1/admin/licenses/${cached.id}`);
    expect(license.body).toMatchObject({ status: 'active' });
    expect((await admin('GET', `/v1/admin/licenses/${cached.id}/audit`)).body['data']).toHaveLength(auditBefore.length);
    expect((await validate(uncached.key)).status).toBe(200);
    expect((await admin('POST', `/v1/admin/licenses/${cached.id}/suspend`, { reason: 'abuse_hold' })).status).toBe(200);
    expect((await validate(cached.key)).body['code']).toBe('SUSPENDED');
  });
});
