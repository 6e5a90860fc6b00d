import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import { findFreePort } from '../../../embedded/find-free-port.js';
import { startRedisServer, type RedisServer } from '../../../embedded/redis-server.js';
import { ConfigurationError } from '../../../lib/errors/keyward-error.js';
import { allStreamKeys, partitionOf, streamKeyFor } from '../../../lib/events/stream-partition.js';
import { decodeValidationEvent, routingKeyOf, type ValidationEvent } from '../../../lib/events/validation-event.js';
import { RedisStreamEventSink, type RedisStreamEventSinkOptions } from '../../../server/events/redis-stream-event-sink.js';
import { redisUrl, uniqueName } from '../../setup/services.js';

const silent = pino({ level: 'silent' });

/**
 * The connection the sink is meant to get: fails fast while Redis is down. Reconnects every 20 ms
 * so that a restarted server is picked up quickly. Closed when the test finishes.
 */
async function sinkConnection(url: string, options: { connect: boolean } = { connect: true }): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 20, lazyConnect: true });
  // Connection errors are expected in these tests; the sink reports them through its counters.
  redis.on('error', () => undefined);
  onTestFinished(() => redis.disconnect());
  if (options.connect) await redis.connect();
  else redis.connect().catch(() => undefined);
  return redis;
}

/** A plain connection to the shared Redis, for reading streams back; closed when the test finishes. */
function reader(url = redisUrl()): Redis {
  const redis = new Redis(url);
  redis.on('error', () => undefined);
  onTestFinished(() => redis.disconnect());
  return redis;
}

/** A sink closed (briefly) when the test finishes, with its streams deleted from the shared Redis. */
function sinkFor(options: RedisStreamEventSinkOptions & { partitions: number; streamPrefix: string }): RedisStreamEventSink {
  const sink = new RedisStreamEventSink({ logger: silent, ...options });
  onTestFinished(async () => {
    await sink.close(100);
    // Best effort: a test's own Redis may be stopping at this very moment (its hook runs beside
    // this one), and a fail-fast connection then refuses the command ("Stream isn't writeable");
    // its data goes with it. On the shared Redis the names are unique to this test anyway.
    if (options.redis.status === 'ready') await options.redis.del(...allStreamKeys(options.partitions, options.streamPrefix)).catch(() => undefined);
  });
  return sink;
}

