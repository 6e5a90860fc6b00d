/** Monthly usage counters in Redis: one integer per license and month, expiring after the month. */
import type { Redis } from 'ioredis';
import type { UsageAddition, UsageStore, UsageSubject } from '../service/usage-counter.js';

/** Options for {@link RedisUsageStore}. */
export interface RedisUsageStoreOptions {
  readonly redis: Redis;
  /** Key prefix. Default `keyward:usage`. */
  readonly prefix?: string;
  /** Lifetime of a month's counter, in seconds. Default 40 days (the month plus reporting time). */
  readonly ttlSeconds?: number;
}

/** {@link UsageStore} on Redis: INCRBY and GET, one command each. */
export class RedisUsageStore implements UsageStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(options: RedisUsageStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'keyward:usage';
    this.#ttlSeconds = options.ttlSeconds ?? 40 * 86_400;
  }

  async add(licenseId: string, month: string, count: number): Promise<number> {
    const [total] = await this.addMany([{ licenseId, month, count }]);
    if (total instanceof Error || total === undefined) throw total ?? new Error('usage counter update failed: no reply');
    return total;
  }

  /** One pipeline: INCRBY and EXPIRE per counter; each answered with its total or its error. */
  async addMany(items: readonly UsageAddition[]): Promise<(number | Error)[]> {
    const pipeline = this.#redis.pipeline();
    for (const { licenseId, month, count } of items) {
      const key = this.#key(licenseId, month);
      pipeline.incrby(key, count).expire(key, this.#ttlSeconds);
    }
    const results = (await pipeline.exec()) ?? [];
    return items.map((_, index) => {
      const [error, total] = results[index * 2] ?? [new Error('usage counter update failed: no reply'), null];
      return error ?? Number(total);
    });
  }

  /** One pipeline of GETs. */
  async getMany(items: readonly UsageSubject[]): Promise<number[]> {
    const pipeline = this.#redis.pipeline();
    for (const { licenseId, month } of items) pipeline.get(this.#key(licenseId, month));
    const results = (await pipeline.exec()) ?? [];
    return items.map((_, index) => {
      const [error, value] = results[index] ?? [new Error('usage counter read failed: no reply'), null];
      if (error) throw error;
      return Number(value ?? 0);
    });
  }

  async get(licenseId: string, month: string): Promise<number> {
    return Number((await this.#redis.get(this.#key(licenseId, month))) ?? 0);
  }

  #key(licenseId: string, month: string): string {
    return `${this.#prefix}:${licenseId}:${month}`;
  }
}
