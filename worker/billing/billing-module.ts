/**
 * The billing worker module: consumes the `{billing}` queue (Stripe events, delayed rechecks)
 * and runs the maintenance jobs on BullMQ job schedulers. Failed event jobs stay in BullMQ's
 * failed set, and their stored event records the status, error and attempts (the dead letter
 * operators list and replay through the admin API).
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';

import { BILLING_JOBS, BILLING_QUEUE, billingJobOptions, isBillingJobName, stripeEventJobId, type BillingJobName } from '../../lib/billing/billing-jobs.js';
import { MongoCustomerStore } from '../../lib/store/mongo-customer-store.js';
import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import { createWorkerOutbox } from '../mail/worker-outbox.js';
import { MongoStripeEventStore } from '../../lib/store/mongo-stripe-event-store.js';
import { MongoSubscriptionStateStore } from '../../lib/store/mongo-subscription-state-store.js';
import type { WorkerContext, WorkerModule } from '../worker-module.js';
import { DEFAULT_BILLING_CONFIG } from './billing-config.js';
import { jobFailureOf, toBullmqError } from './billing-job-error.js';
import { processStripeEvent, type ProcessEventDependencies } from './process-stripe-event.js';
import { reconcileSubscription } from './reconcile-subscription.js';
import * as tasks from './scheduled-tasks.js';
import { createStripeApiReader } from './stripe-api-reader.js';
import { SubscriptionLock } from './subscription-lock.js';

/** The maintenance jobs, each on a job scheduler every `scheduleEveryMs`. */
const SCHEDULED: ReadonlyArray<BillingJobName> = ['sweep-unqueued-events', 'apply-pending-changes', 'expire-licenses', 'trial-ending-notices', 'retention'];

/** Everything the billing jobs use, built from the worker context. */
export interface BillingDependencies extends Omit<ProcessEventDependencies, 'outbox'>, tasks.ScheduledTaskDependencies {}

/** Builds the billing stores and services on a worker context; `queue` receives rechecks and sweeps. */
export async function createBillingDependencies(
  context: WorkerContext,
  queue: Queue,
  outbox: BillingDependencies['outbox'] = new MongoEmailOutbox({ db: context.db }),
): Promise<BillingDependencies> {
  const config = context.config.billing ?? DEFAULT_BILLING_CONFIG;
  const events = new MongoStripeEventStore({ db: context.db });
  const states = new MongoSubscriptionStateStore({ db: context.db });
  const customers = new MongoCustomerStore({ db: context.db });
  await Promise.all([events.ensureIndexes(), states.ensureIndexes(), customers.ensureIndexes()]);
  const policy = { attempts: config.jobAttempts, backoffMs: config.jobBackoffMs };
  return {
    db: context.db,
    keyward: context.keyward,
    events,
    states,
    customers,
    outbox,
    lock: new SubscriptionLock({ redis: context.redis, prefix: context.queuePrefix }),
    stripe: config.stripeApi === null ? null : createStripeApiReader(config.stripeApi),
    hooks: context.hooks,
    logger: context.logger,
    paymentGraceMs: config.paymentGraceMs,
    renewalGraceMs: config.renewalGraceMs,
    expiryGraceMs: context.config.expiryGraceMs,
    trialNoticeMs: config.trialNoticeMs,
    eventRetentionMs: config.eventRetentionMs,
    sentEmailRetentionMs: config.sentEmailRetentionMs,
    sweepAfterMs: config.sweepAfterMs,
    clock: () => new Date(),
    scheduleRecheck: async (subscriptionId, at) => {
      const delay = Math.max(0, at.getTime() - Date.now());
      await queue.add('reconcile-subscription', { subscriptionId }, { ...billingJobOptions(policy, `recheck-${subscriptionId}-${at.getTime()}`), delay });
    },
    enqueueEvent: async (eventId) => {
      await queue.add('stripe-event', { eventId }, billingJobOptions(policy, stripeEventJobId(eventId)));
    },
  };
}

