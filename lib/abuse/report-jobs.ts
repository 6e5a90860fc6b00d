/**
 * The typed job catalogue of the abuse report queue: each job name with its payload schema and
 * retry policy, shared by the producers (admin API) and the worker, so a job without a handler
 * or with a bad payload is caught at compile time or recorded as poison.
 */
import { z } from 'zod';

/** BullMQ queue name; the hash tag keeps the queue on one Redis Cluster slot. */
export const REPORT_QUEUE = '{abuse-reports}';

/** Job id of the daily report's job scheduler. */
export const DAILY_REPORT_SCHEDULER = 'daily-abuse-report';

/** Cron pattern (UTC) of the daily report: 05:00 every day, for the day before. */
export const DAILY_REPORT_PATTERN = '0 5 * * *';

/** Job names → payload schemas. */
export const REPORT_JOBS = {
  /** Make the report of the previous UTC day (from the scheduler). */
  'daily-report': z.strictObject({}),
  /** Fill a pending on-demand report. */
  'generate-report': z.strictObject({ reportId: z.string().regex(/^rpt_[0-9a-z_-]{1,60}$/) }),
} as const;

/** A job name of {@link REPORT_JOBS}. */
export type ReportJobName = keyof typeof REPORT_JOBS;

/** Retry policy of every report job: three tries with exponential backoff from 5 s. */
export const REPORT_JOB_RETRY = { attempts: 3, backoff: { type: 'exponential', delay: 5_000 } } as const;
