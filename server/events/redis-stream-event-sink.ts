/**
 * The Redis implementation of the event sink: validation events are buffered in memory and
 * written in the background to partitioned Redis streams (design.md, Events and abuse detection).
 *
 * Delivery is at-least-once while the process lives: an event leaves the buffer only once Redis
 * has acknowledged its XADD, so a batch that fails is sent again (and a reply lost with a dropped
 * connection can mean a duplicate entry, which consumers tolerate). What is still buffered when
 * the process dies is lost: the buffer is the price of never making a validation wait.
 *
 * Each event gets its event id (`eid`, lib/events/new-event-id.ts) when it enters the buffer, so
 * a duplicate appended by a retry carries the same `eid` as the original and consumers count it
 * once.
 */
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from 'pino';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { newEventId } from '../../lib/events/new-event-id.js';
import { allStreamKeys, checkStreamPrefix, DEFAULT_STREAM_PREFIX, partitionOf } from '../../lib/events/stream-partition.js';
import { encodeValidationEventValue, routingKeyOf, type ValidationEvent } from '../../lib/events/validation-event.js';
import type { EventSink, EventSinkStats } from './event-sink.js';
import { PartitionBuffer } from './partition-buffer.js';

/** Options for {@link RedisStreamEventSink}. */
export interface RedisStreamEventSinkOptions {
  /**
   * The connection events are written on. Required.
   *
   * Give the sink a connection of its own, made for failing fast, so that a Redis outage shows up
   * as failed flushes (retried from the buffer) instead of commands piling up in the client:
   * `new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })`. A client made
   * otherwise is accepted (a warning is logged) but makes `flush()` and `close()` wait on its
   * own queueing and retries. The sink never connects, quits or listens to the client: its
   * owner does (and should handle its `error` events).
   */
  readonly redis: Redis;
  /** Number of stream partitions (see lib/events/stream-partition.ts). Default: 16. */
  readonly partitions?: number;
  /** Key prefix of the streams, without braces. Default: `'keyward:events'`. */
  readonly streamPrefix?: string;
  /**
   * Most events held in memory, including a batch in flight; beyond it new events are dropped
   * and counted. Default: 100 000 (tens of MB at worst, a few seconds of peak traffic).
   */
  readonly maxBuffered?: number;
  /** Most events sent in one pipeline. Default: 1 000. */
  readonly batchSize?: number;
  /**
   * How long an appended event may wait for company before a flush starts, in ms; also the first
   * retry delay after a failure, doubled on each further failure up to 1 s (or up to this
   * interval, when it is longer). Default: 25.
   */
  readonly flushIntervalMs?: number;
  /**
   * Length each partition stream is trimmed to, approximately (`XADD … MAXLEN ~ n`: Redis trims
   * whole internal nodes only, so a stream may hold somewhat more). Default: 100 000, about
   * 30-40 MB per partition at ~300-400 bytes an entry (measured: 303 bytes with a 40-character
   * User-Agent), so 0.5-0.6 GB for 16 partitions when all are full.
   */
  readonly maxStreamLength?: number;
  /** Where delivery trouble is reported (once per outage, not once per event). Default: none. */
  readonly logger?: Logger;
}

/**
 * Most bytes one partition buffers; an event beyond it is dropped and counted, like one beyond
 * `maxBuffered`. Only events far larger than validation produces (its headers are cut at 2,048
 * characters) could reach it before `maxBuffered` does.
 */
const MAX_PARTITION_BYTES = 512 * 1024 * 1024;
/** Longest wait between two delivery attempts while Redis keeps failing, in ms. */
const MAX_RETRY_DELAY_MS = 1_000;
/**
 * Appends one partition's events in order: ARGV[1] = maxlen, ARGV[2] = the events' `e` values
 * (lib/events/validation-event.ts), each followed by a newline. A value is JSON, which never
 * holds a raw newline, so the split is exact. One argument for the whole batch, rather than one
 * per event, is what lets the sink keep a partition's events as bytes in one buffer. Runs
 * atomically, so a partition's batch is appended whole or (on an error at its first entry, e.g.
 * WRONGTYPE) not at all.
 */