async function runJob(deps: BillingDependencies, job: Job): Promise<unknown> {
  // Poison: recorded in BullMQ's failed set (and the log), never retried.
  const poison = (reason: string): never => {
    deps.logger.error({ jobId: job.id, job: job.name, reason }, 'billing job refused');
    throw new UnrecoverableError(`INVALID_JOB: ${reason}`);
  };
  if (!isBillingJobName(job.name)) return poison(`no billing job "${job.name}"`);
  const parsed = BILLING_JOBS[job.name].safeParse(job.data);
  if (!parsed.success) return poison(`${job.name}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  const now = new Date();
  switch (job.name) {
    case 'stripe-event':
      return runEventJob(deps, job, (parsed.data as { eventId: string }).eventId);
    case 'reconcile-subscription': {
      try {
        return await reconcileSubscription(deps, (parsed.data as { subscriptionId: string }).subscriptionId, `recheck:${job.id ?? ''}`);
      } catch (error) {
        throw toBullmqError(jobFailureOf(error));
      }
    }
    case 'sweep-unqueued-events':
      return tasks.sweepUnqueuedEvents(deps, now);
    case 'apply-pending-changes':
      return tasks.applyPendingChanges(deps, now);
    case 'expire-licenses':
      return tasks.expireLicenses(deps, now);
    case 'trial-ending-notices':
      return tasks.queueTrialEndingNotices(deps, now);
    case 'retention':
      return tasks.deleteExpiredData(deps, now);
  }
}

async function runEventJob(deps: BillingDependencies, job: Job, eventId: string): Promise<string> {
  try {
    const result = await processStripeEvent(deps, eventId);
    const processed = result.status === 'processed' ? { subscriptionId: result.subscriptionId, undeliveredEmails: result.reconcile?.undelivered ?? [] } : {};
    await deps.events.recordAttempt(eventId, { status: result.status, outcome: result.outcome, ...processed }, new Date());
    return result.outcome;
  } catch (error) {
    const failure = jobFailureOf(error);
    const last = !failure.retry || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (failure.code !== 'EVENT_NOT_STORED') {
      await deps.events.recordAttempt(eventId, { status: last ? 'failed' : 'retrying', error: { code: failure.code, message: failure.message } }, new Date());
    }
    (last ? deps.logger.error.bind(deps.logger) : deps.logger.warn.bind(deps.logger))({ eventId, code: failure.code, attempt: job.attemptsMade + 1 }, 'stripe event not applied');
    throw toBullmqError(failure);
  }
}

/** The billing worker module. */
export const billingModule: WorkerModule = {
  name: 'billing',
  async start(context) {
    const config = context.config.billing ?? DEFAULT_BILLING_CONFIG;
    const queue = new Queue(BILLING_QUEUE, { connection: context.createRedis('billing-queue'), prefix: context.queuePrefix });
    // Without a listener BullMQ prints every reconnection error raw while Redis is down.
    queue.on('error', (error: unknown) => context.logger.warn({ err: error }, 'billing queue error'));
    // E-mails billing queues wake the mail sender at once instead of waiting for its sweep.
    const mail = createWorkerOutbox(context, 'billing');
    const deps = await createBillingDependencies(context, queue, mail.outbox);
    for (const name of SCHEDULED) {
      await queue.upsertJobScheduler(`billing-${name}`, { every: config.scheduleEveryMs }, { name, data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
    }
    const worker = new Worker(BILLING_QUEUE, (job) => runJob(deps, job), {
      connection: context.createRedis('billing-worker'),
      prefix: context.queuePrefix,
      concurrency: config.concurrency,
    });
    worker.on('error', (error) => context.logger.warn({ err: error }, 'billing worker error'));
    await worker.waitUntilReady();
    return {
      async stop() {
        await worker.close();
        await queue.close();
        await mail.close();
      },
    };
  },
};
