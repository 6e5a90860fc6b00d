/**
 * The abuse detector's sliding-window state in Redis: one hash per subject and time bucket
 * (a license's hour, a license's day, a network's 10 minutes), updated for a whole batch of one
 * stream partition by ONE Lua script call, atomically with the partition's checkpoint (the id of
 * the last entry applied). A batch delivered again after a crash finds the checkpoint at or past
 * its last entry and changes nothing, so nothing is counted twice.
 *
 * Keys: `<prefix>:abuse:{<partition>}:<bucket>`. The hash tag puts all of a partition's state on
 * one Redis Cluster slot, which is what lets one script touch it all. Only the checkpoint key is
 * passed in KEYS; the bucket keys share its slot by construction (scripts may use undeclared keys
 * of their own slot).
 *
 * Bucket hashes hold plain counters (`n`), first and last event time (`f`, `l`, epoch ms), and
 * "distinct" groups: fields with a common prefix (`i:<ip>`, `c:<country>`) whose number is kept
 * in a counter field (`d`, `cd`) and capped, so that a flood of addresses cannot grow a hash
 * without bound; increments of values past the cap go to `<counter>~` instead.
 */
import type { Redis } from 'ioredis';

/** A capped group of distinct values in one bucket hash. */
export interface DistinctGroup {
  /** Field that counts the distinct values, e.g. `d`. */
  readonly counter: string;
  /** Most distinct values kept. */
  readonly cap: number;
  /** Increments of the values' own fields (prefix included, e.g. `i:198.51.100.7`). */
  readonly increments: ReadonlyMap<string, number>;
}

/** All increments of one batch to one bucket hash. */
export interface BucketIncrement {
  /** Bucket name under the partition, e.g. `h:lic_1:1772359200000`. */
  readonly bucket: string;
  /** Lifetime of the hash after its last update, in seconds. */
  readonly ttlSeconds: number;
  /** Earliest and latest event time in this batch, epoch ms. */
  readonly first: number;
  readonly last: number;
  readonly counters: ReadonlyMap<string, number>;
  readonly groups: readonly DistinctGroup[];
  /** Fields whose values are returned (after `f` and `l`). */
  readonly read: readonly string[];
}

/** The values of one bucket after the batch: `first`, `last`, then the `read` fields (0 when absent). */
export interface BucketValues {
  readonly first: number;
  readonly last: number;
  readonly fields: readonly number[];
}

/** What one script call did. */
export type WindowBatchResult =
  /** `applied`: the increments were stored; `skipped`: the checkpoint was already past the batch. */
  | { readonly status: 'applied' | 'skipped'; readonly values: readonly BucketValues[] }
  /** The checkpoint lies inside the batch: apply again with only the entries after it. */
  | { readonly status: 'partial'; readonly checkpoint: string };

/** Options for {@link RedisAbuseWindowStore}. */
export interface RedisAbuseWindowStoreOptions {
  readonly redis: Redis;
  /** Key prefix, without braces. Default `keyward`. */
  readonly keyPrefix?: string;
}

const SCRIPT = `
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  if not dash then return tonumber(id), 0 end
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function compare(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
local base, firstId, lastId = ARGV[1], ARGV[2], ARGV[3]
local checkpoint = redis.call('GET', KEYS[1])
local apply = true
if checkpoint then
  if compare(checkpoint, lastId) >= 0 then apply = false
  elseif compare(checkpoint, firstId) >= 0 then return {'partial', checkpoint} end
end
local out = {apply and 'applied' or 'skipped'}
local i = 4
while i <= #ARGV do
  local key = base .. ARGV[i]
  local ttl, first, last = ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local counters = tonumber(ARGV[i + 4])
  i = i + 5
  if apply then
    for c = 1, counters do
      redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
      i = i + 2
    end
  else
    i = i + 2 * counters
  end
  local groups = tonumber(ARGV[i])
  i = i + 1
  for g = 1, groups do
    local counter, cap, values = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    i = i + 3
    if apply then
      local distinct = tonumber(redis.call('HGET', key, counter) or '0')
      for v = 1, values do
        local field, by = ARGV[i], ARGV[i + 1]
        if redis.call('HEXISTS', key, field) == 1 then
          redis.call('HINCRBY', key, field, by)
        elseif distinct < cap then
          redis.call('HINCRBY', key, field, by)
          distinct = distinct + 1
        else
          redis.call('HINCRBY', key, counter .. '~', by)
        end
        i = i + 2
      end
      redis.call('HSET', key, counter, distinct)
    else
      i = i + 2 * values
    end
  end
  local reads = tonumber(ARGV[i])
  local fields = {'f', 'l'}
  for r = 1, reads do fields[r + 2] = ARGV[i + r] end
  i = i + reads + 1
  local seen = redis.call('HMGET', key, 'f', 'l')
  if apply then
    local f, l = tonumber(seen[1]), tonumber(seen[2])
    if not f or first < f then redis.call('HSET', key, 'f', first) end
    if not l or last > l then redis.call('HSET', key, 'l', last) end
    redis.call('EXPIRE', key, ttl)
  end
  out[#out + 1] = redis.call('HMGET', key, unpack(fields))
end
if apply then redis.call('SET', KEYS[1], lastId) end
return out
`;

