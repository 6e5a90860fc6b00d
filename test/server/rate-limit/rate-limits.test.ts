/**
 * Rate limits counted in memory and shared through Redis in batches: the limit holds per
 * process at once, across instances after a sync, and without Redis at all.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { startRedisServer } from '../../../embedded/redis-server.js';
import fc from 'fast-check';

import { rateLimitSubjectOf } from '../../../server/rate-limit/rate-limit-subject.js';
import { RateLimits, type RateLimitsOptions } from '../../../server/rate-limit/rate-limits.js';
import { redisUrl, uniqueName } from '../../setup/services.js';

/** A fail-fast connection, as the server makes for rate limits; closed when the test finishes. */
async function connection(url = redisUrl()): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 20, lazyConnect: true });
  redis.on('error', () => undefined);
  onTestFinished(() => redis.disconnect());
  await redis.connect();
  return redis;
}

/** Limits on a fixed clock, under a key prefix of the test's own; closed when the test finishes. */
function limitsFor(redis: Redis, options: Omit<RateLimitsOptions, 'redis'> = {}): RateLimits {
  const limits = new RateLimits({ redis, keyPrefix: uniqueName('rl'), syncIntervalMs: 60_000, now: () => Date.parse('2026-11-28T12:00:10Z'), ...options });
  onTestFinished(() => limits.close());
  return limits;
}

/** How many times the server ran a command, from INFO commandstats. */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