/** A redis-server of the test's own, which it may stop and restart; stopped when the test finishes. */
async function ownRedis(): Promise<{ server: RedisServer; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keyward-sink-'));
  const server = await startRedisServer({ persistence: 'aof', dataDir });
  onTestFinished(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  return { server, dataDir };
}

/** The i-th test event; `fingerprint` carries `i`, so every event can be told apart when read back. */
function eventAt(i: number): ValidationEvent {
  const kind = i % 10;
  const keyDigest = kind === 0 ? null : i.toString(16).padStart(64, '0');
  return {
    at: Date.parse('2026-03-01T12:00:00.000Z') + i,
    licenseId: kind <= 1 ? null : `lic_${i % 37}`,
    keyDigest,
    ip: `198.51.100.${i % 250}`,
    origin: kind === 3 ? 'https://app.example.com' : null,
    referer: null,
    domain: kind === 3 ? 'app.example.com' : null,
    fingerprint: `fp-${i}`,
    product: 'toolbox',
    userAgent: 'Toolbox/2.1',
    code: kind === 0 ? 'MALFORMED_KEY' : kind === 1 ? 'NOT_FOUND' : 'VALID',
  };
}

/** Every entry of every partition stream, decoded, by partition. */
async function readAll(redis: Redis, partitions: number, prefix: string): Promise<ValidationEvent[][]> {
  return Promise.all(
    allStreamKeys(partitions, prefix).map(async (stream) => {
      const entries = await redis.xrange(stream, '-', '+');
      return entries.map(([id, fields]) => {
        const decoded = decodeValidationEvent(fields);
        if (!decoded.ok) throw new Error(`entry ${id} of ${stream}: ${decoded.error}`);
        return decoded.event;
      });
    }),
  );
}

/** The event as the validation service made it, before the sink gave it an id. */
function withoutEid({ eid: _eid, ...event }: ValidationEvent): ValidationEvent {
  return event;
}

async function untilReady(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await once(redis, 'ready');
}

describe('RedisStreamEventSink: delivery', () => {
  it('appends each event to the stream of its partition, with every field, in order', async () => {
    const partitions = 4;
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions, streamPrefix });
    const events = Array.from({ length: 500 }, (_, i) => eventAt(i));

    events.forEach((event) => sink.append(event));
    await sink.flush();

    const stored = await readAll(reader(), partitions, streamPrefix);
    stored.forEach((streamEvents, partition) => {
      expect(streamEvents.map(withoutEid)).toEqual(events.filter((event) => partitionOf(routingKeyOf(event), partitions) === partition));
    });
    // Every event got its own id before delivery, so consumers can drop duplicates of a retried batch.
    const eids = stored.flat().map((event) => event.eid);
    expect(new Set(eids).size).toBe(500);
    expect(eids.every((eid) => eid !== undefined && /^[A-Za-z0-9_-]{16}$/.test(eid))).toBe(true);
    expect(stored.every((streamEvents) => streamEvents.length > 50)).toBe(true);
    expect(sink.stats()).toEqual({ buffered: 0, appended: 500, dropped: 0, failedFlushes: 0 });
  });

  it('keeps fields with newlines, quotes and any script intact', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions: 1, streamPrefix });
    const odd: ValidationEvent = {
      ...eventAt(5),
      userAgent: 'Line one\nLine two\r\n\t"quoted" \\ back',
      referer: 'https://例え.jp/パス?q=🔑',
      fingerprint: 'fp-\u0000-\u2028-end',
    };

    sink.append(eventAt(4));
    sink.append(odd);
    sink.append(eventAt(6));
    await sink.flush();

    expect((await readAll(reader(), 1, streamPrefix))[0]?.map(withoutEid)).toEqual([eventAt(4), odd, eventAt(6)]);
  });

  it('drains a backlog of many batches from every partition, each in order', async () => {
    const partitions = 8;
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions, streamPrefix, batchSize: 300, flushIntervalMs: 60_000 });
    const events = Array.from({ length: 5_000 }, (_, i) => eventAt(i));

    events.forEach((event) => sink.append(event));
    expect(sink.stats().buffered).toBe(5_000);
    await sink.flush();

    const stored = await readAll(reader(), partitions, streamPrefix);
    stored.forEach((streamEvents, partition) => {
      expect(streamEvents.map(withoutEid)).toEqual(events.filter((event) => partitionOf(routingKeyOf(event), partitions) === partition));
    });
    expect(sink.stats()).toEqual({ buffered: 0, appended: 5_000, dropped: 0, failedFlushes: 0 });
  });

  it('loads its script again when Redis has lost it (SCRIPT FLUSH, a restart, a fail-over)', async () => {
    // A server of the test's own: flushing the shared one's scripts would disturb other tests.
    const { server } = await ownRedis();
    onTestFinished(() => server.stop());
    const admin = reader(server.url);
    const partitions = 4;
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(server.url);
    const sink = sinkFor({ redis, partitions, streamPrefix, flushIntervalMs: 60_000 });
    const events = Array.from({ length: 200 }, (_, i) => eventAt(i));

    events.slice(0, 100).forEach((event) => sink.append(event));
    await sink.flush();
    await admin.script('FLUSH');
    events.slice(100).forEach((event) => sink.append(event));
    await sink.flush();

    const stored = await readAll(admin, partitions, streamPrefix);
    stored.forEach((streamEvents, partition) => {
      expect(streamEvents.map(withoutEid)).toEqual(events.filter((event) => partitionOf(routingKeyOf(event), partitions) === partition));
    });
    expect(sink.stats()).toEqual({ buffered: 0, appended: 200, dropped: 0, failedFlushes: 0 });
  });

  it('delivers on its own timer, without flush()', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions: 1, streamPrefix, flushIntervalMs: 5 });
    const read = reader();

    sink.append(eventAt(2));
    const [entry] = await read.xread('BLOCK', 5_000, 'STREAMS', streamKeyFor(0, streamPrefix), '0') ?? [];

    expect(entry?.[1].map(([, fields]) => decodeValidationEvent(fields))).toEqual([{ ok: true, event: { ...eventAt(2), eid: expect.any(String) } }]);
    await sink.flush(); // waits for the timer's pipeline, whose reply may still be on its way
    expect(sink.stats()).toEqual({ buffered: 0, appended: 1, dropped: 0, failedFlushes: 0 });
  });

  it('sends a steady trickle in batches, one pipeline per flush interval, not one per event', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    let pipelines = 0;
    const pipeline = redis.pipeline.bind(redis);
    redis.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
      pipelines += 1;
      return pipeline(...args);
    }) as Redis['pipeline'];
    const flushIntervalMs = 40;
    const sink = sinkFor({ redis, partitions: 4, streamPrefix, flushIntervalMs });

    // For 300 ms, an event every turn of the event loop: denser than Redis's round trip, so while
    // one batch is on its way more events arrive, and they must wait for the timer instead of
    // going out at once in a pipeline of their own.
    const started = Date.now();
    let count = 0;
    while (Date.now() - started < 300) {
      sink.append(eventAt(count));
      count += 1;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const elapsed = Date.now() - started;
    await sink.flush();

    expect(sink.stats()).toMatchObject({ buffered: 0, appended: count });
    // At most one pipeline per tick of the timer, plus one per full batch (1,000 events).
    expect(pipelines).toBeLessThanOrEqual(Math.ceil(elapsed / flushIntervalMs) + Math.ceil(count / 1_000) + 2);
    expect((await readAll(reader(), 4, streamPrefix)).flat()).toHaveLength(count);
  });

  it('trims each stream to about maxStreamLength', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions: 1, streamPrefix, maxStreamLength: 100, batchSize: 50 });

    for (let i = 0; i < 3_000; i += 1) sink.append(eventAt(i));
    await sink.flush();

    // MAXLEN ~ trims whole stream nodes (100 entries each by default), so "about" means "up to a node more".
    const length = await reader().xlen(streamKeyFor(0, streamPrefix));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(200);
    expect(sink.stats().appended).toBe(3_000);
  });

  it('close() delivers what is buffered, then drops what comes later', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    // A timer that never fires within the test: only close() can deliver.
    const sink = sinkFor({ redis, partitions: 2, streamPrefix, flushIntervalMs: 60_000 });

    for (let i = 0; i < 50; i += 1) sink.append(eventAt(i));
    await sink.close();
    sink.append(eventAt(50));

    const stored = await readAll(reader(), 2, streamPrefix);
    expect(stored.flat()).toHaveLength(50);
    expect(sink.stats()).toEqual({ buffered: 0, appended: 50, dropped: 1, failedFlushes: 0 });
  });
});