/** Sliding-window buckets and per-partition checkpoints in Redis (see the module comment). */
export class RedisAbuseWindowStore {
  readonly #redis: Redis;
  readonly #keyPrefix: string;

  constructor(options: RedisAbuseWindowStoreOptions) {
    const keyPrefix = options.keyPrefix ?? 'keyward';
    if (keyPrefix === '' || /[{}]/.test(keyPrefix)) throw new Error(`keyPrefix must be non-empty and without braces, got "${keyPrefix}"`);
    this.#redis = options.redis;
    this.#keyPrefix = keyPrefix;
    this.#redis.defineCommand('keywardAbuseWindows', { numberOfKeys: 1, lua: SCRIPT });
  }

  /** `<prefix>:abuse:{<partition>}:`, the start of every key of a partition. */
  partitionBase(partition: number): string {
    return `${this.#keyPrefix}:abuse:{${partition}}:`;
  }

  /**
   * Applies the increments of the entries `firstId`..`lastId` unless the partition's checkpoint
   * says they were applied already, and returns each bucket's values (also when skipped, so the
   * rules can be evaluated again after a crash between this call and storing the signals).
   */
  async apply(partition: number, firstId: string, lastId: string, increments: readonly BucketIncrement[]): Promise<WindowBatchResult> {
    const base = this.partitionBase(partition);
    const args: (string | number)[] = [base, firstId, lastId];
    for (const increment of increments) {
      args.push(increment.bucket, increment.ttlSeconds, increment.first, increment.last, increment.counters.size);
      for (const [field, by] of increment.counters) args.push(field, by);
      args.push(increment.groups.length);
      for (const group of increment.groups) {
        args.push(group.counter, group.cap, group.increments.size);
        for (const [field, by] of group.increments) args.push(field, by);
      }
      args.push(increment.read.length, ...increment.read);
    }
    const command = (this.#redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)['keywardAbuseWindows'];
    const reply = (await command!.call(this.#redis, `${base}checkpoint`, ...args)) as [string, ...unknown[]];
    if (reply[0] === 'partial') return { status: 'partial', checkpoint: String(reply[1]) };
    const values = (reply.slice(1) as (string | null)[][]).map((row) => ({
      first: Number(row[0] ?? 0),
      last: Number(row[1] ?? 0),
      fields: row.slice(2).map((value) => Number(value ?? 0)),
    }));
    return { status: reply[0] === 'applied' ? 'applied' : 'skipped', values };
  }

  /** Every field of the given buckets of a partition, for a signal's evidence (one pipeline). */
  async readBuckets(partition: number, buckets: readonly string[]): Promise<Record<string, string>[]> {
    if (buckets.length === 0) return [];
    const base = this.partitionBase(partition);
    const pipeline = this.#redis.pipeline();
    for (const bucket of buckets) pipeline.hgetall(`${base}${bucket}`);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return value as Record<string, string>;
    });
  }

  /** The last entry id applied for a partition, or `null`. */
  async checkpoint(partition: number): Promise<string | null> {
    return this.#redis.get(`${this.partitionBase(partition)}checkpoint`);
  }
}
