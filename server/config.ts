/** The server's configuration: parsed once, from the environment, by its composition root. */
import { parseClusterNodes, type ClusterSeed } from '../runtime/redis-connection.js';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { z } from 'zod';

import {
  type LOG_FORMATS,
  type LOG_LEVELS,
  connectionVariables,
  parseEnvironment,
  secretVariables,
  unsetIfEmpty,
  type Environment,
} from '../lib/config/environment.js';
import { loadPlanCatalogue, type PlanCatalogue } from '../lib/plans/plan-catalogue.js';
import { parseVerificationKeys, type VerificationKeyOptions } from '../lib/tokens/signing-key-set.js';

import type { AddressPolicy } from '../lib/webhooks/address-policy.js';
import { addressPolicyOf, webhookAddressVariables } from '../lib/webhooks/webhook-environment.js';
export { parseEnvironment, type Environment } from '../lib/config/environment.js';

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const positiveInt = (fallback: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(fallback));

/**
 * The server's environment variables, with their defaults. Exported so launchers that set some
 * of them (scripts/start.ts) can reuse the same rules.
 */
export const serverEnvironment = z.object({
  /** HTTP port. Default 8080. */
  PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65_535).default(8080)),
  /** Interface to listen on. Default 127.0.0.1. */
  HOST: z.preprocess(unsetIfEmpty, z.string().default('127.0.0.1')),
  ...connectionVariables,
  ...secretVariables,
  /** Directory for local data, relative to the working directory. Default `.keyward`. */
  KEYWARD_DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('.keyward')),
  /** Plan catalogue (JSON). Default `config/plans.json` in the project. */
  KEYWARD_PLANS_FILE: z.preprocess(unsetIfEmpty, z.string().optional()),
  /** Proxies whose X-Forwarded-For is believed: comma-separated IPs, CIDRs or `loopback`. Default none. */
  TRUSTED_PROXIES: z.preprocess(unsetIfEmpty, z.string().default('')),
  /** Largest JSON body, in bytes. Default 16384. */
  BODY_LIMIT_BYTES: positiveInt(16_384),
  /** Requests per minute per client IP (validate, activate, deactivate). Default 600. */
  RATE_LIMIT_PER_IP_PER_MINUTE: positiveInt(600),
  /** IPv6 addresses sharing this prefix length count as one client for the per-IP limit (1-128). Default 64. */
  RATE_LIMIT_IPV6_PREFIX_LENGTH: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(128).default(64)),
  /** Requests per minute per key. Default 300. */
  RATE_LIMIT_PER_KEY_PER_MINUTE: positiveInt(300),
  /** Longest a cached license is served without reloading, in ms. Default 5000. */
  CACHE_MAX_STALE_MS: positiveInt(5_000),
  /** Licenses kept in the cache. Default 200000. */
  CACHE_MAX_ENTRIES: positiveInt(200_000),
  /**
   * How long before CACHE_MAX_STALE_MS runs out a license in use is reloaded in the background,
   * in ms; 0 turns it off. Default: a fifth of CACHE_MAX_STALE_MS, at most 1000.
   */
  CACHE_REFRESH_AHEAD_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().nonnegative().optional()),
  /**
   * Next and retired public keys published beside KEYWARD_SIGNING_KEY, as JSON:
   * `[{"kid":"k2","state":"next","publicKey":"…"},{"kid":"k1","state":"retired","publicKey":"…","validUntil":"…"}]`.
   * Default none (docs/library.md, rotation).
   */
  KEYWARD_SIGNING_KEYS: z.preprocess(unsetIfEmpty, z.string().optional()),
  /** Lifetime of validation tokens, in seconds. Default 259200 (3 days). */
  TOKEN_TTL_SECONDS: positiveInt(259_200),
  /** Prefix of the validation event streams (`<prefix>:{n}`). Default `keyward:events`. */
  EVENT_STREAM_PREFIX: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('keyward:events')),
  /** Number of event stream partitions (spread over Redis Cluster slots). Default 16. */
  EVENT_STREAM_PARTITIONS: positiveInt(16),
  /** Length each partition stream is trimmed to, approximately. Default 100000. */
  EVENT_STREAM_MAX_LENGTH: positiveInt(100_000),
  /** Prefix of every BullMQ key (the same as the worker's). Default `keyward`. */
  KEYWARD_QUEUE_PREFIX: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('keyward')),
  /** Validity after the period end, in seconds (renewal webhooks arrive late). Default 0. */
  EXPIRY_GRACE_SECONDS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).default(0)),
  /** Signing secret of the Stripe webhook endpoint (`whsec_…`). Unset: the webhook answers 503 STRIPE_NOT_CONFIGURED. */
  STRIPE_WEBHOOK_SECRET: z.preprocess(unsetIfEmpty, z.string().regex(/^whsec_[A-Za-z0-9_]+$/, 'must be a webhook signing secret (whsec_…)').optional()),
  /** Oldest signature timestamp accepted, in seconds (replay window). Default 300. */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: positiveInt(300),
  /** Largest webhook body, in bytes. Default 262144. */
  STRIPE_WEBHOOK_BODY_LIMIT_BYTES: positiveInt(262_144),
  /** Tries of one Stripe event job before it is dead-lettered. Default 8. */
  BILLING_JOB_ATTEMPTS: positiveInt(8),
  /** First retry delay of a Stripe event job (doubling), ms. Default 2000. */
  BILLING_JOB_BACKOFF_MS: positiveInt(2_000),
  ...webhookAddressVariables,
});

