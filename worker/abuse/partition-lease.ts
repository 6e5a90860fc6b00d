/**
 * Partition leases: at most one consumer owns a stream partition at a time. A lease is a Redis
 * key beside the partition's stream, on the same hash tag (`<prefix>:{n}:lease:<group>`), holding
 * the owner's token; it expires unless renewed, so a crashed owner's partitions are taken over.
 *
 * Fencing: each acquisition takes the next number of a per-partition epoch counter, and the token
 * is `<consumer>#<epoch>`. Every stream operation of an owner (read, claim, acknowledge; see
 * partition-stream.ts) is a script that first checks the lease still holds its token, so an owner
 * that paused past its lease (a long GC, a frozen VM) cannot read or acknowledge once another has
 * taken over: its late calls are refused with LEASELOST.
 */
import type { Redis } from 'ioredis';

import { LuaScript } from './lua-script.js';

const ACQUIRE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local epoch = redis.call('INCR', KEYS[2])
local token = ARGV[1] .. '#' .. epoch
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
`);

const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

/** The keys of one partition's lease. */
export interface LeaseKeys {
  /** Holds the owner's token, with the lease's expiry. */
  readonly lease: string;
  /** The fencing counter, incremented by each acquisition. */
  readonly epoch: string;
}

/** Lease keys of a partition's stream for one consumer group (same hash tag as the stream). */
export function leaseKeysFor(streamKey: string, group: string): LeaseKeys {
  return { lease: `${streamKey}:lease:${group}`, epoch: `${streamKey}:epoch:${group}` };
}

/** Lease operations for one consumer. */
export class PartitionLease {
  /**
   * @param redis - Command connection.
   * @param consumer - This consumer's name (part of the token).
   * @param ttlMs - Lease lifetime from each acquisition or renewal.
   */
  constructor(
    private readonly redis: Redis,
    private readonly consumer: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease when it is free; resolves to the fencing token, or null when another holds it. */
  async acquire(keys: LeaseKeys): Promise<string | null> {
    const token = await ACQUIRE.run(this.redis, [keys.lease, keys.epoch], [this.consumer, this.ttlMs]);
    return typeof token === 'string' ? token : null;
  }

  /** Extends the lease by its lifetime; false when it is no longer ours (expired and maybe taken). */
  async renew(keys: LeaseKeys, token: string): Promise<boolean> {
    return (await RENEW.run(this.redis, [keys.lease], [token, this.ttlMs])) === 1;
  }

  /** Gives the lease up at once (graceful hand-over); false when it was no longer ours. */
  async release(keys: LeaseKeys, token: string): Promise<boolean> {
    return (await RELEASE.run(this.redis, [keys.lease], [token])) === 1;
  }
}
