/**
 * One holder at a time per subscription, across workers: a Redis key set with NX and an
 * expiry, released only by its holder (compare-and-delete). Decisions are taken on reads made
 * inside the lock, so two jobs about one subscription never act on each other's stale view.
 */
import { randomBytes } from 'node:crypto';

import type { Redis } from 'ioredis';

import { BillingJobError } from './billing-job-error.js';

const busy = (subscriptionId: string): BillingJobError =>
  new BillingJobError('SUBSCRIPTION_BUSY', `Subscription ${subscriptionId} is being changed by another job.`, { retry: true });

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
  /** The last job of this process in line for each subscription. */
  readonly #local = new Map<string, Promise<void>>();

  constructor(options: SubscriptionLockOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#waitMs = options.waitMs ?? 10_000;
  }

  /** Runs `fn` holding the subscription's lock; a lock held too long makes a retryable SUBSCRIPTION_BUSY. */
  async run<T>(subscriptionId: string, fn: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.#waitMs;
    // Jobs of this process queue here first and are handed the lock in turn as each finishes,
    // instead of polling Redis (the two events of one purchase usually arrive back to back).
    const previous = this.#local.get(subscriptionId);
    let done: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous === undefined ? mine : previous.then(() => mine);
    this.#local.set(subscriptionId, tail);
    try {
      if (previous !== undefined) await this.#within(previous, deadline, subscriptionId);
      return await this.#runHeld(subscriptionId, fn, deadline);
    } finally {
      done();
      if (this.#local.get(subscriptionId) === tail) this.#local.delete(subscriptionId);
    }
  }

  /** Waits for `previous` until the deadline. */
  async #within(previous: Promise<void>, deadline: number, subscriptionId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, deadline - performance.now()))));
    try {
      if ((await Promise.race([previous, late])) === 'late') throw busy(subscriptionId);
    } finally {
      clearTimeout(timer);
    }
  }

  async #runHeld<T>(subscriptionId: string, fn: () => Promise<T>, deadline: number): Promise<T> {
    const key = `${this.#prefix}:{billing}:lock:${subscriptionId}`;
    const token = randomBytes(12).toString('hex');
    let pause = 5;
    while ((await this.#redis.set(key, token, 'PX', this.#ttlMs, 'NX')) !== 'OK') {
      if (performance.now() > deadline) throw busy(subscriptionId);
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
