/**
 * How far the consumer group is behind on one partition: the age of the oldest entry not yet
 * processed (pending with a consumer, or not yet delivered), measured on the Redis server's
 * clock, which also stamped the entry ids, so worker clocks do not matter.
 */
import type { Redis } from 'ioredis';

import { LuaScript } from './lua-script.js';

/**
 * ARGV[1] = group. Returns {now ms, oldest unprocessed id or false, pending count, undelivered
 * count or -1 when Redis cannot tell}. Without the group, every entry counts as unprocessed.
 */
const LAG = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return {now, false, 0, 0} end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
local info = nil
for _, g in ipairs(groups) do
  local fields = {}
  for i = 1, #g, 2 do fields[g[i]] = g[i + 1] end
  if fields['name'] == ARGV[1] then info = fields end
end
if info == nil then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  return {now, first[1] and first[1][1] or false, 0, redis.call('XLEN', KEYS[1])}
end
local lag = info['lag']
if type(lag) ~= 'number' then lag = -1 end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
if pending[1] > 0 then return {now, pending[2], pending[1], lag} end
local after = redis.call('XRANGE', KEYS[1], '(' .. info['last-delivered-id'], '+', 'COUNT', 1)
return {now, after[1] and after[1][1] or false, 0, lag}
`);

/** The backlog of one partition. */
export interface StreamLag {
  /** Age of the oldest unprocessed entry in ms; 0 when there is none. */
  readonly oldestAgeMs: number;
  /** Entries delivered to a consumer and not yet acknowledged. */
  readonly pending: number;
  /** Entries not yet delivered; null when Redis cannot tell (after some deletions). */
  readonly undelivered: number | null;
}

/**
 * Reads one partition's backlog for a consumer group.
 *
 * @param redis - Command connection.
 * @param streamKey - The partition's stream.
 * @param group - Consumer group name.
 */
export async function readStreamLag(redis: Redis, streamKey: string, group: string): Promise<StreamLag> {
  const [now, oldest, pending, undelivered] = (await LAG.run(redis, [streamKey], [group])) as [number, string | null, number, number];
  const oldestMs = typeof oldest === 'string' ? Number(oldest.slice(0, oldest.indexOf('-'))) : now;
  return { oldestAgeMs: Math.max(0, now - oldestMs), pending, undelivered: undelivered < 0 ? null : undelivered };
}
