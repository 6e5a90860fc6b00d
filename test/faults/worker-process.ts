/**
 * A worker process for the fault suite: the production composition root (startWorker) with the
 * cases (reports), billing and mail modules, configured from one JSON variable (KEYWARD_FAULT_WORKER) so that a
 * test can give it settings the environment does not expose (short mail leases, a Stripe API
 * and SMTP server of its own). The test SIGKILLs it mid-job and starts another.
 */
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { runUntilSignal } from '../../runtime/process-entry.js';
import { DEFAULT_BILLING_CONFIG, type BillingConfig } from '../../worker/billing/billing-config.js';
import { billingModule } from '../../worker/billing/billing-module.js';
import type { WorkerConfig } from '../../worker/config.js';
import { DEFAULT_MAIL_CONFIG } from '../../worker/mail/mail-config.js';
import { mailModule } from '../../worker/mail/mail-module.js';
import { casesModule } from '../../worker/cases/cases-module.js';
import { startWorker } from '../../worker/main.js';

/** What the test passes. */
export interface FaultWorkerSettings {
  readonly redisUrl: string;
  readonly mongoUrl: string;
  readonly mongoDb: string;
  readonly queuePrefix: string;
  readonly plans: unknown;
  readonly secrets: { readonly digest: string; readonly encryption: string };
  readonly smtpUrl: string;
  readonly stripeApi: BillingConfig['stripeApi'];
}

const settings = JSON.parse(process.env['KEYWARD_FAULT_WORKER'] ?? '{}') as FaultWorkerSettings;
const config: WorkerConfig = {
  redisUrl: settings.redisUrl,
  mongoUrl: settings.mongoUrl,
  mongoDb: settings.mongoDb,
  logLevel: 'info',
  logFormat: 'json',
  secrets: settings.secrets,
  plans: loadPlanCatalogue(settings.plans),
  expiryGraceMs: 0,
  events: { streamPrefix: `${settings.queuePrefix}:events`, partitions: 1 },
  queuePrefix: settings.queuePrefix,
  mail: { ...DEFAULT_MAIL_CONFIG, smtpUrl: settings.smtpUrl, leaseMs: 2_000, sweepIntervalMs: 200, retry: { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 1_000 } },
  billing: { ...DEFAULT_BILLING_CONFIG, stripeApi: settings.stripeApi, paymentGraceMs: 0, jobAttempts: 8, jobBackoffMs: 200, sweepAfterMs: 2_000, scheduleEveryMs: 1_000 },
};
runUntilSignal({ name: 'fault-worker' }, () => startWorker(config, { modules: [casesModule, billingModule, mailModule] }));
