/** The worker's configuration: parsed once, from the environment, by its composition root. */
import { resolve } from 'node:path';

import { z } from 'zod';

import { connectionVariables, parseEnvironment, secretVariables, unsetIfEmpty, type Environment } from '../lib/config/environment.js';
import type { PlanCatalogue } from '../lib/plans/plan-catalogue.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue, serverEnvironment } from '../server/config.js';
import { billingConfigOf, billingEnvironment, type BillingConfig } from './billing/billing-config.js';

export type { Environment } from '../lib/config/environment.js';

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
  ...billingEnvironment,
});

/** The worker's configuration. */
export interface WorkerConfig {
  /** Redis URL. */
  readonly redisUrl: string;
  /** MongoDB connection string. */
  readonly mongoUrl: string;
  /** Database name. */
  readonly mongoDb: string;
  /** pino log level. */
  readonly logLevel: z.output<typeof workerEnvironment>['LOG_LEVEL'];
  readonly secrets: { readonly digest: string; readonly encryption: string };
  readonly plans: PlanCatalogue;
  /** Validity after the period end, in ms. */
  readonly expiryGraceMs: number;
  /** Where the server appends validation events. */
  readonly events: { readonly streamPrefix: string; readonly partitions: number };
  /** BullMQ key prefix. */
  readonly queuePrefix: string;
  /** Billing settings (worker/billing/billing-config.ts). Default: DEFAULT_BILLING_CONFIG. */
  readonly billing?: BillingConfig;
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
    mongoUrl: parsed.MONGODB_URL,
    mongoDb: parsed.MONGODB_DB,
    logLevel: parsed.LOG_LEVEL,
    secrets: { digest: parsed.KEYWARD_DIGEST_SECRET, encryption: parsed.KEYWARD_ENCRYPTION_KEY },
    plans: readPlanCatalogue(parsed.KEYWARD_PLANS_FILE === undefined ? DEFAULT_PLANS_FILE : resolve(cwd, parsed.KEYWARD_PLANS_FILE)),
    expiryGraceMs: parsed.EXPIRY_GRACE_SECONDS * 1000,
    events: { streamPrefix: parsed.EVENT_STREAM_PREFIX, partitions: parsed.EVENT_STREAM_PARTITIONS },
    queuePrefix: parsed.KEYWARD_QUEUE_PREFIX,
    billing: billingConfigOf(parsed),
  };
}
