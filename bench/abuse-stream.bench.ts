/**
 * Abuse stream consumption (issue 5): how many validation events per second one worker process
 * consumes (StreamConsumer: leases, fenced reads and acknowledgements, decoding), beside a raw
 * XREADGROUP + XACK loop over the same streams in the same session; and the detection lag (from
 * the validation handing its event to the sink to the processor having applied it) at a steady
 * append rate. Runs on an embedded `redis-server` without persistence.
 *
 * Alone: `node --import tsx bench/abuse-stream.bench.ts` (BENCH_EVENTS, BENCH_LAG_RATE,
 * BENCH_LAG_SECONDS). The rules processor is measured the same way through
 * `benchAbuseStream({ createProcessor: ({ redisUrl }) => … })`.
 */
import { once } from 'node:events';

import { Redis } from 'ioredis';
import { pino } from 'pino';

import { startRedisServer } from '../embedded/redis-server.js';
import type { EventBatchProcessor, StreamEntry } from '../lib/abuse/event-batch-processor.js';
import { newEventId } from '../lib/events/new-event-id.js';
import { allStreamKeys, partitionOf } from '../lib/events/stream-partition.js';
import { encodeValidationEvent, routingKeyOf, type ValidationEvent } from '../lib/events/validation-event.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { RedisStreamEventSink } from '../server/events/redis-stream-event-sink.js';
import { StreamConsumer } from '../worker/abuse/stream-consumer.js';

/** Partitions of the streams every abuse bench fills. */
export const PARTITIONS = 16;
const silent = pino({ level: 'silent' });
const format = (n: number) => Math.round(n).toLocaleString('en-US');

/** Options for {@link benchAbuseStream}. */
export interface AbuseStreamBenchOptions {
  /** Events consumed in the throughput runs. Default 200,000 (BENCH_EVENTS). */
  readonly events?: number;
  /** Append rate of the lag run, events/s. Default 5,000 (BENCH_LAG_RATE). */
  readonly lagRate?: number;
  /** Duration of the lag run, s. Default 10 (BENCH_LAG_SECONDS). */
  readonly lagSeconds?: number;
  /** Entries per processor call. Default 500. */
  readonly batchSize?: number;
  /**
   * The processor to measure, given the bench's services (it opens what else it needs, e.g. its
   * own MongoDB). Called once per run (throughput, lag), each on fresh streams. Default: a trivial
   * one that does nothing. Its `process` is wrapped to count and to time.
   */
  readonly createProcessor?: (services: { readonly redisUrl: string }) => EventBatchProcessor | Promise<EventBatchProcessor>;
  /** Name of the processor in the table. Default `given` (or `trivial` without createProcessor). */
  readonly processorName?: string;
  /** The `i`th event, stamped `at`. Default: a fixed mix over 5,000 license ids that need not exist. */
  readonly makeEvent?: (i: number, at: number) => ValidationEvent;
}

/** One row of the printed table. */
export interface AbuseStreamBenchRow {
  readonly benchmark: string;
  readonly 'events/s': string;
  /** Events per second of this process's CPU time (user + system): the rate on a free core, whatever the machine's load. */
  readonly 'events/CPU-s': string;
  /** Events per second of redis-server's CPU time: the other bound on one Redis. */
  readonly 'events/Redis-CPU-s': string;
  readonly ratio: string;
  readonly 'lag p50 ms': string;
  readonly 'lag p99 ms': string;
  readonly goal: string;
}

function benchEvent(i: number, at: number): ValidationEvent {
  const kind = i % 10;
  return {
    eid: newEventId(),
    at,
    licenseId: kind <= 1 ? null : `lic_${i % 5_000}`,
    keyDigest: kind === 0 ? null : (i % 65_536).toString(16).padStart(64, '0'),
    ip: `198.51.${i % 200}.${i % 250}`,
    origin: kind === 3 ? 'https://app.example.com' : null,
    referer: null,
    domain: kind === 3 ? 'app.example.com' : null,
    fingerprint: `fp-${i % 10_000}`,
    product: 'toolbox',
    userAgent: 'Toolbox/2.1 (Windows NT 10.0)',
    code: kind === 0 ? 'MALFORMED_KEY' : kind === 1 ? 'NOT_FOUND' : 'VALID',
  };
}

