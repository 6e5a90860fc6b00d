import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { RedisAbuseWindowStore, type BucketIncrement } from '../../lib/store/redis-abuse-window-store.js';
import { redisUrl, uniqueName } from '../setup/services.js';

let redis: Redis;
let keyPrefix: string;
let store: RedisAbuseWindowStore;

beforeEach(() => {
  redis = new Redis(redisUrl());
  keyPrefix = uniqueName('windows');
  store = new RedisAbuseWindowStore({ redis, keyPrefix });
});

afterEach(async () => {
  const keys = await redis.keys(`${keyPrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const T = Date.parse('2026-03-02T09:00:00Z');

function ips(count: number, from = 0): BucketIncrement {
  return {
    bucket: 'h:lic_1:0',
    ttlSeconds: 600,
    first: T,
    last: T + 1,
    counters: new Map([['n', count]]),
    groups: [{ counter: 'd', cap: 5, increments: new Map(Array.from({ length: count }, (_, i) => [`i:10.0.0.${from + i}`, 1])) }],
    read: ['n', 'd'],
  };
}

describe('RedisAbuseWindowStore', () => {
  it('stores any field value a client can send: quotes, backslashes, NUL, CJK, emoji; a unit separator as ?, a lone surrogate as U+FFFD', async () => {
    const agents = ['say "hi"\\', 'nul\u0000byte', '漢字 ✓ 🚀', 'a\x1fb', 'lone \uD800 high', 'lone \uDC00 low'];
    const increment: BucketIncrement = {
      bucket: 'k:198.51:0',
      ttlSeconds: 600,
      first: T,
      last: T,
      counters: new Map([['n', agents.length]]),
      groups: [{ counter: 'ad', cap: 20, increments: new Map(agents.map((agent) => [`a:${agent}`, 1])) }],
      read: ['n', 'ad'],
    };
    expect(await store.apply(3, '1-0', '1-5', [increment])).toEqual({ status: 'applied', values: [{ fields: [6, 6] }] });
    const [hash] = await store.readBuckets(3, ['k:198.51:0']);
    const stored = Object.keys(hash!).filter((field) => field.startsWith('a:')).sort();
    expect(stored).toEqual(['a:say "hi"\\', 'a:nul\u0000byte', 'a:漢字 ✓ 🚀', 'a:a?b', 'a:lone \uFFFD high', 'a:lone \uFFFD low'].sort());
    expect(hash!['f']).toBe(String(T));
  });

  it('keeps its keys under the partition hash tag, with a TTL set at creation and the first event time', async () => {
    expect(await store.apply(7, '1-0', '1-3', [ips(3)])).toEqual({ status: 'applied', values: [{ fields: [3, 3] }] });
    const key = `${keyPrefix}:abuse:{7}:h:lic_1:0`;
    expect(await redis.hgetall(key)).toEqual({ n: '3', d: '3', f: String(T), 'i:10.0.0.0': '1', 'i:10.0.0.1': '1', 'i:10.0.0.2': '1' });
    expect(await redis.ttl(key)).toBeGreaterThan(500);
    expect(await redis.get(`${keyPrefix}:abuse:{7}:checkpoint`)).toBe('1-3');
  });

  it('moves the checkpoint over a batch with nothing to count (every entry a repeat)', async () => {
    expect(await store.apply(11, '1-0', '1-4', [])).toEqual({ status: 'applied', values: [] });
    expect(await store.checkpoint(11)).toBe('1-4');
    expect(await store.apply(11, '1-0', '1-4', [])).toEqual({ status: 'skipped', values: [] });
  });

  it('refuses read fields that its kind token cannot carry', async () => {
    await expect(store.apply(12, '1-0', '1-0', [{ ...ips(1), read: ['n,d'] }])).rejects.toThrow(/read fields must be non-empty and without commas/);
  });

  it('caps a distinct group: values past the cap are counted in the overflow field', async () => {
    await store.apply(1, '1-0', '1-3', [ips(3)]);
    const result = await store.apply(1, '2-0', '2-4', [ips(4, 2)]);
    expect(result).toEqual({ status: 'applied', values: [{ fields: [7, 5] }] });
    const [hash] = await store.readBuckets(1, ['h:lic_1:0']);
    expect(hash).toMatchObject({ d: '5', 'd~': '1', 'i:10.0.0.2': '2', 'i:10.0.0.4': '1' });
    expect(hash!['i:10.0.0.5']).toBeUndefined();
  });

  it('skips a batch at or before the checkpoint and returns the current values', async () => {
    await store.apply(2, '5-0', '5-9', [ips(3)]);
    expect(await store.apply(2, '5-0', '5-9', [ips(3)])).toEqual({ status: 'skipped', values: [{ fields: [3, 3] }] });
    expect(await store.apply(2, '4-0', '5-2', [ips(3)])).toMatchObject({ status: 'skipped' });
  });

  it('reports a batch that straddles the checkpoint instead of applying half of it twice', async () => {
    await store.apply(3, '5-0', '5-9', [ips(3)]);
    expect(await store.apply(3, '5-5', '6-1', [ips(3)])).toEqual({ status: 'partial', checkpoint: '5-9' });
    // Stream ids compare by number, not as text: 10-0 comes after 9-0.
    expect(await store.apply(3, '10-0', '10-0', [ips(1)])).toMatchObject({ status: 'applied' });
  });

  it('counts a group only from countFrom events on, counting what came before once', async () => {
    const lazy = (count: number, from: number): BucketIncrement => {
      const increment = ips(count, from);
      return { ...increment, groups: [{ ...increment.groups[0]!, cap: 100, countFrom: 3 }] };
    };
    expect(await store.apply(5, '1-0', '1-1', [lazy(2, 0)])).toEqual({ status: 'applied', values: [{ fields: [2, 0] }] });
    expect(await store.apply(5, '2-0', '2-2', [lazy(3, 1)])).toEqual({ status: 'applied', values: [{ fields: [5, 4] }] });
    expect(await store.apply(5, '3-0', '3-1', [lazy(2, 4)])).toEqual({ status: 'applied', values: [{ fields: [7, 6] }] });
  });

  it('counts a group once the bucket passes countFrom, also when a batch ends exactly on it (batches of one event)', async () => {
    const one = (i: number): BucketIncrement => {
      const increment = ips(1, i);
      return { ...increment, groups: [{ ...increment.groups[0]!, cap: 1000, countFrom: 100, increments: new Map([[`i:10.0.${i >> 8}.${i & 255}`, 1]]) }] };
    };
    let last: unknown;
    for (let i = 0; i < 150; i += 1) last = await store.apply(6, `${i + 1}-0`, `${i + 1}-0`, [one(i)]);
    expect(last).toEqual({ status: 'applied', values: [{ fields: [150, 150] }] });
  });

  it('records a sampled group only while the bucket held fewer events than its cap', async () => {
    const sample = (n: number, value: string): BucketIncrement => ({
      bucket: 'h:lic_2:0',
      ttlSeconds: 600,
      first: T,
      last: T,
      counters: new Map([['n', n]]),
      groups: [{ counter: '', cap: 2, runs: [[`p:${value}`, n]] }],
      read: ['n'],
    });
    await store.apply(4, '1-0', '1-0', [sample(1, 'a')]);
    await store.apply(4, '2-0', '2-0', [sample(1, 'b')]);
    await store.apply(4, '3-0', '3-0', [sample(1, 'c')]);
    const [hash] = await store.readBuckets(4, ['h:lic_2:0']);
    expect(hash).toMatchObject({ n: '3', 'p:a': '1', 'p:b': '1' });
    expect(hash!['p:c']).toBeUndefined();
  });

  it('samples the events at positions below the cap, however the batch is cut', async () => {
    const sample = (runs: [string, number][]): BucketIncrement => ({
      bucket: 'h:lic_3:0',
      ttlSeconds: 600,
      first: T,
      last: T,
      counters: new Map([['n', runs.reduce((total, [, n]) => total + n, 0)]]),
      groups: [{ counter: '', cap: 4, runs }],
      read: ['n'],
    });
    await store.apply(8, '1-0', '1-0', [sample([['p:a', 1], ['', 1]])]);
    await store.apply(8, '2-0', '2-0', [sample([['p:b', 1], ['p:a', 2], ['p:c', 1]])]);
    const [hash] = await store.readBuckets(8, ['h:lic_3:0']);
    expect(hash).toMatchObject({ n: '6', 'p:a': '2', 'p:b': '1' });
    expect(hash!['p:c']).toBeUndefined();
  });

  it('returns the previous slot\'s fields from a copy kept current, and knows whether the next slot exists, in either order of creation', async () => {
    const slot = (n: number): BucketIncrement => ({ ...ips(2), bucket: `h:lic_4:${n}`, slotMs: 1 });
    expect(await store.apply(9, '1-0', '1-1', [slot(0)])).toEqual({ status: 'applied', values: [{ fields: [2, 2], successor: false, previous: [0, 0] }] });
    expect(await redis.exists(`${keyPrefix}:abuse:{9}:h:lic_4:-1`)).toBe(0);
    expect(await store.apply(9, '2-0', '2-1', [slot(1)])).toEqual({ status: 'applied', values: [{ fields: [2, 2], successor: false, previous: [2, 2] }] });
    expect(await store.apply(9, '3-0', '3-1', [slot(0)])).toEqual({ status: 'applied', values: [{ fields: [4, 2], successor: true, previous: [0, 0] }] });
    // The late entries of slot 0 reached slot 1's copy.
    expect(await store.apply(9, '3-5', '3-6', [slot(1)])).toEqual({ status: 'applied', values: [{ fields: [4, 2], successor: false, previous: [4, 2] }] });
    // Slot 5 before slot 4: slot 4 learns at its creation that its next slot exists.
    await store.apply(9, '4-0', '4-1', [slot(5)]);
    expect(await store.apply(9, '5-0', '5-1', [slot(4)])).toEqual({ status: 'applied', values: [{ fields: [2, 2], successor: true, previous: [0, 0] }] });
  });
});
