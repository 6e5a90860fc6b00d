/**
 * The consumer of the partitioned validation event streams, one per worker process: it joins
 * the consumer group's membership, owns the partitions the assignment gives it (each under a
 * lease, see partition-lease.ts) and runs one loop per owned partition (partition-consumer.ts).
 *
 * Scaling: start more worker processes with the same group; each heartbeat tick (a third of the
 * lease time) every consumer recomputes the assignment from the live members, hands over the
 * partitions that now belong to another (after the batch in hand, then releasing the lease) and
 * takes the free ones assigned to it. A crashed consumer's partitions are taken once its lease
 * and heartbeat expire; its unacknowledged entries are reclaimed after `claimIdleMs`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { EventBatchProcessor } from '../../lib/abuse/event-batch-processor.js';
import { assignPartitions } from '../../lib/events/assign-partitions.js';
import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { allStreamKeys, checkStreamPrefix } from '../../lib/events/stream-partition.js';
import { ConsumerMembership, membershipKeyFor } from './consumer-membership.js';
import { PartitionConsumer, type PoisonEntry, type StreamConsumerObserver } from './partition-consumer.js';
import { leaseKeysFor, PartitionLease, type LeaseKeys } from './partition-lease.js';
import { PartitionStream } from './partition-stream.js';

/** Default consumer group of the abuse detector. */
export const DEFAULT_CONSUMER_GROUP = 'keyward-abuse';

/** Options for {@link StreamConsumer}. */
export interface StreamConsumerOptions {
  /** Command connection (scripts, leases, heartbeats); never blocked. Required. */
  readonly redis: Redis;
  /**
   * Makes a connection for one partition loop's blocking waits (XREAD BLOCK). Required. Give
   * connections that wait through outages (`maxRetriesPerRequest: null`); the consumer
   * disconnects every connection it made when it stops.
   */
  readonly createBlockingRedis: () => Redis;
  /** Applies the decoded entries. Required. */
  readonly processor: EventBatchProcessor;
  /** Key prefix of the streams. Required (the server's `EVENT_STREAM_PREFIX`). */
  readonly streamPrefix: string;
  /** Number of partitions. Required (the server's `EVENT_STREAM_PARTITIONS`). */
  readonly partitions: number;
  /** Consumer group name. Default: `keyward-abuse`. */
  readonly group?: string;
  /** This consumer's name in the group; must be unique per process. Default: `<host>-<pid>-<random>`. */
  readonly consumerName?: string;
  /** Most entries per processor call. Default: 500 (from 1 to 5,000). */
  readonly batchSize?: number;
  /** How long a partition loop waits for new entries when it found none, in ms. Default: 1,000. */
  readonly blockMs?: number;
  /** How long an entry stays pending with a consumer before another may reclaim it, in ms. Default: 30,000. */
  readonly claimIdleMs?: number;
  /**
   * Lease and heartbeat lifetime, in ms; renewed every third of it. A crashed worker's partitions
   * wait this long for a new owner. Default: 15,000 (at least 300).
   */
  readonly leaseMs?: number;
  /**
   * How long `stop()` waits for batches in hand before abandoning them (they stay pending, and are
   * reclaimed after `claimIdleMs`), in ms. Default: 10,000.
   */
  readonly stopTimeoutMs?: number;
  /** Stores entries that are not validation events. Default: log them (they are acknowledged either way). */
  readonly recordPoison?: (partition: number, entries: readonly PoisonEntry[]) => Promise<void>;
  /** Metrics hooks. Default: none. */
  readonly observer?: StreamConsumerObserver;
  /** Logger. Required. */
  readonly logger: Logger;
}

interface OwnedPartition {
  readonly keys: LeaseKeys;
  readonly token: string;
  readonly loop: PartitionConsumer;
  readonly blocking: Redis;
  /** Set when the loop was told to end: handed over (`release`) or lease not renewed. */
  leaving: boolean;
  /** Whether to release the lease once the loop ended (a hand-over; not after a lost lease). */
  release: boolean;
}

/** See the module comment. */
export class StreamConsumer {
  /** This consumer's name in the group. */
  readonly consumerName: string;
  private readonly options: Required<Omit<StreamConsumerOptions, 'observer' | 'recordPoison' | 'consumerName'>>;
  private readonly observer: StreamConsumerObserver;
  private readonly recordPoison: (partition: number, entries: readonly PoisonEntry[]) => Promise<void>;
  private readonly streamKeys: readonly string[];
  private readonly streams: readonly PartitionStream[];
  private readonly lease: PartitionLease;
  private readonly membership: ConsumerMembership;
  private readonly owned = new Map<number, OwnedPartition>();
  private readonly idleBlocking: Redis[] = [];
  private readonly allBlocking: Redis[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tickInProgress: Promise<void> = Promise.resolve();
  private stopped = false;

  /** @throws ConfigurationError naming the first invalid option. */
  constructor(options: StreamConsumerOptions) {
    checkStreamPrefix(options.streamPrefix, 'streamPrefix');
    const group = options.group ?? DEFAULT_CONSUMER_GROUP;
    if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(group)) throw new ConfigurationError('group', `must be 1-64 letters, digits or :_.-, got "${group}"`);
    this.consumerName = options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.options = {
      redis: options.redis,
      createBlockingRedis: options.createBlockingRedis,
      processor: options.processor,
      streamPrefix: options.streamPrefix,
      partitions: integer('partitions', options.partitions, options.partitions, 1, 16_384),
      group,
      batchSize: integer('batchSize', options.batchSize, 500, 1, 5_000),
      blockMs: integer('blockMs', options.blockMs, 1_000, 1, 60_000),
      claimIdleMs: integer('claimIdleMs', options.claimIdleMs, 30_000, 1),
      leaseMs: integer('leaseMs', options.leaseMs, 15_000, 300),
      stopTimeoutMs: integer('stopTimeoutMs', options.stopTimeoutMs, 10_000, 0),
      logger: options.logger,
    };
    this.observer = options.observer ?? {};
    this.recordPoison =
      options.recordPoison ??
      (async (partition, entries) => {
        for (const entry of entries) this.options.logger.error({ partition, id: entry.id, error: entry.error }, 'poison stream entry skipped');
      });
    this.streamKeys = allStreamKeys(this.options.partitions, this.options.streamPrefix);
    this.streams = this.streamKeys.map(
      (key) => new PartitionStream(options.redis, key, leaseKeysFor(key, group), group, this.consumerName),
    );
    this.lease = new PartitionLease(options.redis, this.consumerName, this.options.leaseMs);
    this.membership = new ConsumerMembership(options.redis, membershipKeyFor(options.streamPrefix, group), this.consumerName, this.options.leaseMs);
  }

