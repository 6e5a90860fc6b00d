/**
 * The abuse stream module against the real server, Redis and MongoDB: every validation the
 * server appends is processed once, including what was appended before the worker started, and
 * entries that are not validation events are recorded as poison instead of blocking a partition.
 */
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';

import { allStreamKeys, partitionOf, streamKeyFor } from '../../../lib/events/stream-partition.js';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { networkGroupOf } from '../../../lib/abuse/network-of.js';
import { createAbuseStreamModule } from '../../../worker/abuse/abuse-stream-module.js';
import { POISON_COLLECTION } from '../../../worker/abuse/poison-entry-store.js';
import { issueLicense } from '../../support/licenses.js';
import { startTestServer } from '../../support/server-fixture.js';
import { startTestWorker } from '../../support/worker-fixture.js';
import { countedEvents, CountingProcessor, eventually } from './counting-processor.js';

const FAST = { blockMs: 100, claimIdleMs: 1_000, leaseMs: 1_500 } as const;

describe('abuse stream module', () => {
  // Client addresses from 100.64.0.0/10, which no other test uses: rate-limit counters live in
  // the shared Redis, by IP.
  it('processes every validation the server appended once, before and after the worker started', async () => {
    const server = await startTestServer();
    const license = await issueLicense(server.server, { planId: 'open' });
    const validate = (key: string, ip: string) => server.post('/v1/licenses/validate', { key }, { 'x-forwarded-for': ip });
    for (let i = 0; i < 30; i += 1) {
      await validate(i % 3 === 0 ? license.key : i % 3 === 1 ? generateKey() : 'not a key', `100.64.${i % 5}.${i}`);
    }
    await server.server.flushEvents();

    const worker = await startTestWorker({ mongoDb: server.config.mongoDb, events: server.config.events }, [
      createAbuseStreamModule({ createProcessor: (context) => new CountingProcessor(context.db), ...FAST }),
    ], { dropDatabase: false });
    const counted = countedEvents(worker.context.db);
    await eventually('the 30 earlier events are counted', async () => (await counted.countDocuments()) === 30);

    for (let i = 0; i < 30; i += 1) await validate(generateKey(), `100.65.7.${i}`);
    await server.server.flushEvents();
    await eventually('all 60 events are counted', async () => (await counted.countDocuments()) === 60);

    const documents = await counted.find().toArray();
    expect(documents.every((document) => document.deliveries === 1)).toBe(true);
    // Every entry was acknowledged: nothing is left pending for the group.
    const redis = new Redis(server.config.redisUrl);
    onTestFinished(() => redis.quit().then(() => undefined));
    for (const key of allStreamKeys(server.config.events.partitions, server.config.events.streamPrefix)) {
      const [pending] = (await redis.xpending(key, 'keyward-abuse')) as [number];
      expect(pending).toBe(0);
    }
    // The 30 guesses from 100.65.7.0/24 share one partition (their /16's), whatever keys they tried.
    const guesses = await counted.countDocuments({ partition: partitionOf(networkGroupOf('100.65.7.1'), server.config.events.partitions) });
    expect(guesses).toBeGreaterThanOrEqual(30);
  });

  it('records an entry that is not a validation event as poison, acknowledges it and goes on', async () => {
    const worker = await startTestWorker({}, [createAbuseStreamModule({ createProcessor: (context) => new CountingProcessor(context.db), ...FAST })]);
    const { streamPrefix } = worker.config.events;
    const stream = streamKeyFor(2, streamPrefix);
    const redis = new Redis(worker.config.redisUrl);
    onTestFinished(() => redis.quit().then(() => undefined));

    const poisonId = await redis.xadd(stream, '*', 'at', 'yesterday', 'code', 'VALID');
    await redis.xadd(stream, '*', 'at', '1772366400000', 'code', 'NOT_FOUND', 'ip', '203.0.113.9', 'keyDigest', 'b'.repeat(64), 'eid', 'AAAAAAAAAAAAAAAA');

    await eventually('the good entry is counted', async () => (await countedEvents(worker.context.db).countDocuments()) === 1);
    const poison = await worker.context.db.collection(POISON_COLLECTION).findOne({ _id: `${stream}/${poisonId}` as never });
    expect(poison).toMatchObject({ partition: 2, entryId: poisonId, error: expect.stringMatching(/^at: must be decimal/) });
    await eventually('both entries are acknowledged', async () => ((await redis.xpending(stream, 'keyward-abuse')) as [number])[0] === 0);
  });
});
