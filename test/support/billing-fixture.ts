/**
 * The whole billing path for a test: a real server (webhook + admin routes) and a real worker
 * (billing module) sharing one database and one BullMQ prefix on the test run's Redis and
 * MongoDB, with hooks that record what billing reported.
 */
import { setTimeout as delay } from 'node:timers/promises';

import { MongoClient, type Db } from 'mongodb';
import { onTestFinished } from 'vitest';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import type { TrialRegistration } from '../../lib/abuse/trial-registration.js';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import type { LicenseRecord } from '../../lib/store/license-record.js';
import type { OutboxDocument } from '../../lib/store/mongo-email-outbox.js';
import { MongoStripeEventStore, type StripeEventDocument, type StripeEventStatus } from '../../lib/store/mongo-stripe-event-store.js';
import { DEFAULT_STRIPE_WEBHOOK_CONFIG, type ServerConfig, type StripeWebhookConfig } from '../../server/config.js';
import { billingServerModule } from '../../server/routes/billing-server-module.js';
import { DEFAULT_BILLING_CONFIG, type BillingConfig } from '../../worker/billing/billing-config.js';
import { billingModule } from '../../worker/billing/billing-module.js';
import { uniqueName } from '../setup/services.js';
import { startTestServer, type TestServer } from './server-fixture.js';
import { BILLING_TEST_PLANS, postWebhook, TEST_WEBHOOK_SECRET, type StripeEventJson } from './stripe-events.js';
import { startTestWorker } from './worker-fixture.js';

/** Options for {@link startBillingSystem}. */
export interface BillingSystemOptions {
  readonly billing?: Partial<BillingConfig>;
  readonly webhook?: Partial<StripeWebhookConfig>;
  /** Start the worker too. Default true. */
  readonly worker?: boolean;
  /** How many workers (each with its own connections and concurrency) share the queue. Default 1. */
  readonly workers?: number;
  /** Redis of the server (e.g. one the test stops). Default: the test run's. */
  readonly serverRedisUrl?: string;
  /** Redis of server and workers, e.g. a Redis Cluster. Default: the test run's. */
  readonly redis?: Pick<ServerConfig, 'redisUrl' | 'redisClusterNodes'>;
}

/** A running billing system. */
export interface BillingSystem {
  readonly server: TestServer;
  /** The database server and worker share. */
  readonly db: Db;
  readonly events: MongoStripeEventStore;
  readonly trials: TrialRegistration[];
  readonly signals: AbuseSignal[];
  /** Posts a signed event; expects 200. */
  send(event: StripeEventJson): Promise<void>;
  /** Waits until the event reached one of `statuses` (default: a final one) and returns it. */
  settled(eventId: string, statuses?: readonly StripeEventStatus[]): Promise<StripeEventDocument>;
  /** Posts an event and waits until it is final. */
  apply(event: StripeEventJson): Promise<StripeEventDocument>;
  license(subscriptionId: string): Promise<LicenseRecord | null>;
  emails(licenseId: string): Promise<OutboxDocument[]>;
}

const FINAL: readonly StripeEventStatus[] = ['processed', 'ignored', 'failed'];

/** Starts a server and a worker for the current test (both stopped when it ends). */
export async function startBillingSystem(options: BillingSystemOptions = {}): Promise<BillingSystem> {
  const plans = loadPlanCatalogue(BILLING_TEST_PLANS);
  const queuePrefix = uniqueName('q');
  const server = await startTestServer(
    { plans, queuePrefix, ...options.redis, ...(options.serverRedisUrl === undefined ? {} : { redisUrl: options.serverRedisUrl }), stripe: { ...DEFAULT_STRIPE_WEBHOOK_CONFIG, webhookSecret: TEST_WEBHOOK_SECRET, jobAttempts: 6, jobBackoffMs: 20, ...options.webhook } },
    { modules: [billingServerModule] },
  );
  const trials: TrialRegistration[] = [];
  const signals: AbuseSignal[] = [];
  let db: Db | undefined;
  for (let i = 0; i < ((options.worker ?? true) ? (options.workers ?? 1) : 0); i++) {
    const worker = await startTestWorker(
      { plans, queuePrefix, ...options.redis, mongoDb: server.config.mongoDb, billing: { ...DEFAULT_BILLING_CONFIG, paymentGraceMs: 0, jobAttempts: 6, jobBackoffMs: 20, ...options.billing } },
      [billingModule],
      { dropDatabase: false },
    );
    worker.context.hooks.onTrialStarted = async (trial) => void trials.push(trial);
    worker.context.hooks.onSignal = async (signal) => void signals.push(signal);
    db ??= worker.context.db;
  }
  if (db === undefined) {
    const client = await new MongoClient(server.config.mongoUrl).connect();
    db = client.db(server.config.mongoDb);
    onTestFinished(() => client.close());
  }
  const events = new MongoStripeEventStore({ db });
  const database = db;

  const settled = async (eventId: string, statuses: readonly StripeEventStatus[] = FINAL): Promise<StripeEventDocument> => {
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const event = await events.get(eventId);
      if (event && statuses.includes(event.status)) return event;
      await delay(20);
    }
    throw new Error(`event ${eventId} did not reach ${statuses.join('/')}: ${JSON.stringify(await events.get(eventId))}`);
  };
  const send = async (event: StripeEventJson): Promise<void> => {
    const answer = await postWebhook(server.url, event);
    if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  };
  return {
    server,
    db: database,
    events,
    trials,
    signals,
    send,
    settled,
    async apply(event) {
      await send(event);
      return settled(event.id);
    },
    license: (subscriptionId) => server.server.keyward.licenses.findBySubscription(subscriptionId),
    emails: (licenseId) => database.collection<OutboxDocument>('email_outbox').find({ licenseId }).sort({ createdAt: 1 }).toArray(),
  };
}
