/**
 * At-least-once across a crash: a consumer process SIGKILLed in the middle of a batch (half of
 * its effects stored, nothing acknowledged) loses nothing, and the consumer that takes its
 * partitions over re-applies exactly the entries that were left unacknowledged.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { createAbuseStreamModule } from '../../../worker/abuse/abuse-stream-module.js';
import { RedisStreamEventSink } from '../../../server/events/redis-stream-event-sink.js';
import { mongoUrl, redisUrl, uniqueName } from '../../setup/services.js';
import { startTestWorker } from '../../support/worker-fixture.js';
import { countedEvents, countEntries, CountingProcessor, eventually } from './counting-processor.js';
import { connectTestStreams, testEvent } from './test-events.js';

const PARTITIONS = 4;

/** Orders stream entry ids (`<ms>-<seq>`) as Redis does. */
function compareStreamIds(a: string, b: string): number {
  const [msA, seqA] = a.split('-').map(BigInt) as [bigint, bigint];
  const [msB, seqB] = b.split('-').map(BigInt) as [bigint, bigint];
  return msA === msB ? Number(seqA - seqB) : msA < msB ? -1 : 1;
}
const LEASE_MS = 900;

describe('a consumer killed mid-batch', () => {
  it('loses nothing and double-counts nothing once another consumer reclaims its entries', async () => {
    const streamPrefix = uniqueName('events');
    const mongoDb = uniqueName('crash');
    const redis = await connectTestStreams(PARTITIONS, streamPrefix);
    const sink = new RedisStreamEventSink({ redis, partitions: PARTITIONS, streamPrefix, logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 400; i += 1) sink.append(testEvent(i));
    await sink.close();
    expect(sink.stats()).toMatchObject({ appended: 400, dropped: 0 });

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/worker/abuse/crashing-consumer.ts'], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl(),
        MONGODB_URL: mongoUrl(),
        MONGODB_DB: mongoDb,
        STREAM_PREFIX: streamPrefix,
        PARTITIONS: String(PARTITIONS),
        BATCH_SIZE: '40',
        LEASE_MS: String(LEASE_MS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const appliedBeforeCrash = Number(/^blocked (\d+)$/.exec(line)?.[1]);
    expect(appliedBeforeCrash).toBe(20);
    child.kill('SIGKILL');
    await once(child, 'exit');

    // The order in which the survivor applies each partition's entries.
    const order = new Map<number, string[]>();
    const survivor = await startTestWorker({ mongoDb, events: { streamPrefix, partitions: PARTITIONS } }, [
      createAbuseStreamModule({
        createProcessor: (context) =>
          new CountingProcessor(context.db, {
            afterBatch: (partition, entries) => void order.set(partition, [...(order.get(partition) ?? []), ...entries.map(({ id }) => id)]),
          }),
        blockMs: 100,
        // Longer than the lease: the survivor owns the partitions before the entries are claimable.
        claimIdleMs: 2_000,
        leaseMs: LEASE_MS,
      }),
    ]);
    const counted = countedEvents(survivor.context.db);
    await eventually('all 400 events are counted', async () => (await counted.countDocuments()) === 400);
    await eventually('nothing is left pending', async () => {
      const pending = await Promise.all(allStreamKeys(PARTITIONS, streamPrefix).map((key) => redis.xpending(key, 'keyward-abuse')));
      return pending.every((summary) => (summary as [number])[0] === 0);
    });

    // Only the half batch the crashed consumer had stored was applied twice; its idempotent
    // upserts absorbed it. Everything else was applied exactly once.
    expect(await counted.countDocuments({ deliveries: 2 })).toBe(appliedBeforeCrash);
    expect(await counted.countDocuments({ deliveries: 1 })).toBe(400 - appliedBeforeCrash);
    // The entries the crashed consumer left pending came first: every partition stayed in order.
    for (const ids of order.values()) expect(ids).toEqual([...ids].sort(compareStreamIds));
  });

  it('is also what a worker stopped with a batch stuck in its processor leaves: the batch goes to the next owner', async () => {
    const streamPrefix = uniqueName('events');
    const mongoDb = uniqueName('stuck');
    const events = { streamPrefix, partitions: PARTITIONS };
    const redis = await connectTestStreams(PARTITIONS, streamPrefix);
    const sink = new RedisStreamEventSink({ redis, partitions: PARTITIONS, streamPrefix, logger: pino({ level: 'silent' }) });
    for (let i = 0; i < 200; i += 1) sink.append(testEvent(i));
    await sink.close();

    let stuck: (applied: number) => void = () => undefined;
    const stuckAfter = new Promise<number>((resolve) => (stuck = resolve));
    let first = true;
    const stuckWorker = await startTestWorker({ mongoDb, events }, [
      createAbuseStreamModule({
        createProcessor: (context) => ({
          async process(partition, entries) {
            if (first) {
              first = false;
              const half = entries.slice(0, Math.floor(entries.length / 2));
              await countEntries(context.db, partition, half);
              stuck(half.length);
            }
            await new Promise<never>(() => undefined);
          },
        }),
        batchSize: 30,
        blockMs: 100,
        leaseMs: LEASE_MS,
        stopTimeoutMs: 100,
      }),
    ], { dropDatabase: false });
    const appliedBeforeStop = await stuckAfter;
    await stuckWorker.stop();

    const next = await startTestWorker({ mongoDb, events }, [
      createAbuseStreamModule({ createProcessor: (context) => new CountingProcessor(context.db), blockMs: 100, claimIdleMs: 300, leaseMs: LEASE_MS }),
    ]);
    const counted = countedEvents(next.context.db);
    await eventually('all 200 events are counted', async () => (await counted.countDocuments()) === 200);
    expect(appliedBeforeStop).toBe(15);
    expect(await counted.countDocuments({ deliveries: 2 })).toBe(appliedBeforeStop);
    expect(await counted.countDocuments({ deliveries: 1 })).toBe(200 - appliedBeforeStop);
  });
});
