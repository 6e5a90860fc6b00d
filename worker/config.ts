/** The worker's configuration: parsed once, from the environment, by its composition root. */
import { parseClusterNodes, type ClusterSeed } from '../runtime/redis-connection.js';
import { z } from 'zod';

import { connectionVariables, parseEnvironment, secretVariables, unsetIfEmpty, type Environment } from '../lib/config/environment.js';
import type { PlanCatalogue } from '../lib/plans/plan-catalogue.js';
import { readConfiguredPlans, serverEnvironment } from '../server/config.js';
import { DEFAULT_MAIL_CONFIG, type MailConfig } from './mail/mail-config.js';
import { billingConfigOf, billingEnvironment, type BillingConfig } from './billing/billing-config.js';
import { webhookConfigOf, webhookEnvironment, type WebhookConfig } from './webhooks/webhook-config.js';

export type { Environment } from '../lib/config/environment.js';

const count = (fallback: number, max: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(max).default(fallback));

/** The mail sender's variables (worker/mail/mail-config.ts has the defaults). */
function mailVariables() {
  const defaults = DEFAULT_MAIL_CONFIG;
  return {
    /** SMTP server, `smtp://user:pass@host:port` or `smtps://…`. Unset: e-mails stay queued. */
    SMTP_URL: z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .refine((value) => {
          try {
            return ['smtp:', 'smtps:'].includes(new URL(value).protocol);
          } catch {
            return false;
          }
        }, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587')
        .optional(),
    ),
    /** From header. Default `Keyward <no-reply@localhost>`. */
    MAIL_FROM: z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .max(256)
        .regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an address, e.g. "Keyward <licenses@example.com>", on one line')
        .default(defaults.from),
    ),
    /** Delivery attempts before an e-mail is marked failed. Default 8. */
    MAIL_MAX_ATTEMPTS: count(defaults.retry.maxAttempts, 100),
    /** Wait after the first failed attempt, doubling after each further one, in seconds. Default 30. */
    MAIL_RETRY_BASE_SECONDS: count(defaults.retry.baseDelayMs / 1000, 86_400),
    /** Longest wait between attempts, in seconds. Default 3600. */
    MAIL_RETRY_MAX_SECONDS: count(defaults.retry.maxDelayMs / 1000, 604_800),
    /** How often the outbox is swept for due e-mails, in seconds. Default 5. */
    MAIL_SWEEP_INTERVAL_SECONDS: count(defaults.sweepIntervalMs / 1000, 3_600),
    /** E-mails sent at once per worker (SMTP connections). Default 4. */
    MAIL_CONCURRENCY: count(defaults.concurrency, 64),
    /** Days sent e-mails stay in the outbox. Default 90. */
    MAIL_RETENTION_DAYS: count(defaults.retentionMs / 86_400_000, 3_650),
  };
}

/** The worker's environment variables, with their defaults. */
export const workerEnvironment = z.object({
  ...connectionVariables,
  KEYWARD_DIGEST_SECRET: secretVariables.KEYWARD_DIGEST_SECRET,
  KEYWARD_ENCRYPTION_KEY: secretVariables.KEYWARD_ENCRYPTION_KEY,
  KEYWARD_PLANS_FILE: serverEnvironment.shape.KEYWARD_PLANS_FILE,
  EVENT_STREAM_PREFIX: serverEnvironment.shape.EVENT_STREAM_PREFIX,
  EVENT_STREAM_PARTITIONS: serverEnvironment.shape.EVENT_STREAM_PARTITIONS,
  EXPIRY_GRACE_SECONDS: serverEnvironment.shape.EXPIRY_GRACE_SECONDS,
  /** Prefix of every BullMQ key. Default `keyward`. */
  KEYWARD_QUEUE_PREFIX: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('keyward')),
  ...mailVariables(),
  /** Port of the worker's Prometheus endpoint (`GET /metrics`); 0 turns it off. Default 9464. */
  WORKER_METRICS_PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65_535).default(9464)),
  /** Interface the metrics endpoint listens on. Default 127.0.0.1. */
  WORKER_METRICS_HOST: z.preprocess(unsetIfEmpty, z.string().min(1).default('127.0.0.1')),
  /** Consumer group of the abuse stream consumers. Default `keyward-abuse`. */
  ABUSE_CONSUMER_GROUP: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/).default('keyward-abuse')),
  /** Most stream entries per processor call. Default 500. */
  ABUSE_BATCH_SIZE: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(5_000).default(500)),
  /** How long an idle partition loop waits for new entries, in ms. Default 1000. */
  ABUSE_BLOCK_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(60_000).default(1_000)),
  /** Idle time after which another worker reclaims a crashed worker's pending entries, in ms. Default 30000. */
  ABUSE_CLAIM_IDLE_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).default(30_000)),
  /** Partition lease lifetime, in ms (renewed every third of it). Default 15000. */
  ABUSE_LEASE_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(300).default(15_000)),
  ...billingEnvironment,
  ...webhookEnvironment,
});

