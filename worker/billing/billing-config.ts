/** The billing module's settings: environment variables, their defaults, and the parsed form. */
import { z } from 'zod';

import { unsetIfEmpty } from '../../lib/config/environment.js';

const DAY_SECONDS = 86_400;
const int = (min: number, fallback: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).default(fallback));

/** Billing's environment variables (merged into the worker's), with their defaults. */
export const billingEnvironment = {
  /** Secret API key (`sk_…` or a restricted `rk_…`) for reading current objects. Optional: without it billing uses event payloads only. */
  STRIPE_API_KEY: z.preprocess(unsetIfEmpty, z.string().regex(/^(sk|rk)_[A-Za-z0-9_]+$/, 'must be a Stripe secret or restricted key').optional()),
  /** Stripe API base URL, for stripe-mock (`http://localhost:12111`). Default: Stripe's. */
  STRIPE_API_BASE_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/ }).optional()),
  /** How long a failing payment is tolerated before the license is suspended. Default 259200 (3 days). */
  BILLING_PAYMENT_GRACE_SECONDS: int(0, 3 * DAY_SECONDS),
  /**
   * Validity added after each paid (or trial) period end of a Stripe license, so that a renewal
   * Stripe delivers late (it retries a failed webhook for up to 3 days) never leaves a paying
   * customer's key expired in between. Default 259200 (3 days).
   */
  BILLING_RENEWAL_GRACE_SECONDS: int(0, 3 * DAY_SECONDS),
  /** How long before a trial ends its trial_ending e-mail is queued. Default 259200 (3 days). */
  BILLING_TRIAL_NOTICE_SECONDS: int(0, 3 * DAY_SECONDS),
  /** Days processed Stripe events are kept. Default 90. */
  BILLING_EVENT_RETENTION_DAYS: int(1, 90),
  /** Days sent e-mails are kept in the outbox. Default 30. */
  BILLING_SENT_EMAIL_RETENTION_DAYS: int(1, 30),
  /** Tries of one Stripe event job before it is dead-lettered. Default 8. */
  BILLING_JOB_ATTEMPTS: int(1, 8),
  /** First retry delay (doubling each time), ms. Default 2000. */
  BILLING_JOB_BACKOFF_MS: int(1, 2_000),
  /** Jobs processed at once per worker. Default 8. */
  BILLING_CONCURRENCY: int(1, 8),
  /** How often the scheduled jobs (downgrades, expiry, trial notices, retention, sweep) run, in seconds. Default 60. */
  BILLING_SCHEDULE_EVERY_SECONDS: int(1, 60),
};

/** Parsed billing settings. */
export interface BillingConfig {
  /** Stripe API access, or `null` to use event payloads only. */
  readonly stripeApi: { readonly apiKey: string; readonly host?: string; readonly port?: number; readonly protocol?: 'http' | 'https' } | null;
  readonly paymentGraceMs: number;
  /** Validity after each paid period end, covering late renewal webhooks, ms. */
  readonly renewalGraceMs: number;
  readonly trialNoticeMs: number;
  readonly eventRetentionMs: number;
  readonly sentEmailRetentionMs: number;
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
  readonly concurrency: number;
  readonly scheduleEveryMs: number;
  /** Age after which a stored event that never reached the queue is queued by the sweep, ms. Default 30,000. */
  readonly sweepAfterMs: number;
}

/** Defaults, for a worker configured without billing settings (tests build their own). */
export const DEFAULT_BILLING_CONFIG: BillingConfig = {
  stripeApi: null,
  paymentGraceMs: 3 * DAY_SECONDS * 1000,
  renewalGraceMs: 3 * DAY_SECONDS * 1000,
  trialNoticeMs: 3 * DAY_SECONDS * 1000,
  eventRetentionMs: 90 * DAY_SECONDS * 1000,
  sentEmailRetentionMs: 30 * DAY_SECONDS * 1000,
  jobAttempts: 8,
  jobBackoffMs: 2_000,
  concurrency: 8,
  scheduleEveryMs: 60_000,
  sweepAfterMs: 30_000,
};

type Parsed = z.output<z.ZodObject<typeof billingEnvironment>>;

/** The Stripe client options for a base URL (`http://localhost:12111` → host, port, protocol). */
export function stripeApiOf(apiKey: string | undefined, baseUrl: string | undefined): BillingConfig['stripeApi'] {
  if (apiKey === undefined) return null;
  if (baseUrl === undefined) return { apiKey };
  const url = new URL(baseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { apiKey, host: url.hostname, port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port), protocol };
}

/** Billing settings from parsed variables. */
export function billingConfigOf(parsed: Parsed): BillingConfig {
  return {
    stripeApi: stripeApiOf(parsed.STRIPE_API_KEY, parsed.STRIPE_API_BASE_URL),
    paymentGraceMs: parsed.BILLING_PAYMENT_GRACE_SECONDS * 1000,
    renewalGraceMs: parsed.BILLING_RENEWAL_GRACE_SECONDS * 1000,
    trialNoticeMs: parsed.BILLING_TRIAL_NOTICE_SECONDS * 1000,
    eventRetentionMs: parsed.BILLING_EVENT_RETENTION_DAYS * DAY_SECONDS * 1000,
    sentEmailRetentionMs: parsed.BILLING_SENT_EMAIL_RETENTION_DAYS * DAY_SECONDS * 1000,
    jobAttempts: parsed.BILLING_JOB_ATTEMPTS,
    jobBackoffMs: parsed.BILLING_JOB_BACKOFF_MS,
    concurrency: parsed.BILLING_CONCURRENCY,
    scheduleEveryMs: parsed.BILLING_SCHEDULE_EVERY_SECONDS * 1000,
    sweepAfterMs: DEFAULT_BILLING_CONFIG.sweepAfterMs,
  };
}
