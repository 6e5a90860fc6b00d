/**
 * The worker's `mail` module: the `{mail}` queue with a job scheduler that sweeps the outbox
 * every few seconds, wake jobs for e-mails just enqueued, the sender that delivers them
 * through SMTP, and a daily job that deletes sent e-mails past their retention. Without SMTP_URL it only warns (once): e-mails wait in the outbox, nothing is lost.
 */
import { Worker } from 'bullmq';

import { MongoEmailOutbox } from '../../lib/store/mongo-email-outbox.js';
import type { WorkerContext, WorkerModule, RunningWorkerModule } from '../worker-module.js';
import { DEFAULT_MAIL_CONFIG } from './mail-config.js';
import { MAIL_JOBS, MAIL_PRUNE_SCHEDULER, MAIL_QUEUE, MAIL_SWEEP_SCHEDULER, runMailJob, type MailJobHandlers } from './mail-jobs.js';
import type { MailTransport } from './mail-transport.js';
import { MailWake } from './mail-wake.js';
import { OutboxSender } from './outbox-sender.js';
import { createSmtpTransport } from './smtp-transport.js';

/** Most attempts one job makes before handing on to a new wake job (keeps jobs short). */
const DELIVERIES_PER_JOB = 500;

/** Options for {@link createMailModule}. */
export interface MailModuleOptions {
  /** Transport instead of SMTP_URL's (benchmarks). Default: SMTP from the configuration. */
  readonly transport?: MailTransport;
}

/** Builds the `mail` module. */
export function createMailModule(options: MailModuleOptions = {}): WorkerModule {
  return { name: 'mail', start: (context) => startMail(context, options) };
}

/** The production `mail` module. */
export const mailModule: WorkerModule = createMailModule();

async function startMail(context: WorkerContext, options: MailModuleOptions): Promise<RunningWorkerModule> {
  const config = context.config.mail ?? DEFAULT_MAIL_CONFIG;
  const logger = context.logger.child({ module: 'mail' });
  const outbox = new MongoEmailOutbox({ db: context.db });
  await outbox.ensureIndexes();
  if (config.smtpUrl === null && !options.transport) {
    logger.warn('SMTP_URL is not set: e-mails stay queued in the outbox and are sent once it is');
    return { stop: () => Promise.resolve() };
  }
  const transport = options.transport ?? createSmtpTransport({ url: config.smtpUrl ?? '', maxConnections: config.concurrency });
  const sender = new OutboxSender({
    outbox,
    licenses: context.keyward.licenses,
    plans: context.keyward.plans,
    transport,
    from: config.from,
    retry: config.retry,
    leaseMs: config.leaseMs,
    concurrency: config.concurrency,
    logger,
  });
  const wake = new MailWake({
    connection: context.createRedis('mail-queue'),
    prefix: context.queuePrefix,
    onError: (error) => logger.warn({ err: error }, 'could not add a mail job'),
  });

  const deliver = async (): Promise<unknown> => {
    const tally = await sender.deliverDue(DELIVERIES_PER_JOB);
    // Out of budget with e-mails perhaps still due: carry on in a fresh job rather than wait for the sweep.
    if (tally.sent + tally.retried + tally.failed + tally.leaseLost >= DELIVERIES_PER_JOB) wake.wake();
    return tally;
  };
  const prune = async (): Promise<unknown> => {
    const deleted = await outbox.pruneSent(new Date(Date.now() - config.retentionMs));
    if (deleted > 0) logger.info({ deleted }, 'sent e-mails past retention deleted');
    return { deleted };
  };
  const handlers: MailJobHandlers = { sweep: deliver, wake: deliver, prune };
  const worker = new Worker(MAIL_QUEUE, (job) => runMailJob(handlers, job.name, job.data), {
    connection: context.createRedis('mail-worker'),
    prefix: context.queuePrefix,
    concurrency: 1,
  });
  worker.on('failed', (job, error) => logger.warn({ err: error, job: job?.name }, 'mail job failed'));
  worker.on('error', (error) => logger.warn({ err: error }, 'mail worker error'));
  try {
    await worker.waitUntilReady();
    await wake.queue.upsertJobScheduler(MAIL_SWEEP_SCHEDULER, { every: config.sweepIntervalMs }, { name: 'sweep', data: {}, opts: MAIL_JOBS.sweep.options });
    await wake.queue.upsertJobScheduler(MAIL_PRUNE_SCHEDULER, { every: 86_400_000 }, { name: 'prune', data: {}, opts: MAIL_JOBS.prune.options });
    // Whatever became due while no worker ran.
    wake.wake();
  } catch (error) {
    await worker.close();
    await wake.close();
    transport.close();
    throw error;
  }

  return {
    async stop() {
      await worker.close();
      await wake.close();
      transport.close();
    },
  };
}
