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
 * Bucket hashes hold plain counters (`n`), the first event time (`f`, epoch ms), and
 * "distinct" groups: fields with a common prefix (`i:<ip>`, `c:<country>`) whose number is kept
 * in a counter field (`d`, `cd`) and capped, so that a flood of addresses cannot grow a hash
 * without bound; increments of values past the cap go to `<counter>~` instead. The TTL is set
 * when a bucket is created (it must outlive the bucket's window).
 *
 * Invariant (test/service/abuse-batch-independence.test.ts): every field of every bucket is the
 * same whether a partition's entries arrive one at a time or cut into batches anywhere, and
 * whether a batch is delivered again after a crash.
 */
import type { Redis } from 'ioredis';

/**
 * A capped group of distinct values in one bucket hash: at most `cap` values, their number in
 * `counter`. The values kept are the first `cap` distinct ones in stream order, whatever the
 * batch cuts (a batch's new values past the cap are dropped newest first); increments of values
 * past the cap go to `<counter>~`.
 */
export interface DistinctGroup {
  /** Field that counts the distinct values, e.g. `d`; never empty. */
  readonly counter: string;
  /** Most distinct values kept. */
  readonly cap: number;
  /**
   * The group is counted only once the bucket's first counter passes this many events (its
   * values are then counted once, by the batch that takes the bucket past it, and incremented
   * from there on), since below it nothing reads the number; must not exceed `cap`. Default 0
   * (always counted).
   */
  readonly countFrom?: number;
  /** Increments of the values' own fields (prefix included, e.g. `i:198.51.100.7`). */
  readonly increments: ReadonlyMap<string, number>;
}

/**
 * A sample: the values of the bucket's first `cap` events (by its first counter), for evidence
 * that needs no exact count. Bounded by `cap` and costs no counter update.
 */
export interface SampleGroup {
  readonly counter: '';
  /** Events sampled. */
  readonly cap: number;
  /**
   * The batch's events of this bucket in stream order, as runs of one value (`['p:m1', 3]`:
   * three events in a row with that value; `''` for events without a value). Only the first
   * `cap` events of a batch can ever be sampled, so a planner may stop there.
   */
  readonly runs: readonly (readonly [field: string, events: number])[];
}

/** All increments of one batch to one bucket hash. */
export interface BucketIncrement {
  /** Bucket name under the partition, e.g. `h:lic_1:1772359200000`. */
  readonly bucket: string;
  /** Lifetime of the hash from its creation, in seconds (longer than its window). */
  readonly ttlSeconds: number;
  /**
   * Earliest and latest event time in this batch, epoch ms. `first` becomes the bucket's `f`
   * when the batch creates it; `last` is not stored (a partition's batches come in stream
   * order, so the batch that raises a signal knows its last event).
   */
  readonly first: number;
  readonly last: number;
  readonly counters: ReadonlyMap<string, number>;
  readonly groups: readonly (DistinctGroup | SampleGroup)[];
  /** Fields whose values are returned. */
  readonly read: readonly string[];
  /**
   * Set for a slot of a window made of two slots: the slot length. The bucket name must end with
   * its slot start (`h:lic_1:1772442000000`); its neighbours are the names with the start moved by
   * `slotMs` either way. The previous slot's `read` fields are returned too, from a copy kept in
   * this bucket (`<field`: taken when this bucket is created, and kept current by every later
   * batch that touches the previous slot), and a bucket knows whether its next slot exists
   * (field `x` = 1: set when its next slot is created after it, or when it is created after its
   * next slot). So a batch reads no other bucket unless an entry comes late into a slot whose
   * next slot exists.
   */
  readonly slotMs?: number;
}

/** The values of one bucket's `read` fields after the batch (0 when absent). */
export interface BucketValues {
  readonly fields: readonly number[];
  /** With `neighbours`: whether the next slot exists (field `x`), and the previous slot's fields. */
  readonly successor?: boolean;
  readonly previous?: readonly number[];
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

// The script's own Lua work, not the commands it calls, is most of its cost (a `redis.call` costs
// about twice the command), so it does little per bucket: the whole batch is one JSON array of
// tokens (one decode in C), what all buckets of a kind share (lifetime, slot length, fields
// read, a group's counter and cap) is one token parsed once per call, a new field is recognised
// by HINCRBY returning its own increment (no HEXISTS), the bucket's first counter tells whether
// the bucket is new, every field an existing bucket returns is read with one HMGET, and the
// reply is one string of numbers.
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
-- A slot bucket's name ends with its slot start; its neighbours' names differ only there (built
-- only when a batch creates the bucket or comes late into it: most batches need neither).
local function neighbour(name, slotMs, by)
  local stem, start = string.match(name, '^(.*:)(%-?%d+)$')
  return base .. string.format('%s%.0f', stem, tonumber(start) + by * slotMs)
end
-- A kind token: '<ttl>|<slotMs or empty>|<read,fields>'.
local kinds = {}
local function kindOf(text)
  local kind = kinds[text]
  if kind then return kind end
  local ttl, slotMs, list = string.match(text, '^(%d+)|(%d*)|(.*)$')
  local reads, previous = {}, {}
  for field in string.gmatch(list, '[^,]+') do
    reads[#reads + 1] = field
    previous[#previous + 1] = '<' .. field
  end
  local slotted = slotMs ~= ''
  -- An existing bucket's answer, in reply order: its read fields, then (slotted) 'x' and the copy.
  local answer = {}
  for r = 1, #reads do answer[r] = reads[r] end
  if slotted then
    answer[#answer + 1] = 'x'
    for r = 1, #reads do answer[#answer + 1] = previous[r] end
  end
  kind = {ttl = tonumber(ttl), slotMs = tonumber(slotMs), reads = reads, previous = previous, answer = answer}
  kinds[text] = kind
  return kind
end
-- A group token: '<counter>|<cap>|<countFrom>' (an empty counter: a sample).
local groupKinds = {}
local function groupOf(text)
  local group = groupKinds[text]
  if group then return group end
  local counter, cap, countFrom = string.match(text, '^(.*)|(%d+)|(%d+)$')
  group = {counter = counter, cap = tonumber(cap), countFrom = tonumber(countFrom), overflow = counter .. '~'}
  groupKinds[text] = group
  return group
end
local checkpoint = redis.call('GET', KEYS[1])
local apply = true
if checkpoint then
  if compare(checkpoint, lastId) >= 0 then apply = false
  elseif compare(checkpoint, firstId) >= 0 then return 'partial,' .. checkpoint end
end
local out = {apply and 'applied' or 'skipped'}
local o = 1
local t = cjson.decode(ARGV[4])
local i, size = 1, #t
while i <= size do
  local kind = kindOf(t[i])
  local name = t[i + 1]
  local key = base .. name
  local first = t[i + 2]
  local counters = t[i + 3]
  i = i + 4
  local known = {}
  local created = false
  -- Events in the bucket before this batch and in this batch, by its first counter.
  local before, batch = 0, 0
  if apply then
    for c = 1, counters do
      local by = t[i + 1]
      local value = redis.call('HINCRBY', key, t[i], by)
      known[t[i]] = value
      if c == 1 then
        before = value - by
        batch = by
        created = before == 0
      end
      i = i + 2
    end
    if counters == 0 then created = redis.call('HSETNX', key, 'f', first) == 1 end
  else
    i = i + 2 * counters
  end
  local groups = t[i]
  i = i + 1
  for g = 1, groups do
    local group = groupOf(t[i])
    local values = t[i + 1]
    i = i + 2
    local cap, countFrom = group.cap, group.countFrom
    if apply and group.counter == '' then
      -- A sample: runs of the batch's events in stream order ('' for an event without a value);
      -- the events at positions below cap in the bucket are recorded, whatever the batch cuts.
      local room = cap - before
      for v = 1, values do
        if room > 0 then
          local take = math.min(room, t[i + 1])
          if t[i] ~= '' then redis.call('HINCRBY', key, t[i], take) end
          room = room - take
        end
        i = i + 2
      end
    elseif apply and countFrom > 0 and before + batch <= countFrom then
      -- Not counted yet: below countFrom events nothing needs the number (nor can reach the cap).
      for v = 1, values do
        redis.call('HINCRBY', key, t[i], t[i + 1])
        i = i + 2
      end
    elseif apply then
      local counter = group.counter
      local added = nil
      local firstField = t[i] or ''
      for v = 1, values do
        local by = t[i + 1]
        if redis.call('HINCRBY', key, t[i], by) == by then
          added = added or {}
          added[#added + 1] = t[i]
          added[#added + 1] = by
        end
        i = i + 2
      end
      local total = nil
      -- Counted from the first batch that takes the bucket past countFrom events, including one
      -- that starts exactly at countFrom (a batch that ended on it counted nothing).
      local crossing = countFrom > 0 and before <= countFrom
      if crossing then
        -- Crossing countFrom in this batch: count the group's values once; increments from now on.
        total = 0
        local prefix = string.match(firstField, '^[^:]*:') or ''
        for _, field in ipairs(redis.call('HKEYS', key)) do
          if string.sub(field, 1, #prefix) == prefix then total = total + 1 end
        end
      elseif added then
        total = redis.call('HINCRBY', key, counter, #added / 2)
      end
      if total then
        local j = added and #added - 1 or -1
        local trimmed = false
        -- Past the cap: the newest values of this batch go to the overflow counter instead.
        while total > cap and j >= 1 do
          redis.call('HDEL', key, added[j])
          redis.call('HINCRBY', key, group.overflow, added[j + 1])
          total = total - 1
          j = j - 2
          trimmed = true
        end
        if trimmed or crossing then redis.call('HSET', key, counter, total) end
        known[counter] = total
      end
    else
      i = i + 2 * values
    end
  end
  local reads = kind.reads
  local count = #reads
  local slotMs = kind.slotMs
  local successor = 0
  -- This bucket's read fields after the batch.
  local row
  if apply and created then
    -- A new bucket holds only what this batch wrote: its other read fields are 0, and what it
    -- learns of its neighbours is known here, so one HSET writes it all and nothing is read back.
    -- It learns them once: a copy of the previous slot's read fields (as '<field'), and whether
    -- the next slot exists ('x'); the previous slot learns of it.
    local sets = {'f', first}
    local copied = nil
    if slotMs then
      local previous = neighbour(name, slotMs, -1)
      copied = redis.call('HMGET', previous, unpack(reads))
      if copied[1] then
        for r = 1, count do
          sets[#sets + 1] = kind.previous[r]
          sets[#sets + 1] = copied[r] or '0'
        end
        redis.call('HSET', previous, 'x', 1)
      end
      if redis.call('EXISTS', neighbour(name, slotMs, 1)) == 1 then
        successor = 1
        sets[#sets + 1] = 'x'
        sets[#sets + 1] = 1
      end
    end
    redis.call('HSET', key, unpack(sets))
    redis.call('EXPIRE', key, kind.ttl)
    row = {}
    for r = 1, count do row[r] = known[reads[r]] or 0 end
    for r = 1, count do
      o = o + 1
      out[o] = row[r]
    end
    if slotMs then
      o = o + 1
      out[o] = successor
      for r = 1, count do
        o = o + 1
        out[o] = copied[r] or '0'
      end
    end
  else
    local answer = #kind.answer > 0 and redis.call('HMGET', key, unpack(kind.answer)) or {}
    for r = 1, #answer do
      o = o + 1
      out[o] = answer[r] or '0'
    end
    if slotMs and answer[count + 1] == '1' then successor = 1 end
    row = answer
  end
  if successor == 1 and apply then
    -- An entry late in a slot whose next slot exists (or a new slot created after its next one):
    -- keep the next slot's copy current.
    local copy = {}
    for r = 1, count do
      copy[#copy + 1] = kind.previous[r]
      copy[#copy + 1] = row[r] or '0'
    end
    redis.call('HSET', neighbour(name, slotMs, 1), unpack(copy))
  end
end
if apply then redis.call('SET', KEYS[1], lastId) end
return table.concat(out, ',')
`;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A string token of a bucket argument, stored as the same bytes as before the arguments were
 * JSON: a unit separator (0x1f, once the token delimiter) becomes `?`, and a lone UTF-16
 * surrogate becomes U+FFFD, as UTF-8 encoding made it (Redis's JSON decoder refuses one).
 */
function token(value: string): string {
  const separated = value.includes('\x1f') ? value.replaceAll('\x1f', '?') : value;
  return /[\uD800-\uDFFF]/.test(separated) ? separated.replace(LONE_SURROGATE, '\uFFFD') : separated;
}

/** Tokens built once per distinct parts: cached under their first part, then found by the other two. */
interface TokenCache<K> {
  get(key: K): { a: number; b: number | undefined; text: string }[] | undefined;
  set(key: K, texts: { a: number; b: number | undefined; text: string }[]): unknown;
}

function cachedToken<K>(cache: TokenCache<K>, key: K, a: number, b: number | undefined): string | undefined {
  for (const known of cache.get(key) ?? []) {
    if (known.a === a && known.b === b) return known.text;
  }
  return undefined;
}

function cacheToken<K>(cache: TokenCache<K>, key: K, a: number, b: number | undefined, text: string): string {
  const texts = cache.get(key);
  if (texts === undefined) cache.set(key, [{ a, b, text }]);
  else texts.push({ a, b, text });
  return text;
}

/** Kind tokens (`<ttl>|<slotMs>|<read,fields>`) by read list (increments of a kind share theirs). */
const KIND_TEXTS: TokenCache<readonly string[]> = new WeakMap();

function kindText({ read, ttlSeconds, slotMs }: BucketIncrement): string {
  const cached = cachedToken(KIND_TEXTS, read, ttlSeconds, slotMs);
  if (cached !== undefined) return cached;
  if (read.some((field) => field === '' || field.includes(','))) throw new Error(`read fields must be non-empty and without commas, got ${JSON.stringify(read)}`);
  return cacheToken(KIND_TEXTS, read, ttlSeconds, slotMs, `${ttlSeconds}|${slotMs ?? ''}|${read.map(token).join(',')}`);
}

/** Group tokens (`<counter>|<cap>|<countFrom>`) by counter. */
const GROUP_TEXTS: TokenCache<string> = new Map();

function groupText(counter: string, cap: number, countFrom: number): string {
  return cachedToken(GROUP_TEXTS, counter, cap, countFrom) ?? cacheToken(GROUP_TEXTS, counter, cap, countFrom, `${counter}|${cap}|${countFrom}`);
}

/**
 * The script's reply after its status: comma-separated numbers, read in place (a batch's reply
 * holds thousands; splitting it would allocate a string for each).
 */
class ReplyNumbers {
  readonly #text: string;
  #at: number;

  constructor(text: string, at: number) {
    this.#text = text;
    this.#at = at;
  }

  /** The next `count` numbers. */
  take(count: number): number[] {
    const numbers = new Array<number>(count);
    const text = this.#text;
    for (let k = 0; k < count; k += 1) {
      let end = text.indexOf(',', this.#at);
      if (end === -1) end = text.length;
      let value = 0;
      for (let i = this.#at; i < end; i += 1) {
        const digit = text.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) {
          // Not a plain integer (Lua formats only counts here, but stay exact if it did).
          value = Number(text.slice(this.#at, end));
          break;
        }
        value = value * 10 + digit;
      }
      numbers[k] = value;
      this.#at = end + 1;
    }
    return numbers;
  }
}

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
    // The whole batch as one JSON array of tokens: per bucket its kind, name, first event time,
    // counters, and groups (see SCRIPT).
    const tokens: (string | number)[] = [];
    const push = (by: number, field: string) => tokens.push(token(field), by);
    for (const increment of increments) {
      // `first` as a string: stored as given, whatever number format a Redis version gives a Lua number.
      tokens.push(kindText(increment), token(increment.bucket), String(increment.first), increment.counters.size);
      increment.counters.forEach(push);
      tokens.push(increment.groups.length);
      for (const group of increment.groups) {
        if ('runs' in group) {
          tokens.push(groupText('', group.cap, 0), group.runs.length);
          for (const run of group.runs) tokens.push(token(run[0]), run[1]);
          continue;
        }
        tokens.push(groupText(token(group.counter), group.cap, group.countFrom ?? 0), group.increments.size);
        group.increments.forEach(push);
      }
    }
    const command = (this.#redis as unknown as Record<string, (...a: string[]) => Promise<string>>)['keywardAbuseWindows'];
    const reply = await command!.call(this.#redis, `${base}checkpoint`, base, firstId, lastId, JSON.stringify(tokens));
    const comma = reply.indexOf(',');
    const status = comma === -1 ? reply : reply.slice(0, comma);
    if (status === 'partial') return { status: 'partial', checkpoint: reply.slice(status.length + 1) };
    const numbers = new ReplyNumbers(reply, status.length + 1);
    const values = increments.map((increment): BucketValues => {
      const fields = numbers.take(increment.read.length);
      if (increment.slotMs === undefined) return { fields };
      const successor = numbers.take(1)[0] === 1;
      return { fields, successor, previous: numbers.take(increment.read.length) };
    });
    return { status: status === 'applied' ? 'applied' : 'skipped', values };
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

  /** Some fields of the given buckets of a partition, as numbers (0 when absent), in one pipeline. */
  async readFields(partition: number, buckets: readonly string[], fields: readonly string[]): Promise<number[][]> {
    if (buckets.length === 0) return [];
    const base = this.partitionBase(partition);
    const pipeline = this.#redis.pipeline();
    for (const bucket of buckets) pipeline.hmget(`${base}${bucket}`, ...fields);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return (value as (string | null)[]).map((field) => Number(field ?? 0));
    });
  }

  /** The last entry id applied for a partition, or `null`. */
  async checkpoint(partition: number): Promise<string | null> {
    return this.#redis.get(`${this.partitionBase(partition)}checkpoint`);
  }
}
