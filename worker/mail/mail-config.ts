/** Settings of the mail sender, parsed from the environment by worker/config.ts. */
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../lib/mail/delivery-retry.js';

/** The mail sender's settings. */
export interface MailConfig {
  /** `smtp://user:pass@host:port` or `smtps://…`; `null`: e-mails stay queued (a warning is logged once). */
  readonly smtpUrl: string | null;
  /** The From header, e.g. `Keyward <licenses@example.com>`. */
  readonly from: string;
  /** Attempts and backoff (MAIL_MAX_ATTEMPTS, MAIL_RETRY_BASE_SECONDS, MAIL_RETRY_MAX_SECONDS). */
  readonly retry: RetryPolicy;
  /** How often the scheduler sweeps the outbox for due e-mails, in ms. */
  readonly sweepIntervalMs: number;
  /** How long one attempt holds an e-mail before another sender may take it, in ms (longer than an SMTP timeout). */
  readonly leaseMs: number;
  /** E-mails sent at once by one worker (SMTP connections in the pool). */
  readonly concurrency: number;
  /** How long sent e-mails stay in the outbox, in ms (a daily job deletes older ones; failed ones stay). */
  readonly retentionMs: number;
}

/** Defaults: no SMTP server, 8 attempts from 30 s up to 1 h apart, sweep every 5 s, 2-minute leases, 4 at once, 90 days kept. */
export const DEFAULT_MAIL_CONFIG: MailConfig = {
  smtpUrl: null,
  from: 'Keyward <no-reply@localhost>',
  retry: DEFAULT_RETRY_POLICY,
  sweepIntervalMs: 5_000,
  leaseMs: 120_000,
  concurrency: 4,
  retentionMs: 90 * 86_400_000,
};