const XADD_BATCH_SCRIPT = `
local maxlen = ARGV[1]
local data = ARGV[2]
local start = 1
local count = 0
while start <= #data do
  local stop = string.find(data, '\\n', start, true)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'e', string.sub(data, start, stop - 1))
  count = count + 1
  start = stop + 1
end
return count
`;
const XADD_BATCH_SHA = createHash('sha1').update(XADD_BATCH_SCRIPT).digest('hex');

function isNoScript(error: Error | null): boolean {
  return error !== null && error.message.startsWith('NOSCRIPT');
}

/** Default bound of {@link RedisStreamEventSink.close}, in ms. */
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Buffers validation events and appends them to `<streamPrefix>:{<partition>}` streams, one
 * entry per event (`XADD … MAXLEN ~ n * e <value>`), one script call per partition and
 * flush. See {@link EventSink}.
 */
export class RedisStreamEventSink implements EventSink {
  private readonly redis: Redis;
  private readonly partitions: number;
  private readonly streamKeys: readonly string[];
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxLenArgument: string;
  private readonly logger: Logger | undefined;

  /** Each partition's events, oldest first (partition-buffer.ts). */
  private readonly buffers: readonly PartitionBuffer[];
  /** Events in all of `buffers`. */
  private buffered = 0;
  /** Where the next batch starts taking events, so that a backlog drains every partition in turn. */
  private nextPartition = 0;
  private appended = 0;
  private dropped = 0;
  private failedFlushes = 0;
  private consecutiveFailures = 0;
  private reportedDrop = false;
  private closed = false;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  /** The drain in progress, if any: drains run one after another, so one pipeline at a time. */
  private drainChain: Promise<boolean> = Promise.resolve(true);

  /**
   * @param options - The connection and limits; see {@link RedisStreamEventSinkOptions}.
   * @throws ConfigurationError naming the first invalid option.
   */
  constructor(options: RedisStreamEventSinkOptions) {
    const redis: unknown = options.redis;
    if (typeof redis !== 'object' || redis === null || typeof (redis as Partial<Redis>).pipeline !== 'function') {
      throw new ConfigurationError('redis', 'must be an ioredis client');
    }
    this.redis = options.redis;
    this.partitions = integerOption('partitions', options.partitions, 16, 1, 16_384);
    const streamPrefix = options.streamPrefix ?? DEFAULT_STREAM_PREFIX;
    checkStreamPrefix(streamPrefix, 'streamPrefix');
    this.streamKeys = allStreamKeys(this.partitions, streamPrefix);
    this.maxBuffered = integerOption('maxBuffered', options.maxBuffered, 100_000, 1);
    this.batchSize = integerOption('batchSize', options.batchSize, 1_000, 1);
    this.flushIntervalMs = integerOption('flushIntervalMs', options.flushIntervalMs, 25, 1, 60_000);
    this.maxLenArgument = String(integerOption('maxStreamLength', options.maxStreamLength, 100_000, 1));
    this.logger = options.logger;
    this.buffers = Array.from({ length: this.partitions }, () => new PartitionBuffer(MAX_PARTITION_BYTES));

    // On a cluster client (runtime/redis-connection.ts) the per-command options sit in its nodes' options.
    const { enableOfflineQueue, redisOptions } = this.redis.options as Redis['options'] & { redisOptions?: Redis['options'] };
    const maxRetriesPerRequest = redisOptions === undefined ? this.redis.options.maxRetriesPerRequest : redisOptions.maxRetriesPerRequest;
    if (enableOfflineQueue !== false || maxRetriesPerRequest === null || (maxRetriesPerRequest ?? 20) > 1) {
      this.logger?.warn(
        { enableOfflineQueue, maxRetriesPerRequest },
        'event sink connection queues commands while Redis is down; use enableOfflineQueue: false, maxRetriesPerRequest: 1',
      );
    }
  }

  /** {@inheritDoc EventSink.append} Gives the event an `eid` when it has none. */
  append(event: ValidationEvent): void {
    if (this.closed || this.buffered >= this.maxBuffered) {
      this.dropOne();
      return;
    }
    // Encoded now, into the partition's bytes: the buffer then holds no object per event, which
    // would live until Redis acknowledges it and be copied or promoted by the young-generation
    // collector on the way (partition-buffer.ts).
    const complete = event.eid === undefined ? { ...event, eid: newEventId() } : event;
    const buffer = this.buffers[partitionOf(routingKeyOf(complete), this.partitions)] as PartitionBuffer;
    if (!buffer.push(encodeValidationEventValue(complete))) {
      this.dropOne();
      return;
    }
    this.buffered += 1;
    if (this.timer === undefined && !this.draining) this.schedule(this.flushIntervalMs);
  }

