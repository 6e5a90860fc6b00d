/**
 * One worker process of the multi-process abuse bench (bench/abuse-workers.bench.ts): the real
 * StreamConsumer with the real AbuseDetector as processor, on the parent's Redis and MongoDB.
 *
 * Protocol, one JSON line each way: the parent writes {@link ChildOptions} on stdin; the child
 * connects, builds the detector, warms its license cache, joins the consumer group's membership
 * (as a worker that was already running when the backlog arrived) and writes `{"ready":true}`;
 * on `go` it starts consuming; on `stop` it stops the consumer and writes
 * `{"processed":n,"cpuSeconds":s,"gcSeconds":g}` (events it processed, its CPU seconds and garbage collection pauses since `go`), then exits.
 *
 * Run only by the parent: `node --import tsx bench/abuse-worker-child.ts`.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import type { EventBatchProcessor, StreamEntry } from '../lib/abuse/event-batch-processor.js';
import { AbuseDetector } from '../lib/service/abuse-detector.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import { ConsumerMembership, membershipKeyFor } from '../worker/abuse/consumer-membership.js';
import { StreamConsumer } from '../worker/abuse/stream-consumer.js';
import { workerEventMaker } from './abuse-worker.bench.js';

/** What the parent tells one child. */
export interface ChildOptions {
  readonly index: number;
  readonly redisUrl: string;
  readonly mongoUrl: string;
  readonly dbName: string;
  readonly streamPrefix: string;
  readonly partitions: number;
  readonly group: string;
  /** The detector's Redis key prefix (windows), shared by the children of one run. */
  readonly keyPrefix: string;
  readonly licenseIds: readonly string[];
  /** The secrets the parent's Keyward used to issue the licenses. */
  readonly secrets: { readonly digest: string; readonly encryption: string };
  readonly leaseMs: number;
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextLine(): Promise<string> {
  const line = await lines.next();
  if (line.done === true) throw new Error('parent closed stdin');
  return line.value;
}
const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

const options = JSON.parse(await nextLine()) as ChildOptions;
const client = await new MongoClient(options.mongoUrl).connect();
const db = client.db(options.dbName);
const keyward = await createKeyward({ db, plans: readPlanCatalogue(DEFAULT_PLANS_FILE), secrets: options.secrets });
const clients: Redis[] = [];
const connect = () => {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  clients.push(redis);
  return redis;
};
const commands = connect();
const detector = new AbuseDetector({ db, redis: commands, licenses: keyward.licenses, plans: keyward.plans, keyPrefix: options.keyPrefix });
await detector.ensureIndexes();
// Warm-up as a running worker is: every license's facts cached, JIT warm; on partitions the
// measured streams do not use, distinct per child (each partition has its own checkpoint).
const makeEvent = workerEventMaker(options.licenseIds);
const warmUp: StreamEntry[] = options.licenseIds.map((_, i) => ({ id: `1-${i}`, event: makeEvent(i, Date.now() - 7_200_000) }));
for (let start = 0; start < warmUp.length; start += 500) await detector.process(1_000 + options.index * 100 + start / 500, warmUp.slice(start, start + 500));

let processed = 0;
const counting: EventBatchProcessor = {
  async process(partition, entries) {
    await detector.process(partition, entries);
    processed += entries.length;
  },
};
const consumerName = `bench-worker-${options.index}`;
const consumer = new StreamConsumer({
  redis: commands,
  createBlockingRedis: connect,
  processor: counting,
  streamPrefix: options.streamPrefix,
  partitions: options.partitions,
  group: options.group,
  consumerName,
  leaseMs: options.leaseMs,
  logger: pino({ level: 'warn' }, process.stderr),
});
await new ConsumerMembership(commands, membershipKeyFor(options.streamPrefix, options.group), consumerName, options.leaseMs).heartbeat();
send({ ready: true });

if ((await nextLine()) !== 'go') throw new Error('expected go');
// Garbage collection pauses of this process from here on (main-thread time, in ms).
let gcMs = 0;
const gc = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
});
gc.observe({ entryTypes: ['gc'] });
const cpu = process.cpuUsage();
await consumer.start();
if ((await nextLine()) !== 'stop') throw new Error('expected stop');
const used = process.cpuUsage(cpu);
gc.disconnect();
await consumer.stop();
send({ processed, cpuSeconds: (used.user + used.system) / 1e6, gcSeconds: gcMs / 1000 });
await keyward.close();
for (const redis of clients) redis.disconnect();
await client.close();
process.exit(0);