/** The Stripe webhook's settings. */
export interface StripeWebhookConfig {
  /** `whsec_…`, or `null` when Stripe is not configured. */
  readonly webhookSecret: string | null;
  readonly toleranceSeconds: number;
  readonly bodyLimitBytes: number;
  /** Retry policy of the jobs the webhook queues. */
  readonly jobAttempts: number;
  readonly jobBackoffMs: number;
}

/** Webhook settings when none are given: not configured (503), defaults otherwise. */
export const DEFAULT_STRIPE_WEBHOOK_CONFIG: StripeWebhookConfig = {
  webhookSecret: null,
  toleranceSeconds: 300,
  bodyLimitBytes: 262_144,
  jobAttempts: 8,
  jobBackoffMs: 2_000,
};

/** The server's configuration. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); absent: one Redis at redisUrl. */
  readonly redisClusterNodes?: readonly ClusterSeed[] | undefined;
  readonly mongoUrl: string;
  readonly mongoDb: string;
  /** Absolute directory for local data. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** LOG_FORMAT; absent means `auto`. */
  readonly logFormat?: (typeof LOG_FORMATS)[number];
  readonly secrets: { readonly digest: string; readonly encryption: string };
  readonly signing: {
    readonly privateKey: string;
    readonly keyId: string;
    readonly ttlSeconds: number;
    /** Next and retired keys (KEYWARD_SIGNING_KEYS). Default none. */
    readonly others?: readonly VerificationKeyOptions[];
  };
  readonly plans: PlanCatalogue;
  readonly trustedProxies: readonly string[];
  readonly bodyLimitBytes: number;
  readonly rateLimits: { readonly perIpPerMinute: number; readonly perKeyPerMinute: number; /** Default 64. */ readonly ipv6PrefixLength?: number };
  readonly cache: { readonly maxStaleMs: number; readonly maxEntries: number; readonly refreshAheadMs?: number };
  readonly expiryGraceMs: number;
  readonly events: { readonly streamPrefix: string; readonly partitions: number; readonly maxStreamLength: number };
  /** BullMQ key prefix, shared with the worker (report jobs, mail wake-ups, billing jobs). */
  readonly queuePrefix: string;
  /** The Stripe webhook. Default: DEFAULT_STRIPE_WEBHOOK_CONFIG (not configured). */
  readonly stripe?: StripeWebhookConfig;
  /** Where webhook endpoints may point (checked when one is saved). Default: public HTTPS only. */
  readonly webhookPolicy?: AddressPolicy;
}

/** The project's default plan catalogue (found from source and from the built dist/ alike). */
export const DEFAULT_PLANS_FILE = ((): string => {
  const candidates = ['../config/plans.json', '../../config/plans.json'].map((path) => resolve(import.meta.dirname, path));
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
})();