  /** Counts an event given up on arrival, and warns once until delivery recovers. */
  private dropOne(): void {
    // The new event is the one dropped: the oldest ones sit at the head, possibly in a pipeline
    // right now, and evicting them would race with that pipeline's acknowledgement. The loss is
    // the same one event either way.
    this.dropped += 1;
    if (!this.reportedDrop) {
      this.reportedDrop = true;
      this.logger?.warn({ maxBuffered: this.maxBuffered, closed: this.closed }, 'event buffer full or closed: dropping events');
    }
  }

  /** {@inheritDoc EventSink.stats} */
  stats(): EventSinkStats {
    return { buffered: this.buffered, appended: this.appended, dropped: this.dropped, failedFlushes: this.failedFlushes };
  }

  /** {@inheritDoc EventSink.flush} */
  async flush(): Promise<void> {
    await this.drain(true);
  }

  /**
   * {@inheritDoc EventSink.close}
   *
   * Retries with the usual backoff until the buffer is empty or `timeoutMs` (default 5 000) has
   * passed. Does not close the Redis connection, which belongs to the caller.
   */
  async close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    const deadline = Date.now() + Math.max(0, timeoutMs);
    while (this.buffered > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const delivered = await withinMs(this.drain(true), remaining);
      if (delivered === undefined) break;
      if (!delivered) await waitMs(Math.min(this.retryDelayMs(), deadline - Date.now()));
    }
    if (this.buffered > 0) {
      this.logger?.warn({ undelivered: this.buffered, timeoutMs }, 'event sink closed with events undelivered');
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain(false);
    }, delayMs);
    // Buffered analytics must not keep a finished process alive; close() is the orderly way out.
    this.timer.unref();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Queues a drain after the one in progress. With `untilEmpty`, sends until the buffer is empty;
   * otherwise (the flush timer) sends what was buffered when the drain started, and events that
   * arrive meanwhile wait for the next tick of the timer, so that they travel in batches rather
   * than one small pipeline after another. Resolves to whether everything sent was settled.
   * Never rejects.
   */
  private drain(untilEmpty: boolean): Promise<boolean> {
    const run = this.drainChain.then(() => this.drainNow(untilEmpty));
    this.drainChain = run;
    return run;
  }

  private async drainNow(untilEmpty: boolean): Promise<boolean> {
    this.draining = true;
    let emptied = false;
    try {
      emptied = await this.sendAll(untilEmpty ? Number.POSITIVE_INFINITY : this.buffered);
    } catch (error) {
      // sendBatch handles Redis errors itself; reaching here is a bug, which must not stop delivery.
      this.failedFlushes += 1;
      this.consecutiveFailures += 1;
      this.logger?.error({ err: error }, 'event sink flush failed unexpectedly');
    } finally {
      this.draining = false;
    }
    if (!this.closed && this.timer === undefined && this.buffered > 0) {
      this.schedule(emptied ? this.flushIntervalMs : this.retryDelayMs());
    }
    return emptied;
  }

  /** Sends up to `limit` events from the head of the buffer, a batch at a time. */
  private async sendAll(limit: number): Promise<boolean> {
    let left = limit;
    while (this.buffered > 0 && left > 0) {
      const count = Math.min(this.batchSize, left);
      left -= count;
      if (!(await this.sendBatch(count))) return false;
    }
    return true;
  }

  /**
   * Sends again the partitions whose script call failed because the script was not loaded, and
   * returns the replies with theirs in place.
   */
  private async retryUnloaded(takes: readonly PartitionTake[], replies: [Error | null, unknown][]): Promise<[Error | null, unknown][]> {
    const again = takes.filter((_, index) => isNoScript(replies[index]?.[0] ?? null));
    const pipeline = this.redis.pipeline();
    for (const take of again) this.appendCall(pipeline, take);
    const retried = (await pipeline.exec()) ?? [];
    let next = 0;
    return replies.map((reply) => (isNoScript(reply[0]) ? (retried[next++] ?? reply) : reply));
  }

  /** Adds to the pipeline the script call appending a partition's first `count` events. */
  private appendCall(pipeline: ChainableCommander, { partition, count }: PartitionTake): void {
    const events = (this.buffers[partition] as PartitionBuffer).head(count);
    pipeline.evalsha(XADD_BATCH_SHA, 1, this.streamKeys[partition] as string, this.maxLenArgument, events);
  }

  /** Up to `limit` events from the heads of the partitions, starting at `nextPartition`. */
  private takeBatch(limit: number): PartitionTake[] {
    const takes: PartitionTake[] = [];
    let left = limit;
    for (let i = 0; i < this.partitions && left > 0; i += 1) {
      const partition = (this.nextPartition + i) % this.partitions;
      const count = Math.min((this.buffers[partition] as PartitionBuffer).count, left);
      if (count === 0) continue;
      takes.push({ partition, count });
      left -= count;
      if (left === 0) this.nextPartition = (partition + 1) % this.partitions;
    }
    return takes;
  }

  /**
   * Sends up to `limit` events (one script call per partition) in one pipeline and removes from
   * the buffer what Redis acknowledged or refused for good; the rest stays at the head of its
   * partition, in order, for the next attempt.
   *
   * @returns Whether every event of the batch was settled (none is left to retry).
   */
  private async sendBatch(limit: number): Promise<boolean> {
    const takes = this.takeBatch(limit);
    const pipeline = this.redis.pipeline();
    for (const take of takes) this.appendCall(pipeline, take);
    let replies: [Error | null, unknown][] | null = null;
    let pipelineError: unknown;
    try {
      replies = await pipeline.exec();
      if (replies?.some(([error]) => isNoScript(error))) {
        await this.redis.script('LOAD', XADD_BATCH_SCRIPT);
        replies = await this.retryUnloaded(takes, replies);
      }
    } catch (error) {
      pipelineError = error;
    }

    let acknowledged = 0;
    let refused = 0;
    let kept = 0;
    let firstError: unknown;
    takes.forEach((take, index) => {
      const reply = replies?.[index];
      const error = reply === undefined ? (pipelineError ?? new Error('no reply from Redis')) : reply[0];
      if (error === null) {
        acknowledged += take.count;
      } else {
        firstError ??= error;
        if (!isRefusedForGood(error)) {
          kept += take.count;
          return;
        }
        refused += take.count;
      }
      (this.buffers[take.partition] as PartitionBuffer).drop(take.count);
    });
    this.buffered -= acknowledged + refused;
    this.appended += acknowledged;
    this.dropped += refused;
    if (refused > 0) {
      this.logger?.error({ err: firstError, refused }, 'Redis refused validation events for good: dropped');
    }

    if (kept === 0) {
      if (this.consecutiveFailures > 0) {
        this.logger?.info({ failedAttempts: this.consecutiveFailures }, 'event delivery recovered');
      }
      this.consecutiveFailures = 0;
      this.reportedDrop = false;
      return true;
    }
    if (this.consecutiveFailures === 0) {
      this.logger?.warn({ err: firstError, buffered: this.buffered }, 'event delivery failing: buffering and retrying');
    }
    this.failedFlushes += 1;
    this.consecutiveFailures += 1;
    return false;
  }

  /** Doubles from `flushIntervalMs` with each consecutive failure, up to {@link MAX_RETRY_DELAY_MS} or `flushIntervalMs`. */
  private retryDelayMs(): number {
    const exponent = Math.min(this.consecutiveFailures, 16);
    return Math.min(Math.max(MAX_RETRY_DELAY_MS, this.flushIntervalMs), this.flushIntervalMs * 2 ** exponent);
  }
}

/**
 * Whether retrying cannot help: Redis answered with a generic `ERR` (a malformed command) or
 * `WRONGTYPE` (the stream key holds another type). Conditions that pass have their own prefixes
 * (OOM, LOADING, BUSY, READONLY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN…) and are retried, as are
 * connection errors, which are not replies at all.
 */
function isRefusedForGood(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && /^(ERR|WRONGTYPE) /.test(error.message);
}

/** The option's value or its default, checked to be an integer in `[min, max]`. */
function integerOption(field: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw new ConfigurationError(field, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return resolved;
}

/** Resolves with the promise's value, or with undefined once `ms` have passed. */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function waitMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** A partition's share of a batch: its first `count` events. */
interface PartitionTake {
  readonly partition: number;
  readonly count: number;
}
