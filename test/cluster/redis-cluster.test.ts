/**
 * Keyward on a real Redis Cluster (three masters, three replicas, started here from
 * redis-server), with REDIS_CLUSTER_NODES set: every Redis use of the server and the worker goes
 * through cluster clients (runtime/redis-connection.ts).
 *
 * Invariants:
 * - the abuse path works end to end: validate → stream partitions → worker → signal → case;
 * - provisioning works end to end: a Stripe event → the webhook → the billing queue (BullMQ) →
 *   the worker → a license;
 * - when a master dies mid-stream and its replica is promoted: validations keep answering, every
 *   validation event the sink delivered is processed, and the workers go on by themselves.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allStreamKeys, streamKeyFor } from '../../lib/events/stream-partition.js';
import { generateKey } from '../../lib/keys/generate-key.js';
import { MongoCaseStore } from '../../lib/store/mongo-case-store.js';
import { MongoSignalStore } from '../../lib/store/mongo-signal-store.js';
import { serverWiring } from '../../server/main.js';
import { createAbuseDetectorModule } from '../../worker/abuse/abuse-detector-module.js';
import { createAbuseStreamModule } from '../../worker/abuse/abuse-stream-module.js';
import { readStreamLag } from '../../worker/abuse/stream-lag.js';
import { DEFAULT_CONSUMER_GROUP } from '../../worker/abuse/stream-consumer.js';
import { casesModule } from '../../worker/cases/cases-module.js';
import { addressesIn, sendValidations } from '../support/abuse-traffic.js';
import { startBillingSystem } from '../support/billing-fixture.js';
import { PRICES } from '../support/stripe-events.js';
import { subscriptionStory } from '../support/subscription-story.js';
import { startLocalRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.js';
import { startTestServer } from '../support/server-fixture.js';
import { startTestWorker } from '../support/worker-fixture.js';
import { countedEvents, CountingProcessor } from '../worker/abuse/counting-processor.js';
import { createRedisConnection } from '../../runtime/redis-connection.js';

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Keyward on a Redis Cluster', { timeout: 240_000 }, () => {
  let cluster: LocalRedisCluster;
  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
  }, 120_000);
  afterAll(async () => cluster?.stop());

  const onCluster = () => ({ redisUrl: cluster.url, redisClusterNodes: cluster.nodes });

  it('runs validate → stream → worker → signal → case', async () => {
    const server = await startTestServer(onCluster(), serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    const worker = await startTestWorker(
      { ...onCluster(), mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 })],
      { dropDatabase: false },
    );
    const license = await server.server.keyward.licenses.issue({ planId: 'open', periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
    if (!license.ok) throw new Error(license.refusal.code);
    expect((await server.post('/v1/licenses/validate', { key: license.value.key }, { 'x-forwarded-for': '198.18.0.1' })).body['code']).toBe('VALID');

    // Key guessing: 80 well-formed unknown keys from one /24 (threshold: 30 misses per 10 minutes).
    const ips = addressesIn('45.83.65', 40);
    const answers = await sendValidations(server.url, Array.from({ length: 80 }, (_, i) => ({ key: generateKey(), ip: ips[i % ips.length]! })));
    expect(answers).toEqual({ '200 NOT_FOUND': 80 });
    await server.server.flushEvents();
    expect(server.server.eventStats()).toMatchObject({ dropped: 0, buffered: 0 });

    const redis = worker.context.redis;
    await eventually('the worker drains every partition', async () => {
      const lags = await Promise.all(allStreamKeys(partitions, streamPrefix).map((key) => readStreamLag(redis, key, DEFAULT_CONSUMER_GROUP)));
      return lags.every((lag) => lag.pending === 0 && lag.undelivered === 0);
    });
    const mongo = await new MongoClient(server.config.mongoUrl).connect();
    try {
      const db = mongo.db(server.config.mongoDb);
      await eventually('a key-guessing signal on 45.83.65.0/24', async () =>
        (await new MongoSignalStore({ db }).list({ limit: 100 })).some((signal) => signal.kind === 'key_guessing'),
      );
      await eventually('a case for it', async () => (await new MongoCaseStore({ db }).list({ limit: 100 })).some((found) => found.subject.type === 'network' && found.subject.network === '45.83.65.0/24'));
    } finally {
      await mongo.close();
    }
  });

  it('runs a Stripe event → billing job (BullMQ) → license', async () => {
    const billing = await startBillingSystem({ redis: onCluster() });
    const story = subscriptionStory();
    for (const event of story.paidCheckout(PRICES.basic).events) expect((await billing.apply(event)).status).toBe('processed');
    const record = await billing.license(story.ids.subscription);
    expect(record?.license).toMatchObject({ status: 'active', planId: 'basic' });
  });

  it('sends multi-key pipelines across masters through one client', async () => {
    // The event sink appends to every partition in one pipeline: keys on all three masters.
    const redis = createRedisConnection(onCluster());
    redis.on('error', () => undefined);
    try {
      const keys = Array.from({ length: 16 }, (_, partition) => streamKeyFor(partition, 'pipeline-check'));
      const masters = new Set(await Promise.all(keys.map((key) => cluster.masterOf(key))));
      expect(masters.size).toBeGreaterThan(1);
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.xadd(key, '*', 'n', '1');
      const replies = (await pipeline.exec()) ?? [];
      expect(replies.map(([error]) => error)).toEqual(keys.map(() => null));
      expect(await Promise.all(keys.map((key) => redis.xlen(key)))).toEqual(keys.map(() => 1));
    } finally {
      redis.disconnect();
    }
  });
  it('keeps answering validations and loses no delivered event when a master fails over mid-stream', async () => {
    const server = await startTestServer(onCluster());
    const { streamPrefix, partitions } = server.config.events;
    const worker = await startTestWorker(
      { ...onCluster(), mongoDb: server.config.mongoDb, events: { streamPrefix, partitions } },
      [createAbuseStreamModule({ createProcessor: (context) => new CountingProcessor(context.db), blockMs: 100, claimIdleMs: 1_000, leaseMs: 1_500 })],
      { dropDatabase: false },
    );
    const counted = countedEvents(worker.context.db);
    const ips = addressesIn('198.18.7', 200);
    const send = (count: number) => sendValidations(server.url, Array.from({ length: count }, (_, i) => ({ key: generateKey(), ip: ips[i % ips.length]! })), { concurrency: 8 });

    expect(await send(200)).toEqual({ '200 NOT_FOUND': 200 });
    await server.server.flushEvents();
    await eventually('the first 200 events counted', async () => (await counted.countDocuments()) === 200);

    // Kill the master of partition 0's stream while validations are being answered.
    const victim = await cluster.masterOf(streamKeyFor(0, streamPrefix));
    const during = send(400);
    const killed = cluster.killMaster(victim);
    const [answers] = await Promise.all([during, killed]);
    expect(answers).toEqual({ '200 NOT_FOUND': 400 });
    expect(await send(200)).toEqual({ '200 NOT_FOUND': 200 });

    // Every event the sink had delivered (or still holds) reaches the worker, which resumed
    // on the promoted replica by itself.
    await eventually('the sink delivers its buffer', async () => {
      await server.server.flushEvents().catch(() => undefined);
      return server.server.eventStats().buffered === 0;
    });
    const { dropped } = server.server.eventStats();
    expect(dropped).toBe(0);
    await eventually('all 800 events counted', async () => (await counted.countDocuments()) === 800, 120_000);
  });

});
