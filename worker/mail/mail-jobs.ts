/**
 * The typed job catalogue of the `{mail}` queue: job names, their payload schemas and retry
 * policy, and the one mapping from a job's outcome to retry or give up. A payload that fails its
 * schema is poison: recorded as failed with UnrecoverableError, never retried.
 *
 * Jobs carry no e-mail content: they only say "look at the outbox now". The outbox keeps each
 * e-mail's attempts and backoff, so the jobs themselves are never retried by BullMQ (the next
 * sweep comes a few seconds later anyway).
 */
import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { z } from 'zod';

/** The queue, hash-tagged so it stays on one Redis Cluster slot. */
export const MAIL_QUEUE = '{mail}';

/** The job scheduler that sweeps the outbox. */
export const MAIL_SWEEP_SCHEDULER = 'mail-sweep';

/** The job scheduler that prunes sent e-mails. */
export const MAIL_PRUNE_SCHEDULER = 'mail-prune';

const emailId = z.string().regex(/^eml_[0-9a-f]{24}$/);

/** Job names → payload schema and job options. */
export const MAIL_JOBS = {
  /** Scheduled: deliver whatever is due. */
  sweep: { payload: z.strictObject({}), options: { attempts: 1, removeOnComplete: true, removeOnFail: 100 } },
  /** An e-mail was enqueued (or a sweep ran out of budget): deliver what is due now. */
  wake: {
    payload: z.strictObject({ emailId: emailId.optional() }),
    // Not deduplicated: a wake dropped while another is already draining could leave an e-mail
    // to the next sweep. A wake that finds nothing due costs one query.
    options: { attempts: 1, removeOnComplete: true, removeOnFail: 100 },
  },
  /** Scheduled daily: delete e-mails sent longer ago than the retention period. */
  prune: { payload: z.strictObject({}), options: { attempts: 1, removeOnComplete: true, removeOnFail: 100 } },
} as const satisfies Record<string, { payload: z.ZodType; options: JobsOptions }>;

/** A job name of the `{mail}` queue. */
export type MailJobName = keyof typeof MAIL_JOBS;

/** The payload of a job. */
export type MailJobPayload<Name extends MailJobName> = z.output<(typeof MAIL_JOBS)[Name]['payload']>;

/** One handler per job name: a missing one does not compile. */
export type MailJobHandlers = { readonly [Name in MailJobName]: (payload: MailJobPayload<Name>) => Promise<unknown> };

function isMailJobName(name: string): name is MailJobName {
  return Object.hasOwn(MAIL_JOBS, name);
}

/**
 * Runs a job through its handler after checking its payload; the one place that maps outcomes:
 * an unknown name or a bad payload throws UnrecoverableError (poison, not retried); a handler's
 * error propagates (the job fails; the next sweep tries again).
 */
export async function runMailJob(handlers: MailJobHandlers, name: string, data: unknown): Promise<unknown> {
  if (!isMailJobName(name)) throw new UnrecoverableError(`unknown mail job "${name.slice(0, 64)}"`);
  const parsed = MAIL_JOBS[name].payload.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${name} payload: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(payload)'} ${issue.message}`).join('; ')}`);
  switch (name) {
    case 'sweep':
      return handlers.sweep(parsed.data as MailJobPayload<'sweep'>);
    case 'wake':
      return handlers.wake(parsed.data as MailJobPayload<'wake'>);
    case 'prune':
      return handlers.prune(parsed.data as MailJobPayload<'prune'>);
  }
}
