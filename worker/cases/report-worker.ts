/**
 * The abuse report queue in the worker: registers the daily job scheduler (05:00 UTC, the
 * previous day) and runs report jobs. A payload that fails its schema is poison
 * (UnrecoverableError, never retried); a failure after the last try marks the report failed.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';

import { DAILY_REPORT_PATTERN, DAILY_REPORT_SCHEDULER, REPORT_JOB_RETRY, REPORT_JOBS, REPORT_QUEUE, type ReportJobName } from '../../lib/abuse/report-jobs.js';
import { ReportService } from '../../lib/service/report-service.js';
import type { MongoReportStore } from '../../lib/store/mongo-report-store.js';
import type { WorkerContext } from '../worker-module.js';

/** Options for {@link startReportWorker}. */
export interface ReportWorkerOptions {
  readonly context: WorkerContext;
  readonly reports: MongoReportStore;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/** A running report worker. */
export interface RunningReportWorker {
  readonly queue: Queue;
  stop(): Promise<void>;
}

/** Job outcome → retry or give up, in one place: bad payloads and unknown names are poison. */
function payloadOf<Name extends ReportJobName>(job: Job, name: Name): ReturnType<(typeof REPORT_JOBS)[Name]['parse']> {
  const parsed = REPORT_JOBS[name].safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`Poison ${name} job ${String(job.id)}: ${parsed.error.issues[0]?.message ?? 'invalid payload'}`);
  return parsed.data as ReturnType<(typeof REPORT_JOBS)[Name]['parse']>;
}

/** Starts the queue, the daily scheduler and the job processor. */
export async function startReportWorker(options: ReportWorkerOptions): Promise<RunningReportWorker> {
  const { context, reports } = options;
  const clock = options.clock ?? (() => new Date());
  const service = new ReportService({ db: context.db, reports, clock });
  const queue = new Queue(REPORT_QUEUE, { connection: context.createRedis('report-queue'), prefix: context.queuePrefix });
  // Without a listener BullMQ prints every reconnection error raw while Redis is down.
  queue.on('error', (error: unknown) => context.logger.warn({ err: error }, 'report queue error'));
  await queue.upsertJobScheduler(
    DAILY_REPORT_SCHEDULER,
    { pattern: DAILY_REPORT_PATTERN, tz: 'UTC' },
    { name: 'daily-report', data: {}, opts: { ...REPORT_JOB_RETRY, removeOnComplete: 100, removeOnFail: 500 } },
  );

  const handlers: { [Name in ReportJobName]: (job: Job) => Promise<string | null> } = {
    'daily-report': async (job) => {
      payloadOf(job, 'daily-report');
      const { id, due } = await service.requestDaily();
      if (due) await service.generate(id);
      return id;
    },
    'generate-report': async (job) => {
      const { reportId } = payloadOf(job, 'generate-report');
      const generated = await service.generate(reportId);
      if (!generated) throw new UnrecoverableError(`No pending report ${reportId}.`);
      return reportId;
    },
  };

  const worker = new Worker(
    REPORT_QUEUE,
    async (job) => {
      const handler = (handlers as Partial<Record<string, (job: Job) => Promise<string | null>>>)[job.name];
      if (!handler) throw new UnrecoverableError(`Unknown report job "${job.name}".`);
      return handler(job);
    },
    { connection: context.createRedis('report-worker'), prefix: context.queuePrefix, concurrency: 1 },
  );
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    context.logger.error({ err: error, jobId: job.id, name: job.name, final }, 'report job failed');
    const reportId = (job.data as { reportId?: unknown }).reportId;
    if (final && typeof reportId === 'string') {
      reports.fail(reportId, error.message, clock()).catch((failure: unknown) => context.logger.error({ err: failure }, 'could not mark report failed'));
    }
  });
  worker.on('error', (error) => context.logger.error({ err: error }, 'report worker error'));

  return {
    queue,
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
