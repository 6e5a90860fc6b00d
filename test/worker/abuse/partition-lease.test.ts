/**
 * Partition leases and fencing against the real Redis: one owner at a time, and an owner whose
 * lease expired (simulated by deleting the key, as expiry would) can neither read nor
 * acknowledge once another took over; what it left pending is the new owner's to reclaim.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { streamKeyFor } from '../../../lib/events/stream-partition.js';
import { encodeValidationEvent } from '../../../lib/events/validation-event.js';
import { leaseKeysFor, PartitionLease } from '../../../worker/abuse/partition-lease.js';
import { PartitionStream } from '../../../worker/abuse/partition-stream.js';
import { redisUrl, uniqueName } from '../../setup/services.js';
import { testEvent } from './test-events.js';

const GROUP = 'keyward-abuse';

function connection(): Redis {
  const redis = new Redis(redisUrl());
  onTestFinished(() => redis.quit().then(() => undefined));
  return redis;
}

describe('partition leases', () => {
  it('give a partition to one consumer at a time, with a new fencing epoch each time', async () => {
    const redis = connection();
    const keys = leaseKeysFor(streamKeyFor(0, uniqueName('events')), GROUP);
    const a = new PartitionLease(redis, 'a', 60_000);
    const b = new PartitionLease(redis, 'b', 60_000);

    const tokenA = await a.acquire(keys);
    expect(tokenA).toBe('a#1');
    expect(await b.acquire(keys)).toBeNull();
    expect(await a.renew(keys, tokenA!)).toBe(true);
    expect(await b.release(keys, 'b#1')).toBe(false);

    expect(await a.release(keys, tokenA!)).toBe(true);
    expect(await a.renew(keys, tokenA!)).toBe(false);
    expect(await b.acquire(keys)).toBe('b#2');
    expect(await redis.pttl(keys.lease)).toBeGreaterThan(0);
  });

  it('fence a consumer whose lease expired: no reads, no acknowledgements, its entries reclaimable', async () => {
    const redis = connection();
    const stream = streamKeyFor(0, uniqueName('events'));
    const keys = leaseKeysFor(stream, GROUP);
    const a = new PartitionStream(redis, stream, keys, GROUP, 'a');
    const b = new PartitionStream(redis, stream, keys, GROUP, 'b');
    await a.ensureGroup();
    await a.ensureGroup(); // an existing group is kept
    for (let i = 0; i < 3; i += 1) await redis.xadd(stream, '*', ...encodeValidationEvent(testEvent(i)));

    const tokenA = (await new PartitionLease(redis, 'a', 60_000).acquire(keys))!;
    const read = await a.read(tokenA, 10);
    expect(read.kind === 'entries' && read.entries.length).toBe(3);
    const ids = read.kind === 'entries' ? read.entries.map(([id]) => id) : [];

    await redis.del(keys.lease); // a's lease expires while it works on the batch
    const tokenB = (await new PartitionLease(redis, 'b', 60_000).acquire(keys))!;

    await expect(a.ack(tokenA, ids)).rejects.toThrow(/^LEASELOST/);
    await expect(a.read(tokenA, 10)).rejects.toThrow(/^LEASELOST/);
    await expect(a.claim(tokenA, '0-0', 0, 10)).rejects.toThrow(/^LEASELOST/);
    expect(((await redis.xpending(stream, GROUP)) as [number])[0]).toBe(3);

    const claimed = await b.claim(tokenB, '0-0', 0, 10);
    expect(claimed.entries.map(([id]) => id)).toEqual(ids);
    await b.ack(tokenB, ids);
    expect(((await redis.xpending(stream, GROUP)) as [number])[0]).toBe(0);
    expect(await b.read(tokenB, 10)).toEqual({ kind: 'empty', lastId: ids[2] });
    expect(await b.readPipelined(tokenB, 10)).toEqual({ kind: 'empty', lastId: ids[2] });
  });

  it('make the pipelined read of a consumer that lost its lease fail, leaving what it took pending for the owner', async () => {
    const redis = connection();
    const stream = streamKeyFor(0, uniqueName('events'));
    const keys = leaseKeysFor(stream, GROUP);
    const a = new PartitionStream(redis, stream, keys, GROUP, 'a');
    const b = new PartitionStream(redis, stream, keys, GROUP, 'b');
    await a.ensureGroup();
    await new PartitionLease(redis, 'a', 60_000).acquire(keys);
    await redis.del(keys.lease);
    const tokenB = (await new PartitionLease(redis, 'b', 60_000).acquire(keys))!;
    const id = await redis.xadd(stream, '*', ...encodeValidationEvent(testEvent(1)));

    await expect(a.readPipelined('a#1', 10)).rejects.toThrow(/^LEASELOST/);
    // The new owner does not read past it: the entry a took is pending, so it is claimed first.
    expect(await b.read(tokenB, 10)).toEqual({ kind: 'pending-first', pending: 1 });
    expect((await b.claim(tokenB, '0-0', 0, 10)).entries.map(([entryId]) => entryId)).toEqual([id]);
  });
});