describe('RateLimits: limits', () => {
  it('allows up to the points of the window, then answers blocked with the seconds left in it', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 3, durationSeconds: 60 } });
    const verdicts = Array.from({ length: 5 }, () => limits.consumeIp('203.0.113.1'));
    expect(verdicts.slice(0, 3)).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    // The window is aligned to the minute; the clock stands at :10, so 50 s are left.
    expect(verdicts.slice(3)).toEqual([
      { allowed: false, retryAfterSeconds: 50 },
      { allowed: false, retryAfterSeconds: 50 },
    ]);
  });

  it('counts each IP and each key on its own', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 1 }, perKey: { points: 1 } });
    expect(limits.consumeIp('a').allowed).toBe(true);
    expect(limits.consumeIp('a').allowed).toBe(false);
    expect(limits.consumeIp('b').allowed).toBe(true);
    expect(limits.consumeKey('a').allowed).toBe(true);
    expect(limits.consumeKey('a').allowed).toBe(false);
  });

  it('starts afresh in the next window', async () => {
    let now = Date.parse('2026-11-28T12:00:59Z');
    const limits = limitsFor(await connection(), { perIp: { points: 1 }, now: () => now });
    expect(limits.consumeIp('a').allowed).toBe(true);
    expect(limits.consumeIp('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now = Date.parse('2026-11-28T12:01:00Z');
    expect(limits.consumeIp('a').allowed).toBe(true);
  });

  it('shares the count between instances through Redis once they have synced', async () => {
    const redis = await connection();
    const keyPrefix = uniqueName('rl');
    const first = limitsFor(redis, { keyPrefix, perKey: { points: 5 } });
    const second = limitsFor(redis, { keyPrefix, perKey: { points: 5 } });
    for (let i = 0; i < 3; i++) expect(first.consumeKey('k').allowed).toBe(true);
    await first.sync();
    expect(second.consumeKey('k').allowed).toBe(true);
    await second.sync();
    // The second instance now knows the global count: 4 of 5 used.
    expect(second.consumeKey('k')).toEqual({ allowed: true, remaining: 0 });
    expect(second.consumeKey('k').allowed).toBe(false);
    expect(Number(await redis.get(`${keyPrefix}:key:k:${Math.floor(Date.parse('2026-11-28T12:00:10Z') / 60_000)}`))).toBe(4);
  });

  it('pushes the counts of a window that ended before its sync to that window, and the new window counts afresh', async () => {
    const redis = await connection();
    const keyPrefix = uniqueName('rl');
    let now = Date.parse('2026-11-28T12:00:58Z');
    const limits = limitsFor(redis, { keyPrefix, perKey: { points: 10 }, now: () => now });
    for (let i = 0; i < 3; i++) limits.consumeKey('k');
    now = Date.parse('2026-11-28T12:01:02Z');
    for (let i = 0; i < 2; i++) limits.consumeKey('k');
    await limits.sync();
    const minute = Math.floor(Date.parse('2026-11-28T12:00:58Z') / 60_000);
    expect(Number(await redis.get(`${keyPrefix}:key:k:${minute}`))).toBe(3);
    expect(Number(await redis.get(`${keyPrefix}:key:k:${minute + 1}`))).toBe(2);
    // Nothing is pushed twice.
    await limits.sync();
    expect(Number(await redis.get(`${keyPrefix}:key:k:${minute}`))).toBe(3);
    expect(limits.consumeKey('k')).toEqual({ allowed: true, remaining: 7 });
  });

  it('pushes every count exactly once, whatever the requests made while a sync is in flight', async () => {
    const redis = await connection();
    const keyPrefix = uniqueName('rl');
    const limits = limitsFor(redis, { keyPrefix, perIp: { points: 1_000_000 } });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('203.0.113.1', '203.0.113.2', '203.0.113.3'), fc.integer({ min: 0, max: 20 }), fc.boolean()), { maxLength: 30 }), async (steps) => {
        const before = Object.fromEntries(await Promise.all(['203.0.113.1', '203.0.113.2', '203.0.113.3'].map(async (ip) => [ip, Number((await redis.get(`${keyPrefix}:ip:${ip}:${Math.floor(Date.parse('2026-11-28T12:00:10Z') / 60_000)}`)) ?? 0)])));
        const counted: Record<string, number> = { '203.0.113.1': 0, '203.0.113.2': 0, '203.0.113.3': 0 };
        const syncs: Promise<void>[] = [];
        for (const [ip, requests, syncNow] of steps) {
          for (let i = 0; i < requests; i++) limits.consumeIp(ip);
          counted[ip]! += requests;
          if (syncNow) syncs.push(limits.sync());
        }
        await Promise.all(syncs);
        await limits.sync();
        for (const ip of Object.keys(counted)) {
          const total = Number((await redis.get(`${keyPrefix}:ip:${ip}:${Math.floor(Date.parse('2026-11-28T12:00:10Z') / 60_000)}`)) ?? 0);
          expect(total - before[ip]!).toBe(counted[ip]);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('writes Redis once per sync, not once per request', async () => {
    const redis = await connection();
    const limits = limitsFor(redis, { perIp: { points: 10_000 } });
    const before = await commandCalls(redis, 'incrby');
    for (let i = 0; i < 1_000; i++) limits.consumeIp('198.51.100.1');
    expect((await commandCalls(redis, 'incrby')) - before).toBe(0);
    await limits.sync();
    expect((await commandCalls(redis, 'incrby')) - before).toBe(1);
  });
});

describe('RateLimits: Redis unavailable', () => {
  it('goes on counting in memory while Redis is stopped, keeps the counts, and syncs them when it is back', async () => {
    const server = await startRedisServer();
    const redis = await connection(server.url);
    const errors: unknown[] = [];
    const limits = limitsFor(redis, { perIp: { points: 4 }, onError: (error) => errors.push(error) });
    await server.stop();
    expect([1, 2, 3, 4, 5].map(() => limits.consumeIp('203.0.113.9').allowed)).toEqual([true, true, true, true, false]);
    await limits.sync();
    expect(errors.length).toBeGreaterThan(0);
    const restarted = await startRedisServer({ port: server.port });
    onTestFinished(() => restarted.stop());
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await limits.sync();
    const keys = await redis.keys('*:ip:203.0.113.9:*');
    expect(keys).toHaveLength(1);
    expect(Number(await redis.get(keys[0] ?? ''))).toBe(4);
  });
});

describe('RateLimits: options', () => {
  it.each([
    [{ perIp: { points: 0 } }, 'perIp.points'],
    [{ perKey: { durationSeconds: 1.5 } }, 'perKey.durationSeconds'],
    [{ syncIntervalMs: 0 }, 'syncIntervalMs'],
    [{ keyPrefix: '' }, 'keyPrefix'],
  ])('refuses %j, naming the option', async (options, field) => {
    const redis = await connection();
    expect(() => new RateLimits({ redis, ...options })).toThrowError(expect.objectContaining({ context: { field } }));
  });

  it('names redis when it is not a client', () => {
    expect(() => new RateLimits({ redis: {} as Redis })).toThrowError(expect.objectContaining({ context: { field: 'redis' } }));
  });
});

describe('RateLimits: who counts as one client', () => {
  /** A random IPv6 address inside 2001:db8:aa:bb::/64. */
  const addressInOne64 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }).map((tail) => `2001:db8:aa:bb:${tail.map((group) => group.toString(16)).join(':')}`);

  it('counts IPv6 by /64: 700 requests from addresses of one /64 are limited at the rule\'s points', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 600, durationSeconds: 60 } });
    const addresses = fc.sample(addressInOne64, { numRuns: 700, seed: 16 });
    const allowed = addresses.map((ip) => limits.consumeIp(ip)).filter((verdict) => verdict.allowed).length;
    expect(allowed).toBe(600);
    // Another /64 is another client.
    expect(limits.consumeIp('2001:db8:aa:bc::1').allowed).toBe(true);
  });

  it('counts IPv4 by address: neighbours in one /24 do not share a counter', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 1, durationSeconds: 60 } });
    expect(limits.consumeIp('198.51.100.7').allowed).toBe(true);
    expect(limits.consumeIp('198.51.100.7').allowed).toBe(false);
    expect(limits.consumeIp('198.51.100.8').allowed).toBe(true);
    // The IPv4-mapped form of an address is that address.
    expect(limits.consumeIp('::ffff:198.51.100.8').allowed).toBe(false);
  });

  it('takes the IPv6 prefix length as an option', async () => {
    const limits = limitsFor(await connection(), { perIp: { points: 1, durationSeconds: 60 }, ipv6PrefixLength: 56 });
    expect(limits.consumeIp('2001:db8:aa:bb01::1').allowed).toBe(true);
    // Same /56 (2001:db8:aa:bb00::/56), other /64.
    expect(limits.consumeIp('2001:db8:aa:bbff::1').allowed).toBe(false);
    const redis = await connection();
    expect(() => new RateLimits({ redis, ipv6PrefixLength: 0 })).toThrowError(expect.objectContaining({ context: { field: 'ipv6PrefixLength' } }));
  });
});

describe('rateLimitSubjectOf', () => {
  it('maps every address of a /N to one subject and addresses of two /Ns to two (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 128 }),
        (a, b, prefix) => {
          const text = (groups: number[]) => groups.map((group) => group.toString(16)).join(':');
          const samePrefix = (x: number[], y: number[]) =>
            x.every((group, index) => {
              const kept = Math.min(16, Math.max(0, prefix - index * 16));
              const mask = (0xffff << (16 - kept)) & 0xffff;
              return (group & mask) === ((y[index] ?? 0) & mask);
            });
          // Skip IPv4-mapped inputs: those are IPv4 addresses.
          fc.pre(!(a.slice(0, 5).every((g) => g === 0) && a[5] === 0xffff) && !(b.slice(0, 5).every((g) => g === 0) && b[5] === 0xffff));
          expect(rateLimitSubjectOf(text(a), prefix) === rateLimitSubjectOf(text(b), prefix)).toBe(samePrefix(a, b));
        },
      ),
    );
  });
});
