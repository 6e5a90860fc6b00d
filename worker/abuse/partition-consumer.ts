/**
 * The loop that consumes one owned partition: reclaim what crashed consumers left pending, read
 * new entries, hand them decoded to the processor, and acknowledge them only once it resolved.
 *
 * In order, also across a crash: while entries a previous owner left unacknowledged are pending,
 * the loop reclaims them (once idle for `claimIdleMs`) before it reads anything newer.
 *
 * At-least-once, with no double application of this loop's own making: an entry is acknowledged
 * once, after its effects are stored; a batch whose processor call rejects is retried as it is
 * (not read again, not acknowledged in part), and abandoned (left pending, to be reclaimed) only
 * when the loop stops or loses its lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { EventBatchProcessor, StreamEntry } from '../../lib/abuse/event-batch-processor.js';
import { decodeValidationEvent } from '../../lib/events/validation-event.js';
import { isLeaseLost } from './lua-script.js';
import { isNoGroup, waitForEntryAfter, type PartitionStream, type RawEntry } from './partition-stream.js';

/** An entry that is not a validation event: recorded, acknowledged, never retried. */
export interface PoisonEntry {
  readonly id: string;
  readonly fields: readonly string[];
  /** Why it could not be decoded. */
  readonly error: string;
}

/** What a partition loop reports, for metrics. Every method is optional. */
export interface StreamConsumerObserver {
  /** Entries processed and acknowledged (poison included in `poison`, not here). */
  onProcessed?(partition: number, entries: number): void;
  /** Undecodable entries recorded and acknowledged. */
  onPoison?(partition: number, entries: number): void;
  /** A processor (or poison store) call rejected; the batch will be retried. */
  onProcessorFailure?(partition: number): void;
  /** Entries taken over from another consumer's pending list. */
  onReclaimed?(partition: number, entries: number): void;
  /** Pending entries trimmed from the stream before they were processed: lost. */
  onTrimmed?(partition: number, entries: number): void;
}

/** How a partition loop ended. */
export type PartitionLoopEnd = 'stopped' | 'lease-lost';

/** Settings of one partition loop (normalised by the coordinator, see stream-consumer.ts). */
export interface PartitionConsumerSettings {
  readonly partition: number;
  readonly stream: PartitionStream;
  readonly token: string;
  /** Connection reserved for this loop's blocking waits. */
  readonly blocking: Redis;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly claimIdleMs: number;
  readonly processor: EventBatchProcessor;
  readonly recordPoison: (partition: number, entries: readonly PoisonEntry[]) => Promise<void>;
  readonly observer: StreamConsumerObserver;
  readonly logger: Logger;
}

/** First delay before retrying a failed processor call or Redis command, doubled up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 100;
/** How often a new owner looks again for a predecessor's pending entries that were not yet idle enough. */
const PENDING_POLL_MS = 250;
/** Consumers idle this long with nothing pending are removed from the group (see PartitionStream.pruneConsumers). */
const PRUNE_IDLE_MS = 60 * 60_000;
/** How often a loop looks for such consumers. */
const PRUNE_EVERY_MS = 10 * 60_000;
const MAX_RETRY_MS = 5_000;

/** Thrown inside the loop when it must give up a batch because it is stopping. */
class Abandoned extends Error {
  override readonly name = 'Abandoned';
}

/** Consumes one partition while it holds the lease; see the module comment. */
export class PartitionConsumer {
  private readonly abort = new AbortController();
  private stopping = false;
  /** Resolves when the loop has ended. */
  readonly ended: Promise<PartitionLoopEnd>;

  constructor(private readonly settings: PartitionConsumerSettings) {
    this.ended = this.run();
  }

  /** The partition this loop consumes. */
  get partition(): number {
    return this.settings.partition;
  }

