/**
 * Redis restarted in the middle of a stream, with append-only persistence fsynced on every
 * write: no entry is lost, and the workers reconnect and resume on their own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import { startRedisServer, type RedisServer } from '../../../embedded/redis-server.js';
import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { createAbuseStreamModule } from '../../../worker/abuse/abuse-stream-module.js';
import { RedisStreamEventSink } from '../../../server/events/redis-stream-event-sink.js';
import { uniqueName } from '../../setup/services.js';
import { startTestWorker } from '../../support/worker-fixture.js';
import { countedEvents, CountingProcessor, eventually } from './counting-processor.js';
import { testEvent } from './test-events.js';

const PARTITIONS = 4;

describe('Redis restarted mid-stream (appendonly, appendfsync always)', () => {
  it('loses no entry, and the workers resume on their own', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keyward-restart-'));
    let redisServer: RedisServer = await startRedisServer({ persistence: 'aof', appendFsync: 'always', dataDir });
    const port = redisServer.port;
    onTestFinished(async () => {
      await redisServer.stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    });
    const streamPrefix = uniqueName('events');
    const sinkRedis = new Redis(redisServer.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    sinkRedis.on('error', () => undefined);
    onTestFinished(() => sinkRedis.disconnect());
    const sink = new RedisStreamEventSink({ redis: sinkRedis, partitions: PARTITIONS, streamPrefix, flushIntervalMs: 5, logger: pino({ level: 'silent' }) });
    onTestFinished(() => sink.close(100));

    const workers = await Promise.all(
      ['a', 'b'].map(async (name, index) =>
        startTestWorker(
          { redisUrl: redisServer.url, mongoDb: `${streamPrefix}_db`, events: { streamPrefix, partitions: PARTITIONS } },
          [createAbuseStreamModule({ createProcessor: (context) => new CountingProcessor(context.db), batchSize: 25, blockMs: 100, claimIdleMs: 500, leaseMs: 900, consumerName: name })],
          { dropDatabase: index === 1 },
        ),
      ),
    );
    const counted = countedEvents(workers[0]!.context.db);

    for (let i = 0; i < 500; i += 1) sink.append(testEvent(i));
    await sink.flush();
    await eventually('some of the first events are counted', async () => (await counted.countDocuments()) > 0);

    await redisServer.stop();
    for (let i = 500; i < 1_000; i += 1) sink.append(testEvent(i));
    redisServer = await startRedisServer({ port, persistence: 'aof', appendFsync: 'always', dataDir });
    await eventually('the sink delivered what it buffered during the restart', () => sink.stats().buffered === 0);
    for (let i = 1_000; i < 1_500; i += 1) sink.append(testEvent(i));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ appended: 1_500, dropped: 0 });

    await eventually('all 1,500 events are counted', async () => (await counted.countDocuments()) === 1_500, 60_000);
    const admin = new Redis(redisServer.url);
    onTestFinished(() => admin.quit().then(() => undefined));
    await eventually('nothing is left pending', async () => {
      const pending = await Promise.all(allStreamKeys(PARTITIONS, streamPrefix).map((key) => admin.xpending(key, 'keyward-abuse')));
      return pending.every((summary) => (summary as [number])[0] === 0);
    });
    // The streams survived the restart whole: every appended entry is still there.
    const lengths = await Promise.all(allStreamKeys(PARTITIONS, streamPrefix).map((key) => admin.xlen(key)));
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(1_500);
  });
});
