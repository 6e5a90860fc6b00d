/**
 * Metrics of the abuse stream consumers: throughput counters fed by the partition loops, and the
 * per-partition lag read from Redis on every scrape (so a partition with no live consumer is
 * reported too; every worker reports every partition; aggregate with `max by (partition)`).
 */
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';

import { allStreamKeys } from '../../lib/events/stream-partition.js';
import type { StreamConsumerObserver } from '../abuse/partition-consumer.js';
import { readStreamLag, type StreamLag } from '../abuse/stream-lag.js';

/** Options for {@link createAbuseStreamMetrics}. */
export interface AbuseStreamMetricsOptions {
  readonly registry: Registry;
  /** Command connection for the lag reads. */
  readonly redis: Redis;
  readonly streamPrefix: string;
  readonly partitions: number;
  readonly group: string;
  /** The partitions this process owns, read on each scrape. */
  readonly ownedPartitions: () => readonly number[];
  /** Longest a scrape waits for Redis, in ms (the gauges keep their last values). Default: 2,000. */
  readonly lagTimeoutMs?: number;
}

/** Registers the metrics and returns the observer that feeds the counters. */
export function createAbuseStreamMetrics(options: AbuseStreamMetricsOptions): StreamConsumerObserver {
  const registers = [options.registry];
  const labelNames = ['partition'] as const;
  const processed = new Counter({ name: 'keyward_abuse_stream_processed_total', help: 'Stream entries processed and acknowledged.', labelNames, registers });
  const poison = new Counter({ name: 'keyward_abuse_stream_poison_total', help: 'Stream entries that were not validation events (recorded and acknowledged).', labelNames, registers });
  const failures = new Counter({ name: 'keyward_abuse_stream_processor_failures_total', help: 'Processor calls that rejected (the batch is retried).', labelNames, registers });
  const reclaimed = new Counter({ name: 'keyward_abuse_stream_reclaimed_total', help: 'Entries reclaimed from a consumer that left them pending.', labelNames, registers });
  const trimmed = new Counter({ name: 'keyward_abuse_stream_trimmed_unprocessed_total', help: 'Pending entries trimmed from the stream before processing (lost).', labelNames, registers });
  const keys = allStreamKeys(options.partitions, options.streamPrefix);
  const timeoutMs = options.lagTimeoutMs ?? 2_000;

  const readAll = async (): Promise<StreamLag[] | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    try {
      return await Promise.race([Promise.all(keys.map((key) => readStreamLag(options.redis, key, options.group))), timeout]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
  let lastRead: Promise<StreamLag[] | null> | null = null;
  /** One Redis read per scrape, shared by the three gauges. */
  const readOnce = (): Promise<StreamLag[] | null> => {
    lastRead ??= readAll().finally(() => setImmediate(() => (lastRead = null)));
    return lastRead;
  };

  new Gauge({
    name: 'keyward_abuse_stream_lag_seconds',
    help: 'Age of the oldest unprocessed entry (pending or undelivered) per partition; 0 when caught up.',
    labelNames,
    registers,
    async collect() {
      const lags = await readOnce();
      lags?.forEach((lag, partition) => this.set({ partition: String(partition) }, lag.oldestAgeMs / 1000));
    },
  });
  new Gauge({
    name: 'keyward_abuse_stream_backlog_entries',
    help: 'Entries not yet processed per partition: pending plus undelivered.',
    labelNames,
    registers,
    async collect() {
      const lags = await readOnce();
      lags?.forEach((lag, partition) => this.set({ partition: String(partition) }, lag.pending + (lag.undelivered ?? 0)));
    },
  });
  new Gauge({
    name: 'keyward_abuse_stream_owned_partitions',
    help: 'Partitions this worker process consumes.',
    registers,
    collect() {
      this.set(options.ownedPartitions().length);
    },
  });

  const by = (partition: number) => ({ partition: String(partition) });
  return {
    onProcessed: (partition, entries) => processed.inc(by(partition), entries),
    onPoison: (partition, entries) => poison.inc(by(partition), entries),
    onProcessorFailure: (partition) => failures.inc(by(partition)),
    onReclaimed: (partition, entries) => reclaimed.inc(by(partition), entries),
    onTrimmed: (partition, entries) => trimmed.inc(by(partition), entries),
  };
}