/** The worker's configuration. */
export interface WorkerConfig {
  /** Redis URL. */
  readonly redisUrl: string;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); absent: one Redis at redisUrl. */
  readonly redisClusterNodes?: readonly ClusterSeed[] | undefined;
  /** MongoDB connection string. */
  readonly mongoUrl: string;
  /** Database name. */
  readonly mongoDb: string;
  /** pino log level. */
  readonly logLevel: z.output<typeof workerEnvironment>['LOG_LEVEL'];
  /** LOG_FORMAT; absent means `auto`. */
  readonly logFormat?: z.output<typeof workerEnvironment>['LOG_FORMAT'];
  readonly secrets: { readonly digest: string; readonly encryption: string };
  readonly plans: PlanCatalogue;
  /** Validity after the period end, in ms. */
  readonly expiryGraceMs: number;
  /** Where the server appends validation events. */
  readonly events: { readonly streamPrefix: string; readonly partitions: number };
  /** BullMQ key prefix. */
  readonly queuePrefix: string;
  /** The mail sender's settings. Default (absent): DEFAULT_MAIL_CONFIG, i.e. no SMTP server, mail stays queued. */
  readonly mail?: MailConfig;
  /** The Prometheus endpoint; absent or port 0: off (tests leave it out). */
  readonly metrics?: { readonly port: number; readonly host: string };
  /** Stream consumption settings of the abuse detector; absent: the defaults of worker/abuse/stream-consumer.ts. */
  readonly abuseStream?: {
    readonly group: string;
    readonly batchSize: number;
    readonly blockMs: number;
    readonly claimIdleMs: number;
    readonly leaseMs: number;
  };
  /** Billing settings (worker/billing/billing-config.ts). Default: DEFAULT_BILLING_CONFIG. */
  readonly billing?: BillingConfig;
  /** Outbound webhooks (docs/webhooks.md). Default: DEFAULT_WEBHOOK_CONFIG. */
  readonly webhooks?: WebhookConfig;
}

/**
 * Reads the worker configuration from environment variables.
 *
 * @param env - The variables, usually `process.env`.
 * @param cwd - Directory relative paths are resolved against. Default: the process's.
 * @throws Error naming every bad variable (values are never echoed: URLs carry credentials).
 */
export function parseWorkerConfig(env: Environment, cwd: string = process.cwd()): WorkerConfig {
  const parsed = parseEnvironment(workerEnvironment, env);
  return {
    redisUrl: parsed.REDIS_URL,
    redisClusterNodes: parseClusterNodes(parsed.REDIS_CLUSTER_NODES),
    mongoUrl: parsed.MONGODB_URL,
    mongoDb: parsed.MONGODB_DB,
    logLevel: parsed.LOG_LEVEL,
    logFormat: parsed.LOG_FORMAT,
    secrets: { digest: parsed.KEYWARD_DIGEST_SECRET, encryption: parsed.KEYWARD_ENCRYPTION_KEY },
    plans: readConfiguredPlans(parsed.KEYWARD_PLANS_FILE, cwd),
    expiryGraceMs: parsed.EXPIRY_GRACE_SECONDS * 1000,
    events: { streamPrefix: parsed.EVENT_STREAM_PREFIX, partitions: parsed.EVENT_STREAM_PARTITIONS },
    queuePrefix: parsed.KEYWARD_QUEUE_PREFIX,
    mail: {
      ...DEFAULT_MAIL_CONFIG,
      smtpUrl: parsed.SMTP_URL ?? null,
      from: parsed.MAIL_FROM,
      retry: {
        maxAttempts: parsed.MAIL_MAX_ATTEMPTS,
        baseDelayMs: parsed.MAIL_RETRY_BASE_SECONDS * 1000,
        maxDelayMs: Math.max(parsed.MAIL_RETRY_MAX_SECONDS, parsed.MAIL_RETRY_BASE_SECONDS) * 1000,
      },
      sweepIntervalMs: parsed.MAIL_SWEEP_INTERVAL_SECONDS * 1000,
      concurrency: parsed.MAIL_CONCURRENCY,
      retentionMs: parsed.MAIL_RETENTION_DAYS * 86_400_000,
    },
    metrics: { port: parsed.WORKER_METRICS_PORT, host: parsed.WORKER_METRICS_HOST },
    abuseStream: {
      group: parsed.ABUSE_CONSUMER_GROUP,
      batchSize: parsed.ABUSE_BATCH_SIZE,
      blockMs: parsed.ABUSE_BLOCK_MS,
      claimIdleMs: parsed.ABUSE_CLAIM_IDLE_MS,
      leaseMs: parsed.ABUSE_LEASE_MS,
    },
    billing: billingConfigOf(parsed),
    webhooks: webhookConfigOf(parsed),
  };
}
