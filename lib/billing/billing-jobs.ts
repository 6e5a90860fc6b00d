/**
 * The typed job catalogue of the billing queue: each job name with the schema its payload is
 * checked against when consumed, so the webhook (producer) and the worker (consumer) agree, and a
 * job whose payload fails the check is poison (given up at once, never retried).
 */
import { z } from 'zod';

/** The BullMQ queue name, in a hash tag so the whole queue sits on one Redis Cluster slot. */
export const BILLING_QUEUE = '{billing}';

const eventId = z.string().regex(/^evt_[A-Za-z0-9_]{1,250}$/, 'must be a Stripe event id');
const subscriptionId = z.string().regex(/^sub_[A-Za-z0-9_]{1,250}$/, 'must be a Stripe subscription id');
const none = z.object({}).strict();

/** Job name → payload schema. */
export const BILLING_JOBS = {
  /** Apply one stored Stripe event. */
  'stripe-event': z.object({ eventId }).strict(),
  /** Decide a subscription's license again (end of a payment grace period). */
  'reconcile-subscription': z.object({ subscriptionId }).strict(),
  /** Queue events stored while Redis was away. */
  'sweep-unqueued-events': none,
  /** Apply downgrades whose period has ended. */
  'apply-pending-changes': none,
  /** Expire licenses (trials included) whose period and grace have ended. */
  'expire-licenses': none,
  /** Queue trial_ending e-mails a few days before trials end. */
  'trial-ending-notices': none,
  /** Delete stored Stripe events and sent e-mails past their retention. */
  'retention': none,
} as const;

/** A billing job name. */
export type BillingJobName = keyof typeof BILLING_JOBS;

/** The payload of a billing job. */
export type BillingJobData<Name extends BillingJobName> = z.output<(typeof BILLING_JOBS)[Name]>;

/** Whether a string is a billing job name. */
export function isBillingJobName(name: string): name is BillingJobName {
  return Object.hasOwn(BILLING_JOBS, name);
}

/** The BullMQ job id of a Stripe event's job: the event id, so a re-enqueue of a queued event is a no-op. */
export function stripeEventJobId(id: string): string {
  return id;
}

/** Retry policy of the billing queue's event jobs. */
export interface BillingRetryPolicy {
  /** Tries before the job is dead-lettered (stays in BullMQ's failed set). */
  readonly attempts: number;
  /** First retry delay in ms; doubles each time. */
  readonly backoffMs: number;
}

/** Finished jobs kept for inspection: completed ones by count, failed ones for 30 days. */
const KEEP_FAILED_SECONDS = 30 * 86_400;

/** BullMQ job options for a billing job under a retry policy (the one place both producers use). */
export function billingJobOptions(policy: BillingRetryPolicy, jobId?: string) {
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential' as const, delay: policy.backoffMs },
    removeOnComplete: { count: 10_000 },
    removeOnFail: { age: KEEP_FAILED_SECONDS },
    ...(jobId === undefined ? {} : { jobId }),
  };
}
