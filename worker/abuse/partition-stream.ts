/**
 * One partition stream as its owner sees it: the consumer-group commands, each fenced by the
 * partition lease (see partition-lease.ts) inside one script, so that a consumer that lost its
 * lease can neither take new entries nor acknowledge old ones.
 */
import type { Redis } from 'ioredis';

import { LuaScript } from './lua-script.js';
import type { LeaseKeys } from './partition-lease.js';

const LEASE_CHECK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('LEASELOST the partition lease is held by another consumer')
end
`;

/**
 * New entries; {2, count} instead while entries are pending (left by a previous owner, not yet
 * idle enough to claim), so that they are processed before newer ones; when there is nothing
 * new, the id of the stream's last entry (`0-0` when empty) to wait after.
 */
const READ = new LuaScript(`${LEASE_CHECK}
local pending = redis.call('XPENDING', KEYS[2], ARGV[2])
if pending[1] > 0 then return {2, pending[1]} end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
if reply then return {1, reply[1][2]} end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then return {0, last[1][1]} end
return {0, '0-0'}
`);

/** XAUTOCLAIM: entries pending with other consumers for at least ARGV[4] ms. */
const CLAIM = new LuaScript(`${LEASE_CHECK}
return redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'COUNT', ARGV[6])
`);

const ACK = new LuaScript(`${LEASE_CHECK}
return redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, 3))
`);

/** DELCONSUMER only when the consumer still has nothing pending (atomic with the check). */
const PRUNE = new LuaScript(`
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/** A raw stream entry: id and field/value list. */
export type RawEntry = readonly [id: string, fields: readonly string[]];

/** What a read found. */
export type ReadResult =
  | { readonly kind: 'entries'; readonly entries: readonly RawEntry[] }
  /** Older entries are still pending (with a crashed or fenced previous owner): claim them first. */
  | { readonly kind: 'pending-first'; readonly pending: number }
  | { readonly kind: 'empty'; readonly lastId: string };

/** What a claim step found. */
export interface ClaimResult {
  /** Where the next claim step starts; `0-0` once the pending list was scanned to its end. */
  readonly cursor: string;
  /** Entries now pending with this consumer, oldest first. */
  readonly entries: readonly RawEntry[];
  /** Ids that were pending but whose entries were trimmed from the stream before anyone processed them. */
  readonly trimmed: readonly string[];
}

/** The fenced group commands of one partition stream, for one consumer. */
export class PartitionStream {
  /**
   * @param redis - Command connection (never blocked).
   * @param streamKey - The partition's stream.
   * @param leaseKeys - Its lease (same hash tag).
   * @param group - Consumer group name.
   * @param consumer - This consumer's name within the group.
   */
  constructor(
    private readonly redis: Redis,
    readonly streamKey: string,
    private readonly leaseKeys: LeaseKeys,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /**
   * Creates the consumer group at the start of the stream (`0`, creating the stream if needed),
   * so entries appended before any worker ran are processed too. A group that exists is kept.
   */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.streamKey, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  /**
   * Takes up to `count` entries never delivered to the group, unless entries are pending (see
   * {@link ReadResult}). Call it only with no batch of this consumer in hand.
   * @throws LEASELOST, NOGROUP replies.
   */
  async read(token: string, count: number): Promise<ReadResult> {
    const reply = (await READ.run(this.redis, [this.leaseKeys.lease, this.streamKey], [token, this.group, this.consumer, count])) as [
      number,
      RawEntry[] | string | number,
    ];
    if (reply[0] === 1) return { kind: 'entries', entries: reply[1] as RawEntry[] };
    if (reply[0] === 2) return { kind: 'pending-first', pending: reply[1] as number };
    return { kind: 'empty', lastId: reply[1] as string };
  }

  /**
   * The steady-state read, once no predecessor's entries are pending: the lease check, the
   * stream's last id and XREADGROUP in one pipeline rather than one script, because a script's
   * XREADGROUP reply passes through Lua tables and costs Redis ~2.5x the CPU per entry. The check
   * is not atomic with the read: a consumer that lost its lease a moment before may take one more
   * batch, which it then leaves pending (never processes) for the new owner to reclaim.
   *
   * The last id is read before XREADGROUP: when the read is empty, every entry up to that id was
   * delivered, so waiting for an entry after it misses nothing.
   * @throws LEASELOST (as an error message), NOGROUP replies.
   */
  async readPipelined(token: string, count: number): Promise<ReadResult> {
    const replies = await this.redis
      .pipeline()
      .get(this.leaseKeys.lease)
      .xrevrange(this.streamKey, '+', '-', 'COUNT', 1)
      .xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', this.streamKey, '>')
      .exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (failed) throw failed;
    const [[, lease], [, last], [, read]] = replies as [[null, string | null], [null, [string, string[]][]], [null, [string, RawEntry[]][] | null]];
    if (lease !== token) throw new Error('LEASELOST the partition lease is held by another consumer');
    const entries = read?.[0]?.[1] ?? [];
    return entries.length > 0 ? { kind: 'entries', entries } : { kind: 'empty', lastId: last[0]?.[0] ?? '0-0' };
  }

  /** Claims up to `count` entries idle for `minIdleMs` in other consumers' pending lists, from `cursor`. */
  async claim(token: string, cursor: string, minIdleMs: number, count: number): Promise<ClaimResult> {
    const reply = (await CLAIM.run(
      this.redis,
      [this.leaseKeys.lease, this.streamKey],
      [token, this.group, this.consumer, minIdleMs, cursor, count],
    )) as [string, RawEntry[], string[] | undefined];
    return { cursor: reply[0], entries: reply[1].filter((entry) => Array.isArray(entry[1])), trimmed: reply[2] ?? [] };
  }

  /**
   * Deletes the group's consumers of this stream that hold no pending entry and have been idle
   * for `idleMs` (names of stopped or crashed processes; a live one is recreated by its next
   * read). Returns how many were deleted.
   */
  async pruneConsumers(idleMs: number): Promise<number> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.streamKey, this.group)) as unknown[][];
    let deleted = 0;
    for (const fields of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      const name = String(info.get('name'));
      if (name !== this.consumer && info.get('pending') === 0 && Number(info.get('idle')) >= idleMs) {
        // Checked again by Redis: DELCONSUMER of a consumer that meanwhile read something would drop its pending entries.
        deleted += (await PRUNE.run(this.redis, [this.streamKey], [this.group, name])) as number;
      }
    }
    return deleted;
  }

  /** Acknowledges entries whose effects are stored. */
  async ack(token: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await ACK.run(this.redis, [this.leaseKeys.lease, this.streamKey], [token, this.group, ...ids]);
  }
}

/**
 * Waits, on a connection reserved for blocking, until the stream has an entry after `afterId`
 * or `blockMs` passed. Reads nothing for the group: the next fenced read takes the entries.
 */
export async function waitForEntryAfter(blocking: Redis, streamKey: string, afterId: string, blockMs: number): Promise<void> {
  await blocking.xread('COUNT', 1, 'BLOCK', blockMs, 'STREAMS', streamKey, afterId);
}

/** Whether a Redis error says the consumer group (or its stream) is gone, e.g. after data loss. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}