/** Reads and checks a plan catalogue file; the error names the file and the bad field. */
export function readPlanCatalogue(file: string): PlanCatalogue {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Invalid configuration:\n  KEYWARD_PLANS_FILE: cannot read ${file} as JSON (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
  try {
    return loadPlanCatalogue(data);
  } catch (error) {
    throw new Error(`Invalid configuration:\n  KEYWARD_PLANS_FILE: ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** The catalogue KEYWARD_PLANS_FILE names (relative to `cwd`), or the project's default. */
export function readConfiguredPlans(file: string | undefined, cwd: string): PlanCatalogue {
  return readPlanCatalogue(file === undefined ? DEFAULT_PLANS_FILE : resolve(cwd, file));
}

/** KEYWARD_SIGNING_KEYS, with the same error form as the other variables. */
function readSigningKeys(text: string): VerificationKeyOptions[] {
  try {
    return parseVerificationKeys(text);
  } catch (error) {
    throw new Error(`Invalid configuration:\n  ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Reads the server configuration from environment variables.
 *
 * @param env - The variables, usually `process.env`.
 * @param cwd - Directory relative paths are resolved against.
 * @throws Error naming every bad variable and what is wrong with it.
 */
export function parseServerConfig(env: Environment, cwd: string): ServerConfig {
  const parsed = parseEnvironment(serverEnvironment, env);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    redisUrl: parsed.REDIS_URL,
    redisClusterNodes: parseClusterNodes(parsed.REDIS_CLUSTER_NODES),
    mongoUrl: parsed.MONGODB_URL,
    mongoDb: parsed.MONGODB_DB,
    dataDir: resolve(cwd, parsed.KEYWARD_DATA_DIR),
    logLevel: parsed.LOG_LEVEL,
    logFormat: parsed.LOG_FORMAT,
    secrets: { digest: parsed.KEYWARD_DIGEST_SECRET, encryption: parsed.KEYWARD_ENCRYPTION_KEY },
    signing: {
      privateKey: parsed.KEYWARD_SIGNING_KEY,
      keyId: parsed.KEYWARD_SIGNING_KEY_ID,
      ttlSeconds: parsed.TOKEN_TTL_SECONDS,
      ...(parsed.KEYWARD_SIGNING_KEYS === undefined ? {} : { others: readSigningKeys(parsed.KEYWARD_SIGNING_KEYS) }),
    },
    plans: readConfiguredPlans(parsed.KEYWARD_PLANS_FILE, cwd),
    trustedProxies: parsed.TRUSTED_PROXIES.split(',').map((proxy) => proxy.trim()).filter((proxy) => proxy !== ''),
    bodyLimitBytes: parsed.BODY_LIMIT_BYTES,
    rateLimits: {
      perIpPerMinute: parsed.RATE_LIMIT_PER_IP_PER_MINUTE,
      perKeyPerMinute: parsed.RATE_LIMIT_PER_KEY_PER_MINUTE,
      ipv6PrefixLength: parsed.RATE_LIMIT_IPV6_PREFIX_LENGTH,
    },
    cache: {
      maxStaleMs: parsed.CACHE_MAX_STALE_MS,
      maxEntries: parsed.CACHE_MAX_ENTRIES,
      ...(parsed.CACHE_REFRESH_AHEAD_MS === undefined ? {} : { refreshAheadMs: parsed.CACHE_REFRESH_AHEAD_MS }),
    },
    expiryGraceMs: parsed.EXPIRY_GRACE_SECONDS * 1000,
    events: { streamPrefix: parsed.EVENT_STREAM_PREFIX, partitions: parsed.EVENT_STREAM_PARTITIONS, maxStreamLength: parsed.EVENT_STREAM_MAX_LENGTH },
    queuePrefix: parsed.KEYWARD_QUEUE_PREFIX,
    stripe: {
      webhookSecret: parsed.STRIPE_WEBHOOK_SECRET ?? null,
      toleranceSeconds: parsed.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      bodyLimitBytes: parsed.STRIPE_WEBHOOK_BODY_LIMIT_BYTES,
      jobAttempts: parsed.BILLING_JOB_ATTEMPTS,
      jobBackoffMs: parsed.BILLING_JOB_BACKOFF_MS,
    },
    webhookPolicy: addressPolicyOf(parsed),
  };
}