/** Appends `count` events straight to the streams (pipelined XADD), as the sink would route them. */
export async function fill(redis: Redis, prefix: string, count: number, makeEvent: (i: number, at: number) => ValidationEvent): Promise<void> {
  const keys = allStreamKeys(PARTITIONS, prefix);
  for (let start = 0; start < count; start += 5_000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + 5_000); i += 1) {
      const event = makeEvent(i, Date.now());
      pipeline.xadd(keys[partitionOf(routingKeyOf(event), PARTITIONS)] as string, '*', ...encodeValidationEvent(event));
    }
    await pipeline.exec();
  }
}

/** CPU seconds (user + system) of this process since `from`. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

/** redis-server's CPU seconds so far (used_cpu_user + used_cpu_sys of INFO cpu). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** The baseline: per partition, XREADGROUP COUNT batch + XACK until the stream is drained; all partitions concurrently on one connection. */
export async function rawLoop(redis: Redis, prefix: string, batchSize: number): Promise<{ rate: number; perCpuSecond: number; perRedisCpuSecond: number }> {
  const keys = allStreamKeys(PARTITIONS, prefix);
  await Promise.all(keys.map((key) => redis.xgroup('CREATE', key, 'raw', '0', 'MKSTREAM')));
  let consumed = 0;
  const redisCpu = await redisCpuSeconds(redis);
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    keys.map(async (key) => {
      for (;;) {
        const reply = (await redis.xreadgroup('GROUP', 'raw', 'c', 'COUNT', batchSize, 'STREAMS', key, '>')) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) return;
        await redis.xack(key, 'raw', ...entries.map(([id]) => id));
        consumed += entries.length;
      }
    }),
  );
  const rate = consumed / ((performance.now() - started) / 1000);
  const perCpuSecond = consumed / cpuSecondsSince(cpu);
  return { rate, perCpuSecond, perRedisCpuSecond: consumed / ((await redisCpuSeconds(redis)) - redisCpu) };
}

/** Wraps a processor to count entries and record per-entry lag (now - event.at); `done` resolves at `target` entries. */
function instrument(inner: EventBatchProcessor, target: number) {
  let processed = 0;
  const lags: number[] = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const processor: EventBatchProcessor = {
    async process(partition: number, entries: readonly StreamEntry[]) {
      await inner.process(partition, entries);
      const now = Date.now();
      for (const entry of entries) lags.push(now - entry.event.at);
      processed += entries.length;
      if (processed >= target) resolveDone();
    },
  };
  return { processor, done, lags, processed: () => processed };
}

function consumerFor(url: string, prefix: string, processor: EventBatchProcessor, batchSize: number): { consumer: StreamConsumer; close: () => void } {
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis(url, { maxRetriesPerRequest: null });
    clients.push(client);
    return client;
  };
  const consumer = new StreamConsumer({
    redis: connect(),
    createBlockingRedis: connect,
    processor,
    streamPrefix: prefix,
    partitions: PARTITIONS,
    batchSize,
    blockMs: 100,
    logger: silent,
  });
  return { consumer, close: () => clients.forEach((client) => client.disconnect()) };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs the three measurements and returns their table rows. */
