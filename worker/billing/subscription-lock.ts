/**
 * One holder at a time per subscription, across workers: a Redis key set with NX and an
 * expiry, released only by its holder (compare-and-delete). Decisions are taken on reads made
 * inside the lock, so two jobs about one subscription never act on each other's stale view.
 */
import { randomBytes } from 'node:crypto';

import type { Redis } from 'ioredis';

import { BillingJobError } from './billing-job-error.js';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Options for {@link SubscriptionLock}. */
export interface SubscriptionLockOptions {
  readonly redis: Redis;
  /** Key prefix (the worker's queue prefix). Required. */
  readonly prefix: string;
  /** Longest a holder keeps the lock if it dies, ms. Default 30,000. */
  readonly ttlMs?: number;
  /** Longest wait for the lock before the job is retried later, ms. Default 10,000. */
  readonly waitMs?: number;
}

/** A per-subscription mutex on Redis. */
export class SubscriptionLock {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitMs: number;

  constructor(options: SubscriptionLockOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#waitMs = options.waitMs ?? 10_000;
  }

  /** Runs `fn` holding the subscription's lock; a lock held too long makes a retryable SUBSCRIPTION_BUSY. */
  async run<T>(subscriptionId: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.#prefix}:{billing}:lock:${subscriptionId}`;
    const token = randomBytes(12).toString('hex');
    const deadline = performance.now() + this.#waitMs;
    let pause = 5;
    while ((await this.#redis.set(key, token, 'PX', this.#ttlMs, 'NX')) !== 'OK') {
      if (performance.now() > deadline) {
        throw new BillingJobError('SUBSCRIPTION_BUSY', `Subscription ${subscriptionId} is being changed by another job.`, { retry: true });
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await this.#redis.eval(RELEASE, 1, key, token);
    }
  }
}