  /** The partitions this consumer owns right now, ascending. */
  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** Creates the consumer groups (at `0`, with MKSTREAM), joins, and starts consuming. */
  async start(): Promise<void> {
    await Promise.all(this.streams.map((stream) => stream.ensureGroup()));
    await this.tick();
    this.schedule();
  }

  /**
   * Stops consuming: every loop finishes its batch in hand (up to `stopTimeoutMs`), leases of the
   * loops that ended are released and the membership left, so other consumers take over at once.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    // Bounded: with Redis unreachable the tick's commands wait for it (blocking connections retry forever).
    await within(this.tickInProgress, BEST_EFFORT_MS);
    const runs = [...this.owned.entries()];
    for (const [, run] of runs) run.loop.stop();
    // Wakes loops waiting in XREAD BLOCK: the wait rejects and the loop sees it is stopping.
    for (const client of this.allBlocking) client.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs)));
    await Promise.all(
      runs.map(async ([partition, run]) => {
        const end = await Promise.race([run.loop.ended, timeout]);
        if (end === 'stopped') await within(this.lease.release(run.keys, run.token).catch(() => false), BEST_EFFORT_MS);
        else if (end === 'timeout') this.options.logger.warn({ partition }, 'batch still in hand at stop: left pending for another consumer');
        this.owned.delete(partition);
      }),
    );
    clearTimeout(timer);
    await within(this.membership.leave().catch(() => undefined), BEST_EFFORT_MS);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tickInProgress = this.tick().finally(() => this.schedule());
    }, Math.floor(this.options.leaseMs / 3));
  }

  /** Heartbeat, then renew, hand over and acquire leases as the assignment says. Never rejects. */
  private async tick(): Promise<void> {
    try {
      const members = await this.membership.heartbeat();
      const assigned = new Set(assignPartitions(members, this.options.partitions, this.consumerName));
      for (const [partition, run] of this.owned) {
        if (run.leaving) continue;
        if (!assigned.has(partition)) {
          this.handOver(partition, run);
        } else if (!(await this.lease.renew(run.keys, run.token))) {
          this.options.logger.warn({ partition }, 'partition lease expired before renewal: stopping its loop');
          run.leaving = true;
          run.loop.stop();
        }
      }
      for (const partition of assigned) {
        if (this.stopped || this.owned.has(partition)) continue;
        const keys = leaseKeysFor(this.streamKeys[partition] as string, this.options.group);
        const token = await this.lease.acquire(keys);
        if (token !== null) this.startLoop(partition, keys, token);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'stream consumer heartbeat failed: retrying');
    }
  }

  private startLoop(partition: number, keys: LeaseKeys, token: string): void {
    const blocking = this.idleBlocking.pop() ?? this.newBlockingConnection();
    const loop = new PartitionConsumer({
      partition,
      stream: this.streams[partition] as PartitionStream,
      token,
      blocking,
      batchSize: this.options.batchSize,
      blockMs: this.options.blockMs,
      claimIdleMs: this.options.claimIdleMs,
      processor: this.options.processor,
      recordPoison: this.recordPoison,
      observer: this.observer,
      logger: this.options.logger,
    });
    const run: OwnedPartition = { keys, token, loop, blocking, leaving: false, release: false };
    this.owned.set(partition, run);
    this.options.logger.debug({ partition, token }, 'partition acquired');
    // stop() settles the loops it ends itself; here: hand-overs and lost leases.
    void loop.ended.then(async (end) => {
      if (this.stopped) return;
      if (run.release && end === 'stopped') await this.lease.release(keys, token).catch(() => false);
      if (this.owned.get(partition) === run) this.owned.delete(partition);
      this.idleBlocking.push(blocking);
      this.options.logger.debug({ partition, end, handedOver: run.release }, 'partition left');
    });
  }

  /** Lets the loop finish its batch, then releases the lease for the partition's new owner. */
  private handOver(_partition: number, run: OwnedPartition): void {
    run.leaving = true;
    run.release = true;
    run.loop.stop();
  }

  private newBlockingConnection(): Redis {
    const client = this.options.createBlockingRedis();
    this.allBlocking.push(client);
    return client;
  }
}

/** How long stop() waits for each best-effort Redis call (lease release, leaving), in ms: expiry does the rest. */
const BEST_EFFORT_MS = 2_000;

/** Waits for `promise`, but at most `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function integer(field: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw new ConfigurationError(field, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return resolved;
}
