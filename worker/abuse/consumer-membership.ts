/**
 * Who is consuming: each consumer records a heartbeat in one sorted set per consumer group
 * (member = consumer name, score = expiry in Redis server time, so clocks of worker machines do
 * not matter) and reads the live members back, from which every consumer computes the same
 * partition assignment (lib/events/assign-partitions.ts).
 */
import type { Redis } from 'ioredis';

import { LuaScript } from './lua-script.js';

const HEARTBEAT = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);

/** The membership key of a consumer group over the streams of `streamPrefix`. */
export function membershipKeyFor(streamPrefix: string, group: string): string {
  return `${streamPrefix}:consumers:${group}`;
}

/** Heartbeats of one consumer. */
export class ConsumerMembership {
  /**
   * @param redis - Command connection.
   * @param key - See {@link membershipKeyFor}.
   * @param consumer - This consumer's name.
   * @param ttlMs - How long a heartbeat counts the consumer as alive.
   */
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly consumer: string,
    private readonly ttlMs: number,
  ) {}

  /** Records this consumer as alive, forgets expired ones, and resolves to the live members. */
  async heartbeat(): Promise<string[]> {
    const members = await HEARTBEAT.run(this.redis, [this.key], [this.consumer, this.ttlMs]);
    return Array.isArray(members) ? members.map(String) : [];
  }

  /** Leaves the group at once, so the others take this consumer's partitions without waiting for expiry. */
  async leave(): Promise<void> {
    await this.redis.zrem(this.key, this.consumer);
  }
}