describe('RedisStreamEventSink: Redis unavailable', () => {
  it('keeps maxBuffered events and counts the newer ones dropped while Redis is unreachable', async () => {
    const redis = await sinkConnection(`redis://127.0.0.1:${await findFreePort()}`, { connect: false });
    const sink = sinkFor({ redis, partitions: 4, streamPrefix: uniqueName('events'), maxBuffered: 100 });

    for (let i = 0; i < 130; i += 1) sink.append(eventAt(i));
    await sink.flush();

    expect(sink.stats()).toMatchObject({ buffered: 100, appended: 0, dropped: 30 });
    expect(sink.stats().failedFlushes).toBeGreaterThan(0);
    const started = performance.now();
    await sink.close(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(sink.stats()).toMatchObject({ buffered: 100, appended: 0, dropped: 30 });
  });

  it('never waits on a stopped Redis, and delivers every buffered event once it is back', async () => {
    const { server, dataDir } = await ownRedis();
    const streamPrefix = uniqueName('events');
    const partitions = 4;
    const redis = await sinkConnection(server.url);
    const sink = sinkFor({ redis, partitions, streamPrefix, flushIntervalMs: 5 });
    for (let i = 0; i < 100; i += 1) sink.append(eventAt(i));
    await sink.flush();
    expect(sink.stats().appended).toBe(100);

    await server.stop();
    const answers: unknown[] = [];
    for (let i = 100; i < 10_100; i += 1) answers.push(sink.append(eventAt(i)));
    // Nothing could run between these appends (no await), so all 10 000 are still buffered:
    // append() returned each time without waiting for anything.
    expect(sink.stats().buffered).toBe(10_000);
    expect(answers.every((answer) => answer === undefined)).toBe(true);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ buffered: 10_000, appended: 100, dropped: 0 });
    expect(sink.stats().failedFlushes).toBeGreaterThan(0);

    const restarted = await startRedisServer({ port: server.port, persistence: 'aof', dataDir });
    onTestFinished(() => restarted.stop());
    await untilReady(redis);
    await sink.flush();

    expect(sink.stats()).toMatchObject({ buffered: 0, appended: 10_100, dropped: 0 });
    const stored = (await readAll(reader(restarted.url), partitions, streamPrefix)).flat();
    expect(stored).toHaveLength(10_100);
    expect(new Set(stored.map((event) => event.fingerprint)).size).toBe(10_100);
  });

  it('retries events that Redis turned away for a passing reason (OOM)', async () => {
    const { server } = await ownRedis();
    onTestFinished(() => server.stop());
    const admin = reader(server.url);
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(server.url);
    const sink = sinkFor({ redis, partitions: 2, streamPrefix, flushIntervalMs: 60_000 });

    await admin.config('SET', 'maxmemory', '1');
    for (let i = 0; i < 20; i += 1) sink.append(eventAt(i));
    await sink.flush();
    expect(sink.stats()).toEqual({ buffered: 20, appended: 0, dropped: 0, failedFlushes: 1 });

    await admin.config('SET', 'maxmemory', '0');
    await sink.flush();
    expect(sink.stats()).toEqual({ buffered: 0, appended: 20, dropped: 0, failedFlushes: 1 });
    expect((await readAll(admin, 2, streamPrefix)).flat().map((event) => event.fingerprint)).toHaveLength(20);
  });

  it('drops events Redis refuses for good (WRONGTYPE) and delivers the rest of the batch', async () => {
    const streamPrefix = uniqueName('events');
    const redis = await sinkConnection(redisUrl());
    const sink = sinkFor({ redis, partitions: 2, streamPrefix });
    const events = Array.from({ length: 40 }, (_, i) => eventAt(i));
    const blocked = events.filter((event) => partitionOf(routingKeyOf(event), 2) === 0);
    await redis.set(streamKeyFor(0, streamPrefix), 'not a stream');

    events.forEach((event) => sink.append(event));
    await sink.flush();

    expect(blocked.length).toBeGreaterThan(0);
    expect(sink.stats()).toEqual({ buffered: 0, appended: 40 - blocked.length, dropped: blocked.length, failedFlushes: 0 });
    expect(await redis.xlen(streamKeyFor(1, streamPrefix))).toBe(40 - blocked.length);
  });
});

describe('RedisStreamEventSink: options', () => {
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });

  it.each([
    ['partitions', { partitions: 0 }],
    ['partitions', { partitions: 1.5 }],
    ['streamPrefix', { streamPrefix: 'a{b}' }],
    ['streamPrefix', { streamPrefix: '' }],
    ['maxBuffered', { maxBuffered: 0 }],
    ['batchSize', { batchSize: -1 }],
    ['flushIntervalMs', { flushIntervalMs: 0 }],
    ['flushIntervalMs', { flushIntervalMs: Number.NaN }],
    ['maxStreamLength', { maxStreamLength: 0 }],
  ])('names %s when it is invalid', (field, bad) => {
    expect(() => new RedisStreamEventSink({ redis, ...bad })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', context: { field } }),
    );
  });

  it('names redis when it is not a client', () => {
    expect(() => new RedisStreamEventSink({ redis: {} as Redis })).toThrow(ConfigurationError);
  });
});
