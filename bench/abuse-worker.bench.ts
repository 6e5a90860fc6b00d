/**
 * The whole abuse worker path (issue 5): the stream consumer with the REAL AbuseDetector as its
 * processor, over 10,000 issued licenses and a realistic event mix appended in the real sink
 * format, beside the trivial-processor consumer and the raw XREADGROUP loop measured in the
 * same session (bench/abuse-stream.bench.ts runs each measurement); plus the detection lag
 * (sink append → detector done) at a steady 5,000 events/s. Goals: ≥ 30,000 events/s, lag p99
 * < 2 s.
 *
 * Alone: `node --import tsx bench/abuse-worker.bench.ts` (BENCH_EVENTS, BENCH_LAG_RATE,
 * BENCH_LAG_SECONDS as in abuse-stream.bench.ts).
 */
import { pathToFileURL } from 'node:url';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

import { startMongoServer } from '../embedded/mongo-server.js';
import type { StreamEntry } from '../lib/abuse/event-batch-processor.js';
import { newEventId } from '../lib/events/new-event-id.js';
import type { ValidationEvent } from '../lib/events/validation-event.js';
import { AbuseDetector } from '../lib/service/abuse-detector.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import { benchAbuseStream, type AbuseStreamBenchRow } from './abuse-stream.bench.js';

const LICENSES = 10_000;

/** A well-mixed 32-bit hash of `i` and `salt` (a few multiply-xorshift rounds), as a fraction in [0, 1). */
function noise(i: number, salt: number): number {
  let h = Math.imul(i ^ Math.imul(salt, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * The event mix of a busy hour (as in abuse-rules.bench.ts): 98% validations of the issued
 * licenses (10% of them from a browser with Origin and Referer), 2% unknown keys; client IPs
 * spread over public-looking IPv4 space.
 */
export function workerEventMaker(licenseIds: readonly string[]): (i: number, at: number) => ValidationEvent {
  return (i, at) => {
    const ip = `${1 + Math.floor(noise(i, 1) * 200)}.${Math.floor(noise(i, 2) * 256)}.${Math.floor(noise(i, 3) * 64)}.${Math.floor(noise(i, 4) * 4)}`;
    const base = { eid: newEventId(), at, ip, product: 'default', userAgent: 'Toolbox/2.1 (Windows NT 10.0)' };
    if (noise(i, 5) < 0.02) {
      return { ...base, licenseId: null, keyDigest: 'ab'.repeat(32), origin: null, referer: null, domain: null, fingerprint: null, code: 'NOT_FOUND' };
    }
    const license = Math.floor(noise(i, 6) * licenseIds.length);
    const browser = noise(i, 7) < 0.1;
    return {
      ...base,
      licenseId: licenseIds[license]!,
      keyDigest: 'cd'.repeat(32),
      origin: browser ? 'https://shop.example.com' : null,
      referer: browser ? 'https://shop.example.com/checkout' : null,
      domain: browser ? 'shop.example.com' : null,
      fingerprint: `machine-${license}-${Math.floor(noise(i, 8) * 3)}`,
      code: 'VALID',
    };
  };
}

/** Runs the trivial and the detector measurements; returns the rows of both. */
export async function benchAbuseWorker(): Promise<AbuseStreamBenchRow[]> {
  const mongo = await startMongoServer();
  const client = await new MongoClient(mongo.url).connect();
  const redisClients: Redis[] = [];
  try {
    const db = client.db('bench_abuse_worker');
    const keyward = await createKeyward({ db, plans: readPlanCatalogue(DEFAULT_PLANS_FILE), secrets: { digest: 'bench-digest-secret-0123456789abcdefghijklmnop', encryption: '0f'.repeat(32) } });
    const issued = await keyward.licenses.issueMany(LICENSES, { planId: 'starter', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const licenseIds = issued.value.map((item) => item.record.license.id);
    const makeEvent = workerEventMaker(licenseIds);

    const trivial = await benchAbuseStream({ makeEvent });
    let run = 0;
    const detector = await benchAbuseStream({
      makeEvent,
      processorName: 'AbuseDetector',
      async createProcessor({ redisUrl }) {
        const redis = new Redis(redisUrl);
        redisClients.push(redis);
        run += 1;
        const processor = new AbuseDetector({ db, redis, licenses: keyward.licenses, plans: keyward.plans, keyPrefix: `bench:detector${run}` });
        await processor.ensureIndexes();
        // Warm-up as a running worker is: every license's facts cached, JIT warm. Its windows
        // live on partitions the measured streams do not use.
        const warmUp: StreamEntry[] = licenseIds.map((_, i) => ({ id: `1-${i}`, event: makeEvent(i, Date.now() - 7_200_000) }));
        for (let start = 0; start < warmUp.length; start += 500) await processor.process(1_000 + start / 500, warmUp.slice(start, start + 500));
        return processor;
      },
    });
    await keyward.close();
    return [...detector.slice(0, 1), trivial[1]!, detector[1]!, trivial[2]!, detector[2]!];
  } finally {
    for (const redis of redisClients) redis.disconnect();
    await client.close().catch(() => undefined);
    await mongo.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('Abuse worker: stream consumer + AbuseDetector (embedded redis-server and MongoDB-wire, 16 partitions, 10,000 licenses):');
  console.table(await benchAbuseWorker());
}
