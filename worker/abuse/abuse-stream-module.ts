/**
 * The abuse detector's stream consumption as a worker module: consumes the validation event
 * streams the server appends to (config.events) in a consumer group, and hands each partition's
 * batches to the processor that the composition root plugs in (the detection rules).
 */
import type { Registry } from 'prom-client';

import type { EventBatchProcessor } from '../../lib/abuse/event-batch-processor.js';
import { streamKeyFor } from '../../lib/events/stream-partition.js';
import { createAbuseStreamMetrics } from '../metrics/abuse-stream-metrics.js';
import type { WorkerContext, WorkerModule } from '../worker-module.js';
import type { StreamConsumerObserver } from './partition-consumer.js';
import { mongoPoisonRecorder } from './poison-entry-store.js';
import { DEFAULT_CONSUMER_GROUP, StreamConsumer } from './stream-consumer.js';

/** Options for {@link createAbuseStreamModule}; each setting defaults to `config.abuseStream`, then to the consumer's default. */
export interface AbuseStreamModuleOptions {
  /** Builds the processor once the worker's clients exist. Required. */
  readonly createProcessor: (context: WorkerContext) => EventBatchProcessor | Promise<EventBatchProcessor>;
  /** Registry to record the consumer metrics in (served by the metrics module). Default: none. */
  readonly registry?: Registry;
  /** Consumer group. Default: `keyward-abuse`. */
  readonly group?: string;
  /** Entries per processor call. Default: 500. */
  readonly batchSize?: number;
  /** Wait for new entries, in ms. Default: 1,000. */
  readonly blockMs?: number;
  /** Idle time before reclaiming a crashed consumer's entries, in ms. Default: 30,000. */
  readonly claimIdleMs?: number;
  /** Partition lease lifetime, in ms. Default: 15,000. */
  readonly leaseMs?: number;
  /** Bound on waiting for batches in hand at stop, in ms. Default: 10,000. */
  readonly stopTimeoutMs?: number;
  /** Consumer name (unique per process). Default: `<host>-<pid>-<random>`. */
  readonly consumerName?: string;
}

/** The running module, with what tests and operators may look at. */
export interface RunningAbuseStream {
  /** The partitions this process consumes right now. */
  ownedPartitions(): number[];
  /** This process's consumer name. */
  readonly consumerName: string;
  stop(): Promise<void>;
}

/**
 * The abuse stream module. Undecodable entries are recorded in `abuse_stream_poison` and
 * acknowledged; everything else goes to the processor, in order per partition.
 */
export function createAbuseStreamModule(options: AbuseStreamModuleOptions): WorkerModule & { readonly running: () => RunningAbuseStream | undefined } {
  let running: RunningAbuseStream | undefined;
  return {
    name: 'abuse-stream',
    running: () => running,
    async start(context) {
      const { streamPrefix, partitions } = context.config.events;
      const settings = context.config.abuseStream;
      const group = options.group ?? settings?.group ?? DEFAULT_CONSUMER_GROUP;
      const redis = context.createRedis('abuse-stream');
      const processor = await options.createProcessor(context);
      const observer: StreamConsumerObserver = options.registry
        ? createAbuseStreamMetrics({
            registry: options.registry,
            redis,
            streamPrefix,
            partitions,
            group,
            // Called on scrapes only, once the consumer exists.
            ownedPartitions: (): number[] => consumer.ownedPartitions(),
          })
        : {};
      const consumer: StreamConsumer = new StreamConsumer({
        redis,
        createBlockingRedis: () => context.createRedis('abuse-stream-wait'),
        processor,
        streamPrefix,
        partitions,
        group,
        logger: context.logger.child({ module: 'abuse-stream' }),
        recordPoison: mongoPoisonRecorder(context.db, (partition) => streamKeyFor(partition, streamPrefix)),
        observer,
        ...defined({
          batchSize: options.batchSize ?? settings?.batchSize,
          blockMs: options.blockMs ?? settings?.blockMs,
          claimIdleMs: options.claimIdleMs ?? settings?.claimIdleMs,
          leaseMs: options.leaseMs ?? settings?.leaseMs,
          stopTimeoutMs: options.stopTimeoutMs,
          consumerName: options.consumerName,
        }),
      });
      await consumer.start();
      running = {
        consumerName: consumer.consumerName,
        ownedPartitions: () => consumer.ownedPartitions(),
        stop: () => consumer.stop(),
      };
      return { stop: () => consumer.stop() };
    },
  };
}

/** The object without its undefined properties (for exactOptionalPropertyTypes). */
function defined<T extends object>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
