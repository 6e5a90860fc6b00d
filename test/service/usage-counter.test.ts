/**
 * Monthly usage counts for quotas: counted in memory, pushed to Redis in the background. Every
 * count reaches the store exactly once (also those made while a sync is in flight, those of a
 * month that ended before its sync, and those of a sync that failed), and a decision sees the
 * store's total plus what this process counted since.
 */
import { Redis } from 'ioredis';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';

import { UsageCounter, type UsageStore } from '../../lib/service/usage-counter.js';
import { RedisUsageStore } from '../../lib/store/redis-usage-store.js';
import { redisUrl, uniqueName } from '../setup/services.js';

function redisStore(): { redis: Redis; store: RedisUsageStore } {
  const redis = new Redis(redisUrl());
  onTestFinished(() => redis.disconnect());
  return { redis, store: new RedisUsageStore({ redis, prefix: uniqueName('usage') }) };
}

/** A counter that syncs only when told (the timer's interval is far away). */
function counterOn(store: UsageStore, onError?: (error: unknown) => void): UsageCounter {
  const usage = new UsageCounter({ store, syncIntervalMs: 3_600_000, ...(onError ? { onError } : {}) });
  onTestFinished(() => usage.close());
  return usage;
}

const NOV = new Date('2026-11-28T12:00:00Z');
const DEC = new Date('2026-12-01T00:00:01Z');

describe('UsageCounter', () => {
  it('pushes every count exactly once, whatever the syncs started while counting', async () => {
    const { store } = redisStore();
    const usage = counterOn(store);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('lic_a', 'lic_b', 'lic_c'), fc.integer({ min: 0, max: 15 }), fc.boolean()), { maxLength: 30 }), async (steps) => {
        const before = Object.fromEntries(await Promise.all(['lic_a', 'lic_b', 'lic_c'].map(async (id) => [id, await store.get(id, '2026-11')])));
        const counted: Record<string, number> = { lic_a: 0, lic_b: 0, lic_c: 0 };
        const syncs: Promise<void>[] = [];
        for (const [id, validations, syncNow] of steps) {
          for (let i = 0; i < validations; i++) usage.increment(id, NOV);
          counted[id]! += validations;
          if (syncNow) syncs.push(usage.sync());
        }
        await Promise.all(syncs);
        await usage.sync();
        for (const id of Object.keys(counted)) expect((await store.get(id, '2026-11')) - before[id]!).toBe(counted[id]);
      }),
      { numRuns: 30 },
    );
  });

  it('pushes the counts of a month that ended before its sync to that month, and starts the new month from the store', async () => {
    const { store } = redisStore();
    await store.add('lic_m', '2026-12', 40);
    const usage = counterOn(store);
    for (let i = 0; i < 3; i++) usage.increment('lic_m', NOV);
    usage.increment('lic_m', DEC);
    await usage.sync();
    expect(await store.get('lic_m', '2026-11')).toBe(3);
    expect(await store.get('lic_m', '2026-12')).toBe(41);
    expect(usage.current('lic_m', DEC)).toBe(41);
    await usage.sync();
    expect(await store.get('lic_m', '2026-11')).toBe(3);
  });

  it('sees another process\'s counts after a sync: the store total plus its own', async () => {
    const { store } = redisStore();
    const first = counterOn(store);
    const second = counterOn(store);
    for (let i = 0; i < 5; i++) first.increment('lic_s', NOV);
    await first.sync();
    second.current('lic_s', NOV);
    second.increment('lic_s', NOV);
    await second.sync();
    expect(second.current('lic_s', NOV)).toBe(6);
    expect(await second.total('lic_s', '2026-11')).toBe(6);
  });

  it.each([
    ['one call per counter', false],
    ['one call for all counters', true],
  ])('keeps the counts of a failed sync and pushes them with the next one (a store with %s)', async (_shape, batched) => {
    const { store } = redisStore();
    let failing = true;
    const refuse = (): never => {
      throw new Error('store unavailable');
    };
    const flaky: UsageStore = {
      add: async (licenseId, month, count) => (failing ? refuse() : store.add(licenseId, month, count)),
      get: (licenseId, month) => store.get(licenseId, month),
      ...(batched
        ? {
            addMany: async (items) => (failing ? refuse() : store.addMany(items)),
            getMany: (items) => store.getMany(items),
          }
        : {}),
    };
    const errors: unknown[] = [];
    const usage = counterOn(flaky, (error) => errors.push(error));
    for (let i = 0; i < 4; i++) usage.increment('lic_f', NOV);
    await usage.sync();
    expect(errors).not.toHaveLength(0);
    expect(await store.get('lic_f', '2026-11')).toBe(0);
    failing = false;
    usage.increment('lic_f', NOV);
    await usage.sync();
    expect(await store.get('lic_f', '2026-11')).toBe(5);
  });

  it('loads the totals of licenses first seen in one round together, and decides on them', async () => {
    const { redis, store } = redisStore();
    for (const id of ['lic_l1', 'lic_l2', 'lic_l3']) await store.add(id, '2026-11', 100);
    const usage = counterOn(store);
    const before = Number(/cmdstat_get:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    for (const id of ['lic_l1', 'lic_l2', 'lic_l3']) expect(usage.current(id, NOV)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const id of ['lic_l1', 'lic_l2', 'lic_l3']) expect(usage.current(id, NOV)).toBe(100);
    const after = Number(/cmdstat_get:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    expect(after - before).toBeGreaterThanOrEqual(3);
  });

  it('without a store, counts in this process only', async () => {
    const usage = new UsageCounter();
    for (let i = 0; i < 3; i++) usage.increment('lic_local', NOV);
    expect(usage.current('lic_local', NOV)).toBe(3);
    expect(await usage.total('lic_local', '2026-11')).toBe(3);
    expect(await usage.total('lic_local', '2026-10')).toBe(0);
  });
});
