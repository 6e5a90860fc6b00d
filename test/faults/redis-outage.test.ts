/**
 * Fault: Redis stops in the middle of traffic and comes back (its own redis-server with an
 * append-only file, so the other tests' Redis is untouched), without a restart of Keyward.
 *
 * Kept while it is down: every validation answers (cached or read from MongoDB: Redis is never
 * on the answer's path); per-IP and per-key limits keep counting in each process (open across
 * instances) and each failed sync is counted in `keyward_rate_limit_sync_failures_total`; the
 * admin API; the event sink buffers up to its bound and drops beyond it (counted), never
 * blocking a request.
 * Degrades: validation events of the outage beyond the buffer are dropped (counted);
 * cross-instance rate limits and cache invalidations wait for Redis.
 * Back: events are appended again, the abuse stream consumers read them to the end, the BullMQ
 * billing worker runs a new job, and rate-limit counts reach Redis again.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { allStreamKeys } from '../../lib/events/stream-partition.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG } from '../../server/config.js';
import { serverWiring } from '../../server/main.js';
import { createAbuseDetectorModule } from '../../worker/abuse/abuse-detector-module.js';
import { DEFAULT_CONSUMER_GROUP } from '../../worker/abuse/stream-consumer.js';
import { readStreamLag } from '../../worker/abuse/stream-lag.js';
import { DEFAULT_BILLING_CONFIG } from '../../worker/billing/billing-config.js';
import { billingModule } from '../../worker/billing/billing-module.js';
import { casesModule } from '../../worker/cases/cases-module.js';
import { issueLicense } from '../support/licenses.js';
import { startTestServer } from '../support/server-fixture.js';
import { BILLING_TEST_PLANS, newStripeIds, postWebhook, PRICES, subscriptionEvent, TEST_WEBHOOK_SECRET } from '../support/stripe-events.js';
import { startTestWorker } from '../support/worker-fixture.js';
import { ownRedis, until } from './own-services.js';

/** The value of a counter in the Prometheus text of /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

describe('fault: Redis stopped mid-traffic and started again', () => {
  it('keeps answering, fails open on limits (counted), and every Redis user recovers on its own', { timeout: 180_000 }, async () => {
    const redis = await ownRedis();
    const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
    const server = await startTestServer(
      {
        redisUrl: redis.url,
        plans,
        rateLimits: { perIpPerMinute: 1_000, perKeyPerMinute: 1_000 },
        stripe: { ...DEFAULT_STRIPE_WEBHOOK_CONFIG, webhookSecret: TEST_WEBHOOK_SECRET, jobAttempts: 10, jobBackoffMs: 100 },
      },
      serverWiring,
    );
    const { streamPrefix, partitions } = server.config.events;
    await startTestWorker(
      {
        redisUrl: redis.url,
        mongoDb: server.config.mongoDb,
        events: { streamPrefix, partitions },
        queuePrefix: server.config.queuePrefix,
        plans,
        billing: { ...DEFAULT_BILLING_CONFIG, jobAttempts: 10, jobBackoffMs: 100 },
      },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 }), billingModule],
      { dropDatabase: false },
    );
    const license = await issueLicense(server.server, { planId: 'pro' });
    const fresh = await issueLicense(server.server, { planId: 'pro' });
    const validate = (key: string, ip: string) => server.post('/v1/licenses/validate', { key }, { 'x-forwarded-for': ip });
    expect((await validate(license.key, '198.51.100.1')).status).toBe(200);

    await redis.stop();

    // Every validation answers, cached or not; the limits go on counting here.
    for (let i = 0; i < 20; i++) expect((await validate(i % 2 === 0 ? license.key : fresh.key, '198.51.100.2')).status).toBe(200);
    await until(async () => (await metric(server.url, 'keyward_rate_limit_sync_failures_total')) > 0, 'a counted rate-limit sync failure');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    const during = server.server.eventStats();
    expect(during.buffered + during.dropped).toBeGreaterThan(0);

    await redis.start();
    await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 'readiness');

    // Events flow again: appended, then read to the end by the abuse stream consumers.
    const appendedBefore = server.server.eventStats().appended;
    for (let i = 0; i < 10; i++) expect((await validate(license.key, `198.51.100.${10 + i}`)).status).toBe(200);
    await until(async () => {
      await server.server.flushEvents();
      return server.server.eventStats().appended >= appendedBefore + 10;
    }, 'the event sink');
    const client = new Redis(redis.url);
    onTestFinished(() => void client.disconnect());
    const streams = allStreamKeys(partitions, streamPrefix);
    await until(async () => {
      const lags = await Promise.all(streams.map((key) => readStreamLag(client, key, DEFAULT_CONSUMER_GROUP)));
      return lags.every((lag) => lag.pending === 0 && lag.undelivered === 0);
    }, 'the abuse stream consumers');

    // The BullMQ billing worker takes new jobs.
    const ids = newStripeIds();
    const event = subscriptionEvent('created', { id: ids.subscription, customer: ids.customer, price: PRICES.pro, status: 'active', periodStart: new Date(), periodEnd: new Date(Date.now() + 30 * 86_400_000) }, new Date());
    expect((await postWebhook(server.url, event)).status).toBe(200);
    await until(async () => (await server.server.keyward.licenses.findBySubscription(ids.subscription)) !== null, 'the billing job');

    // Rate-limit counts reach Redis again.
    await until(async () => (await client.keys('keyward:rl:ip:*')).length > 0, 'a rate-limit sync');
  });
});
