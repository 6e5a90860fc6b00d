import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { startRedisServer } from '../../../embedded/redis-server.js';
import { RateLimits, type RateLimitsOptions, type RateLimitVerdict } from '../../../server/rate-limit/rate-limits.js';
import { redisUrl, uniqueName } from '../../setup/services.js';

/** A fail-fast connection, as the server makes for rate limits; closed when the test finishes. */
async function connection(url = redisUrl()): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 20, lazyConnect: true });
  redis.on('error', () => undefined);
  onTestFinished(() => redis.disconnect());
  await redis.connect();
  return redis;
}

/** Limits under a key prefix of the test's own, whose keys are deleted when the test finishes. */
function limitsFor(redis: Redis, options: Omit<RateLimitsOptions, 'redis' | 'keyPrefix'>, keyPrefix = uniqueName('rl')): RateLimits {
  onTestFinished(async () => {
    if (redis.status !== 'ready') return;
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  return new RateLimits({ redis, keyPrefix, ...options });
}

async function consumeTimes(times: number, consume: () => Promise<RateLimitVerdict>): Promise<RateLimitVerdict[]> {
  const verdicts: RateLimitVerdict[] = [];
  for (let i = 0; i < times; i += 1) verdicts.push(await consume());
  return verdicts;
}

/** How many times the server ran a command, from INFO commandstats. */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

describe('RateLimits: limits', () => {
  it('allows up to the points of the window, then answers blocked with Retry-After seconds', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 3, durationSeconds: 30 } });

    const verdicts = await consumeTimes(5, () => limits.consumeIp('203.0.113.7'));

    expect(verdicts.slice(0, 3)).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    for (const verdict of verdicts.slice(3)) {
      expect(verdict.allowed).toBe(false);
      const retryAfter = verdict.allowed ? 0 : verdict.retryAfterSeconds;
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(29);
      expect(retryAfter).toBeLessThanOrEqual(30);
    }
  });

  it('counts each IP and each key on its own', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 2, durationSeconds: 60 }, perKey: { points: 2, durationSeconds: 60 } });

    await consumeTimes(3, () => limits.consumeIp('same'));

    expect(await limits.consumeIp('same')).toMatchObject({ allowed: false });
    expect(await limits.consumeIp('other')).toEqual({ allowed: true, remaining: 1 });
    expect(await limits.consumeKey('same')).toEqual({ allowed: true, remaining: 1 });
    await limits.consumeKey('same');
    expect(await limits.consumeKey('same')).toMatchObject({ allowed: false });
    expect(await limits.consumeIp('other')).toEqual({ allowed: true, remaining: 0 });
  });

  it('shares the count between instances: it is kept in Redis', async () => {
    const keyPrefix = uniqueName('rl');
    const redis = await connection();
    const first = limitsFor(redis, { perKey: { points: 3, durationSeconds: 60 } }, keyPrefix);
    const second = limitsFor(await connection(), { perKey: { points: 3, durationSeconds: 60 } }, keyPrefix);
    const digest = 'c'.repeat(64);

    await first.consumeKey(digest);
    await first.consumeKey(digest);

    expect(await second.consumeKey(digest)).toEqual({ allowed: true, remaining: 0 });
    expect(await first.consumeKey(digest)).toMatchObject({ allowed: false });
    expect(await redis.get(`${keyPrefix}:key:${digest}`)).toBe('4');
    expect(await redis.ttl(`${keyPrefix}:key:${digest}`)).toBeGreaterThan(55);
  });

  it('uses one Redis command per consume, and none for a key already over its limit', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const redis = await connection(server.url);
    const limits = limitsFor(redis, { perIp: { points: 20, durationSeconds: 60 } });
    await limits.consumeIp('warm-up'); // loads the Lua script (EVALSHA, then EVAL on NOSCRIPT)
    const before = await commandCalls(redis, 'evalsha');

    await consumeTimes(20, () => limits.consumeIp('flooder'));
    const afterAllowed = await commandCalls(redis, 'evalsha');
    await consumeTimes(100, () => limits.consumeIp('flooder'));

    expect(afterAllowed - before).toBe(20);
    // The 21st consume learns from Redis that the IP is over; the rest are answered from memory.
    expect((await commandCalls(redis, 'evalsha')) - afterAllowed).toBe(1);
    expect(await commandCalls(redis, 'eval')).toBe(1);
  });
});

describe('RateLimits: Redis unavailable', () => {
  it('still answers from per-process counts while Redis is stopped, and never throws', async () => {
    const server = await startRedisServer();
    const redis = await connection(server.url);
    const limits = new RateLimits({ redis, keyPrefix: uniqueName('rl'), perIp: { points: 2, durationSeconds: 60 } });
    expect(await limits.consumeIp('203.0.113.7')).toEqual({ allowed: true, remaining: 1 });

    await server.stop();
    const verdicts = await consumeTimes(3, () => limits.consumeIp('198.51.100.1'));
    const keyVerdict = await limits.consumeKey('d'.repeat(64));

    expect(verdicts).toEqual([
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      expect.objectContaining({ allowed: false }),
    ]);
    expect(keyVerdict).toEqual({ allowed: true, remaining: 299 });
  });

  it('answers at once through a client that never connected', async () => {
    const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const limits = new RateLimits({ redis, keyPrefix: uniqueName('rl') });

    expect(await limits.consumeKey('e'.repeat(64))).toEqual({ allowed: true, remaining: 299 });
    expect(await limits.consumeIp('203.0.113.7')).toEqual({ allowed: true, remaining: 599 });
  });
});

describe('RateLimits: options', () => {
  const redis = new Redis({ lazyConnect: true });

  it.each([
    ['perIp.points', { perIp: { points: 0 } }],
    ['perIp.durationSeconds', { perIp: { durationSeconds: 1.5 } }],
    ['perKey.points', { perKey: { points: -3 } }],
    ['perKey.durationSeconds', { perKey: { durationSeconds: Number.NaN } }],
    ['keyPrefix', { keyPrefix: '' }],
  ])('names %s when it is invalid', (field, bad) => {
    expect(() => new RateLimits({ redis, ...bad })).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field } }));
  });

  it('names redis when it is not a client', () => {
    expect(() => new RateLimits({ redis: {} as Redis })).toThrow(expect.objectContaining({ context: { field: 'redis' } }));
  });
});
