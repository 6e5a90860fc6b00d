/**
 * Several worker processes (here: two workers in one test process, each with its own
 * connections) share the partitions: each gets its share, no partition is ever processed by two
 * at once, and a partition handed over on scale-out is not processed twice.
 */
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { StreamEntry } from '../../../lib/abuse/event-batch-processor.js';
import { createAbuseStreamModule } from '../../../worker/abuse/abuse-stream-module.js';
import { RedisStreamEventSink } from '../../../server/events/redis-stream-event-sink.js';
import type { WorkerContext } from '../../../worker/worker-module.js';
import { uniqueName } from '../../setup/services.js';
import { startTestWorker } from '../../support/worker-fixture.js';
import { countedEvents, CountingProcessor, eventually } from './counting-processor.js';
import { connectTestStreams, testEvent } from './test-events.js';

const PARTITIONS = 6;

describe('two workers on one consumer group', () => {
  it('split the partitions between them and never process one partition at the same time', async () => {
    const streamPrefix = uniqueName('events');
    const mongoDb = uniqueName('shared');
    const events = { streamPrefix, partitions: PARTITIONS };
    const redis = await connectTestStreams(PARTITIONS, streamPrefix);
    const sink = new RedisStreamEventSink({ redis, partitions: PARTITIONS, streamPrefix, batchSize: 50, logger: pino({ level: 'silent' }) });
    onTestFinished(() => sink.close(100));

    // Who is inside process() for each partition right now, and every time two were.
    const inside = new Map<number, string>();
    const overlaps: string[] = [];
    const processedBy = new Map<string, number>();
    const processorFor = (name: string) => (context: WorkerContext) =>
      new CountingProcessor(context.db, {
        async beforeBatch(partition: number, entries: readonly StreamEntry[]) {
          const other = inside.get(partition);
          if (other !== undefined) overlaps.push(`${name} entered partition ${partition} while ${other} was in it`);
          inside.set(partition, name);
          processedBy.set(name, (processedBy.get(name) ?? 0) + entries.length);
          // Yield so that an overlapping call, if the leases allowed one, would interleave here.
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
        afterBatch(partition: number) {
          inside.delete(partition);
        },
      });
    // Leases long enough that a stall of a busy 2-core machine (GC, a neighbour's compile) does
    // not let one expire mid-batch: what is tested is the hand-over, not losing a lease.
    const moduleFor = (name: string) =>
      createAbuseStreamModule({ createProcessor: processorFor(name), batchSize: 20, blockMs: 100, claimIdleMs: 1_000, leaseMs: 3_000, consumerName: name });

    const first = moduleFor('worker-a');
    const a = await startTestWorker({ mongoDb, events }, [first], { dropDatabase: false });
    for (let i = 0; i < 600; i += 1) sink.append(testEvent(i));
    await sink.flush();
    await eventually('worker-a owns every partition', () => first.running()?.ownedPartitions().length === PARTITIONS);

    const second = moduleFor('worker-b');
    const b = await startTestWorker({ mongoDb, events }, [second]);
    for (let i = 600; i < 1_200; i += 1) sink.append(testEvent(i));
    await sink.flush();
    await eventually('the partitions are split three and three', () => {
      const ownedA = first.running()?.ownedPartitions() ?? [];
      const ownedB = second.running()?.ownedPartitions() ?? [];
      return ownedA.length === 3 && ownedB.length === 3 && new Set([...ownedA, ...ownedB]).size === PARTITIONS;
    });
    for (let i = 1_200; i < 1_800; i += 1) sink.append(testEvent(i));
    await sink.flush();

    const counted = countedEvents(b.context.db);
    await eventually('all 1,800 events are counted', async () => (await counted.countDocuments()) === 1_800);
    expect(overlaps).toEqual([]);
    expect(processedBy.get('worker-b')).toBeGreaterThan(0);
    // Hand-over after the batch in hand, acknowledged: no entry was delivered twice.
    expect(await counted.countDocuments({ deliveries: { $ne: 1 } })).toBe(0);
    await a.stop();
  });
});