  /** Asks the loop to end after the batch in hand (or at once, when it is waiting or retrying). */
  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  private async run(): Promise<PartitionLoopEnd> {
    const { stream, token, partition, logger } = this.settings;
    // Reclaiming runs first (crashed consumers' entries are the oldest), then every half idle time.
    let claimCursor = '0-0';
    let nextClaimAt = 0;
    let nextPruneAt = Date.now() + PRUNE_EVERY_MS;
    let recovered = false;
    let failures = 0;
    while (!this.stopping) {
      try {
        let entries: readonly RawEntry[] = [];
        if (Date.now() >= nextClaimAt) {
          const claimed = await stream.claim(token, claimCursor, this.settings.claimIdleMs, this.settings.batchSize);
          claimCursor = claimed.cursor;
          if (claimCursor === '0-0') nextClaimAt = Date.now() + Math.max(100, this.settings.claimIdleMs / 2);
          if (claimCursor === '0-0' && Date.now() >= nextPruneAt) {
            nextPruneAt = Date.now() + PRUNE_EVERY_MS;
            const pruned = await stream.pruneConsumers(PRUNE_IDLE_MS);
            if (pruned > 0) logger.info({ partition, pruned }, 'removed idle consumers from the group');
          }
          if (claimed.trimmed.length > 0) {
            this.settings.observer.onTrimmed?.(partition, claimed.trimmed.length);
            logger.warn({ partition, trimmed: claimed.trimmed.length }, 'pending entries were trimmed from the stream before processing');
          }
          if (claimed.entries.length > 0) this.settings.observer.onReclaimed?.(partition, claimed.entries.length);
          entries = claimed.entries;
        }
        if (entries.length === 0) {
          // The fenced script read until it found nothing pending from a predecessor; from then
          // on only this loop adds pending entries, and the cheaper pipelined read is enough.
          const read = recovered ? await stream.readPipelined(token, this.settings.batchSize) : await stream.read(token, this.settings.batchSize);
          if (read.kind !== 'pending-first') recovered = true;
          if (read.kind === 'pending-first') {
            // A previous owner's entries are not yet claimable: wait for them rather than
            // process newer entries first, so a partition stays in order across a crash.
            nextClaimAt = 0;
            await this.pause(Math.min(PENDING_POLL_MS, this.settings.claimIdleMs));
            continue;
          }
          if (read.kind === 'empty') {
            await waitForEntryAfter(this.settings.blocking, stream.streamKey, read.lastId, this.settings.blockMs);
            failures = 0;
            continue;
          }
          entries = read.entries;
        }
        await this.apply(entries);
        failures = 0;
      } catch (error) {
        if (isLeaseLost(error)) {
          logger.warn({ partition }, 'partition lease lost: leaving the partition to its new owner');
          return 'lease-lost';
        }
        if (this.stopping || error instanceof Abandoned) break;
        if (isNoGroup(error)) {
          // The group is gone (Redis lost its data, or someone deleted the stream): start over
          // at 0. Whatever is still in the stream is processed again, which processors absorb.
          logger.warn({ partition }, 'consumer group missing: creating it again at the start of the stream');
          await stream.ensureGroup().catch(() => undefined);
          continue;
        }
        failures += 1;
        // A batch may have been read and not acknowledged: check for pending entries again before
        // reading anything newer.
        recovered = false;
        if (failures === 1 || failures % 20 === 0) logger.warn({ err: error, partition, failures }, 'stream consumption failing: retrying');
        await this.pause(retryDelay(failures));
      }
    }
    return 'stopped';
  }

  /** Decodes, stores poison, processes (retrying faults), then acknowledges the whole batch. */
  private async apply(raw: readonly RawEntry[]): Promise<void> {
    const { partition, stream, token } = this.settings;
    const entries: StreamEntry[] = [];
    const poison: PoisonEntry[] = [];
    for (const [id, fields] of raw) {
      const decoded = decodeValidationEvent(fields);
      if (decoded.ok) entries.push({ id, event: decoded.event });
      else poison.push({ id, fields, error: decoded.error });
    }
    if (poison.length > 0) await this.retrying(() => this.settings.recordPoison(partition, poison));
    if (entries.length > 0) await this.retrying(() => this.settings.processor.process(partition, entries));
    await stream.ack(token, raw.map(([id]) => id));
    if (entries.length > 0) this.settings.observer.onProcessed?.(partition, entries.length);
    if (poison.length > 0) this.settings.observer.onPoison?.(partition, poison.length);
  }

  /** Calls `effect` until it resolves; gives up (leaving the batch pending) only when stopping. */
  private async retrying(effect: () => Promise<void>): Promise<void> {
    for (let failures = 1; ; failures += 1) {
      try {
        await effect();
        return;
      } catch (error) {
        this.settings.observer.onProcessorFailure?.(this.settings.partition);
        if (failures === 1 || failures % 20 === 0) {
          this.settings.logger.error({ err: error, partition: this.settings.partition, failures }, 'event batch processing failed: retrying the batch');
        }
        if (this.stopping) throw new Abandoned('stopping with a batch that failed');
        await this.pause(retryDelay(failures));
        if (this.stopping) throw new Abandoned('stopping with a batch that failed');
      }
    }
  }

  /** Waits `ms`, or less when the loop is asked to stop. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }
}

function retryDelay(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 10));
}
