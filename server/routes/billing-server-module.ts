/**
 * The server's Stripe capability: the webhook (raw, before Koa), the admin routes for stored
 * events, and the BullMQ producer both use, on a Redis connection of its own that fails fast
 * (a webhook must answer quickly even when Redis is away; the worker sweeps what was not queued).
 */
import { createRedisConnection } from '../../runtime/redis-connection.js';
import { Queue } from 'bullmq';

import { BILLING_QUEUE, billingJobOptions, stripeEventJobId } from '../../lib/billing/billing-jobs.js';
import { MongoAdminTokenStore } from '../../lib/store/mongo-admin-token-store.js';
import { MongoStripeEventStore, type NewStripeEvent } from '../../lib/store/mongo-stripe-event-store.js';
import { AdminAuth } from '../auth/admin-auth.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG } from '../config.js';
import { GroupCommit } from '../http/group-commit.js';
import { createRequestIds } from '../http/request-id.js';
import type { ServerModule } from '../server-module.js';
import { addStripeAdminRoutes } from './stripe-admin-routes.js';
import { STRIPE_OPERATIONS } from './stripe-operations.js';
import { createStripeWebhookHandler } from './stripe-webhook.js';

/** The Stripe webhook and its admin routes. */
export const billingServerModule: ServerModule = {
  name: 'billing',
  operations: STRIPE_OPERATIONS,
  async start({ config, db, logger }) {
    const stripe = config.stripe ?? DEFAULT_STRIPE_WEBHOOK_CONFIG;
    const events = new MongoStripeEventStore({ db });
    await events.ensureIndexes();
    const connection = createRedisConnection(config, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    connection.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error (billing queue)'));
    // Connect in the background: a server without Redis still starts, and events wait in MongoDB.
    connection.connect().catch(() => undefined);
    const queue = new Queue(BILLING_QUEUE, { connection, prefix: config.queuePrefix ?? 'keyward' });
    queue.on('error', (error: unknown) => logger.warn({ err: error }, 'billing queue error'));
    const policy = { attempts: stripe.jobAttempts, backoffMs: stripe.jobBackoffMs };
    // A burst of deliveries is stored with one insert and queued with one BullMQ addBulk per
    // batch; each request still answers only after its own event is stored.
    const inserts = new GroupCommit<{ event: NewStripeEvent; now: Date }, { created: boolean }>({
      write: async (items) => events.insertMany(items).then((results) => results.map((result) => (result.ok ? { ok: true, value: { created: result.created } } : result))),
    });
    const adds = new GroupCommit<string, void>({
      write: async (eventIds) => {
        await queue.addBulk(eventIds.map((eventId) => ({ name: 'stripe-event', data: { eventId }, opts: billingJobOptions(policy, stripeEventJobId(eventId)) })));
        return eventIds.map(() => ({ ok: true, value: undefined }));
      },
    });
    const handleRaw = createStripeWebhookHandler({
      config: stripe,
      store: (event, now) => inserts.submit({ event, now }),
      logger,
      requestIds: createRequestIds(),
      enqueue: (eventId) => adds.submit(eventId),
    });
    return {
      handleRaw,
      addRoutes(router) {
        addStripeAdminRoutes(router, {
          events,
          auth: new AdminAuth({ store: new MongoAdminTokenStore({ db }) }),
          replay: async (eventId, jobId) => {
            await queue.add('stripe-event', { eventId }, billingJobOptions(policy, jobId));
          },
        });
      },
      async stop() {
        await queue.close().catch(() => undefined);
        if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
        else connection.disconnect();
      },
    };
  },
};
