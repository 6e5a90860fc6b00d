/**
 * Flood limits of the validation route, per client IP and per key: fixed windows counted in Redis
 * so that every server instance sees the same count (rate-limiter-flexible's `RateLimiterRedis`,
 * one Lua script call per consume). Redis being down must never fail a validation (design.md,
 * Validation), so each limiter is insured by a per-process in-memory limiter with the same rule.
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';

/** A rate-limit answer: a value, never an exception. */
export type RateLimitVerdict =
  | {
      readonly allowed: true;
      /** Points left in the current window. */
      readonly remaining: number;
    }
  | {
      readonly allowed: false;
      /** Whole seconds until the window resets (at least 1): the `Retry-After` header. */
      readonly retryAfterSeconds: number;
    };

/** One limit: at most `points` consumes per `durationSeconds` window. */
export interface RateLimitRule {
  /** Consumes allowed per window. */
  readonly points?: number;
  /** Window length in seconds, starting at the first consume. */
  readonly durationSeconds?: number;
}

/** Options for {@link RateLimits}. */
export interface RateLimitsOptions {
  /**
   * Where the counts are kept. Required. A connection made to fail fast keeps validations fast
   * while Redis is in trouble: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`, and a
   * `commandTimeout` (say 100 ms) for a Redis that hangs instead of refusing. Whenever the client
   * is not ready, or a command fails, the count falls back to this process's memory.
   */
  readonly redis: Redis;
  /** Limit per client IP. Default: 600 points per 60 s. */
  readonly perIp?: RateLimitRule;
  /** Limit per key (by key digest). Default: 300 points per 60 s. */
  readonly perKey?: RateLimitRule;
  /** Prefix of the Redis keys: `<keyPrefix>:ip:<ip>` and `<keyPrefix>:key:<digest>`. Default: `'keyward:rl'`. */
  readonly keyPrefix?: string;
}

/**
 * Per-IP and per-key rate limits. While Redis is unavailable, each process counts on its own, so
 * the effective limit grows with the number of server instances until Redis is back.
 */
export class RateLimits {
  private readonly perIp: RateLimiterRedis;
  private readonly perKey: RateLimiterRedis;

  /**
   * @param options - Connection, rules and key prefix; see {@link RateLimitsOptions}.
   * @throws ConfigurationError naming the first invalid option.
   */
  constructor(options: RateLimitsOptions) {
    const redis: unknown = options.redis;
    if (typeof redis !== 'object' || redis === null || typeof (redis as Partial<Redis>).defineCommand !== 'function') {
      throw new ConfigurationError('redis', 'must be an ioredis client');
    }
    const keyPrefix = options.keyPrefix ?? 'keyward:rl';
    if (typeof keyPrefix !== 'string' || keyPrefix === '') throw new ConfigurationError('keyPrefix', 'must be a non-empty string');
    this.perIp = insuredLimiter(options.redis, `${keyPrefix}:ip`, 'perIp', options.perIp, { points: 600, durationSeconds: 60 });
    this.perKey = insuredLimiter(options.redis, `${keyPrefix}:key`, 'perKey', options.perKey, { points: 300, durationSeconds: 60 });
  }

  /**
   * Counts one request from `ip` and tells whether it may proceed.
   *
   * @throws Only on a fault that the in-memory fallback could not absorb either; being limited is a verdict.
   */
  consumeIp(ip: string): Promise<RateLimitVerdict> {
    return consume(this.perIp, ip);
  }

  /**
   * Counts one validation of the key with this digest and tells whether it may proceed.
   *
   * @throws Only on a fault that the in-memory fallback could not absorb either; being limited is a verdict.
   */
  consumeKey(keyDigest: string): Promise<RateLimitVerdict> {
    return consume(this.perKey, keyDigest);
  }
}

function insuredLimiter(
  redis: Redis,
  keyPrefix: string,
  field: string,
  rule: RateLimitRule | undefined,
  defaults: Required<RateLimitRule>,
): RateLimiterRedis {
  const points = positiveInteger(`${field}.points`, rule?.points ?? defaults.points);
  const duration = positiveInteger(`${field}.durationSeconds`, rule?.durationSeconds ?? defaults.durationSeconds);
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    // Fail over at once when the connection is down, whatever the client's own queueing options.
    rejectIfRedisNotReady: true,
    // Once a key is over its limit, this process answers "limited" from memory until the window
    // ends: a flood then costs no Redis round trip at all.
    inMemoryBlockOnConsumed: points + 1,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
}

async function consume(limiter: RateLimiterRedis, key: string): Promise<RateLimitVerdict> {
  try {
    const result = await limiter.consume(key);
    return { allowed: true, remaining: result.remainingPoints };
  } catch (rejection: unknown) {
    // The library rejects with its result object when the limit is exceeded, with an Error on a fault.
    if (rejection instanceof RateLimiterRes) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1_000)) };
    }
    throw rejection;
  }
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigurationError(field, `must be a positive integer, got ${String(value)}`);
  return value;
}