export async function benchAbuseStream(options: AbuseStreamBenchOptions = {}): Promise<AbuseStreamBenchRow[]> {
  const events = options.events ?? Number(process.env['BENCH_EVENTS'] ?? 200_000);
  const lagRate = options.lagRate ?? Number(process.env['BENCH_LAG_RATE'] ?? 5_000);
  const lagSeconds = options.lagSeconds ?? Number(process.env['BENCH_LAG_SECONDS'] ?? 10);
  const batchSize = options.batchSize ?? 500;
  const createProcessor = options.createProcessor ?? (() => ({ process: async () => undefined }));
  const makeEvent = options.makeEvent ?? benchEvent;
  const processorName = options.processorName ?? (options.createProcessor ? 'given' : 'trivial');
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  try {
    const prefix = 'bench:events';
    await fill(redis, prefix, events, makeEvent);

    const raw = await rawLoop(redis, prefix, batchSize);

    const measured = instrument(await createProcessor({ redisUrl: server.url }), events);
    const { consumer, close } = consumerFor(server.url, prefix, measured.processor, batchSize);
    const redisCpu = await redisCpuSeconds(redis);
    const started = performance.now();
    const cpu = process.cpuUsage();
    await consumer.start();
    await measured.done;
    const rate = events / ((performance.now() - started) / 1000);
    const perCpuSecond = events / cpuSecondsSince(cpu);
    const perRedisCpuSecond = events / ((await redisCpuSeconds(redis)) - redisCpu);
    await consumer.stop();
    close();

    // Lag: the real sink appends at a steady rate while the consumer keeps up.
    const lagPrefix = 'bench:lag';
    const total = lagRate * lagSeconds;
    const lagged = instrument(await createProcessor({ redisUrl: server.url }), total);
    const lagConsumer = consumerFor(server.url, lagPrefix, lagged.processor, batchSize);
    await lagConsumer.consumer.start();
    const sinkRedis = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await once(sinkRedis, 'ready');
    const sink = new RedisStreamEventSink({ redis: sinkRedis, partitions: PARTITIONS, streamPrefix: lagPrefix, logger: silent });
    const tickMs = 10;
    const perTick = (lagRate * tickMs) / 1000;
    let appended = 0;
    const begin = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        // Catch up with the wall clock, so a late tick does not lower the rate.
        const due = Math.min(total, Math.floor(((performance.now() - begin) / tickMs + 1) * perTick));
        for (; appended < due; appended += 1) sink.append(makeEvent(appended, Date.now()));
        if (appended >= total) {
          clearInterval(timer);
          resolve();
        }
      }, tickMs);
    });
    await sink.close();
    await lagged.done;
    const achieved = total / ((performance.now() - begin) / 1000);
    await lagConsumer.consumer.stop();
    lagConsumer.close();
    sinkRedis.disconnect();
    const sorted = [...lagged.lags].sort((a, b) => a - b);

    return [
      {
        benchmark: 'raw XREADGROUP + XACK loop (baseline)',
        'events/s': format(raw.rate),
        'events/CPU-s': format(raw.perCpuSecond),
        'events/Redis-CPU-s': format(raw.perRedisCpuSecond),
        ratio: '1.00',
        'lag p50 ms': '-',
        'lag p99 ms': '-',
        goal: '-',
      },
      {
        benchmark: `StreamConsumer, ${processorName} processor`,
        'events/s': format(rate),
        'events/CPU-s': format(perCpuSecond),
        'events/Redis-CPU-s': format(perRedisCpuSecond),
        ratio: (rate / raw.rate).toFixed(2),
        'lag p50 ms': '-',
        'lag p99 ms': '-',
        goal: '>= 30,000/s',
      },
      {
        benchmark: `detection lag at ${format(lagRate)}/s for ${lagSeconds} s, ${processorName} processor (sink -> processor done)`,
        'events/s': format(achieved),
        'events/CPU-s': '-',
        'events/Redis-CPU-s': '-',
        ratio: '-',
        'lag p50 ms': format(percentile(sorted, 50)),
        'lag p99 ms': format(percentile(sorted, 99)),
        goal: 'p99 < 2,000 ms',
      },
    ];
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  console.log('Abuse stream consumption (one worker process, embedded redis-server, 16 partitions):');
  console.table(await benchAbuseStream());
}
