/**
 * A consumer process for the crash test (run with `node --import tsx`): it applies the first half
 * of the first batch it gets, prints `blocked <count>`, and then hangs in every processor call,
 * with batches delivered and unacknowledged, until the test SIGKILLs it.
 *
 * Environment: REDIS_URL, MONGODB_URL, MONGODB_DB, STREAM_PREFIX, PARTITIONS, BATCH_SIZE, LEASE_MS.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import type { StreamEntry } from '../../../lib/abuse/event-batch-processor.js';
import { StreamConsumer } from '../../../worker/abuse/stream-consumer.js';
import { countEntries } from './counting-processor.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

const mongo = await new MongoClient(env('MONGODB_URL')).connect();
const db = mongo.db(env('MONGODB_DB'));
const connect = () => new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const never = new Promise<void>(() => undefined);
let first = true;

const consumer = new StreamConsumer({
  redis: connect(),
  createBlockingRedis: connect,
  streamPrefix: env('STREAM_PREFIX'),
  partitions: Number(env('PARTITIONS')),
  batchSize: Number(env('BATCH_SIZE')),
  leaseMs: Number(env('LEASE_MS')),
  blockMs: 100,
  logger: pino({ level: 'silent' }),
  processor: {
    async process(partition: number, entries: readonly StreamEntry[]) {
      if (first) {
        first = false;
        const half = entries.slice(0, Math.floor(entries.length / 2));
        await countEntries(db, partition, half);
        process.stdout.write(`blocked ${half.length}\n`);
      }
      await never;
    },
  },
});
await consumer.start();
