/**
 * Abuse detector throughput (issue 5): AbuseDetector.process on real Redis and MongoDB-wire
 * servers started here, batches of 500 events over 10,000 licenses, beside a baseline measured
 * in the same session: one bare Lua call per batch carrying the same entry ids (the least a
 * Redis-backed batch can cost). Goal for the whole worker: 30,000 events/s on 2 cores.
 *
 * Alone: `node --import tsx bench/abuse-rules.bench.ts` (BENCH_EVENTS sets the measured events).
 */
import { pathToFileURL } from 'node:url';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

import { startLocalServices } from '../embedded/local-services.js';
import type { StreamEntry } from '../lib/abuse/event-batch-processor.js';
import type { ValidationEvent } from '../lib/events/validation-event.js';
import { AbuseDetector } from '../lib/service/abuse-detector.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';

/** One row of the printed table. */
export interface AbuseBenchRow {
  readonly benchmark: string;
  readonly 'events/s': string;
  readonly ratio: string;
  /** CPU time per event of this process and of redis-server: wall-clock rates on a shared machine move with its load, CPU per event much less. */
  readonly 'node µs/event': string;
  readonly 'redis µs/event': string;
  readonly goal: string;
  readonly met: string;
}

/** A run's rate and CPU per event. */
interface Measured {
  readonly rate: number;
  readonly nodeMicros: number;
  readonly redisMicros: number;
}

/** redis-server's CPU time so far (user + system), in µs. */
async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}

const LICENSES = 10_000;
const BATCH = 500;
const PARTITIONS = 16;
const round = (n: number) => Math.round(n).toLocaleString('en-US');

/** A deterministic pseudo-random sequence (xorshift32), so every run sees the same events. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** Events of a busy hour: 98% license validations (10% from browsers), 2% misses. */
function makeEvents(licenseIds: readonly string[], count: number, start: number): ValidationEvent[] {
  const next = random(42);
  const events: ValidationEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const at = start + Math.floor((i * 3_600_000) / count);
    const ip = `${1 + Math.floor(next() * 200)}.${Math.floor(next() * 256)}.${Math.floor(next() * 64)}.${Math.floor(next() * 4)}`;
    if (next() < 0.02) {
      events.push({ at, licenseId: null, keyDigest: 'ab'.repeat(32), ip, origin: null, referer: null, domain: null, fingerprint: null, product: 'default', userAgent: 'bench', code: 'NOT_FOUND' });
      continue;
    }
    const license = Math.floor(next() * licenseIds.length);
    const browser = next() < 0.1;
    events.push({
      at,
      licenseId: licenseIds[license]!,
      keyDigest: 'cd'.repeat(32),
      ip,
      origin: browser ? 'https://shop.example.com' : null,
      referer: browser ? 'https://shop.example.com/checkout' : null,
      domain: browser ? 'shop.example.com' : null,
      fingerprint: `machine-${license}-${Math.floor(next() * 3)}`,
      product: 'default',
      userAgent: 'bench',
      code: 'VALID',
    });
  }
  return events;
}

/** Splits events into per-partition batches of at most BATCH entries, ids increasing per partition. */
function batchesOf(events: readonly ValidationEvent[]): { partition: number; entries: StreamEntry[] }[] {
  const perPartition = new Map<number, StreamEntry[]>();
  const batches: { partition: number; entries: StreamEntry[] }[] = [];
  events.forEach((event, index) => {
    const routing = event.licenseId ?? event.ip;
    let hash = 0;
    for (let i = 0; i < routing.length; i += 1) hash = (hash * 31 + routing.charCodeAt(i)) >>> 0;
    const partition = hash % PARTITIONS;
    const pending = perPartition.get(partition) ?? [];
    pending.push({ id: `${event.at}-${index}`, event });
    if (pending.length === BATCH) {
      batches.push({ partition, entries: pending });
      perPartition.set(partition, []);
    } else {
      perPartition.set(partition, pending);
    }
  });
  for (const [partition, entries] of perPartition) if (entries.length > 0) batches.push({ partition, entries });
  return batches;
}

/** Processes batches with `concurrency` partitions in flight at once (each partition's batches in order). */
async function run(
  redis: Redis,
  batches: readonly { partition: number; entries: StreamEntry[] }[],
  concurrency: number,
  process: (partition: number, entries: StreamEntry[]) => Promise<unknown>,
): Promise<Measured> {
  const queues = new Map<number, StreamEntry[][]>();
  for (const batch of batches) queues.set(batch.partition, [...(queues.get(batch.partition) ?? []), batch.entries]);
  const partitions = [...queues.keys()];
  let events = 0;
  const redisBefore = await redisCpuMicros(redis);
  const cpuBefore = globalThis.process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    for (let partition = partitions.shift(); partition !== undefined; partition = partitions.shift()) {
      for (const entries of queues.get(partition)!) {
        await process(partition, entries);
        events += entries.length;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  const cpu = globalThis.process.cpuUsage(cpuBefore);
  const redisMicros = (await redisCpuMicros(redis)) - redisBefore;
  return { rate: events / (elapsed / 1000), nodeMicros: (cpu.user + cpu.system) / events, redisMicros: redisMicros / events };
}

/** Runs the abuse benchmark and returns its table rows. */
export async function benchAbuseRules(measuredEvents = Number(process.env['BENCH_EVENTS'] ?? 200_000)): Promise<AbuseBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const client = await new MongoClient(services.mongoUrl).connect();
  const redis = new Redis(services.redisUrl);
  try {
    const db = client.db('bench_abuse');
    const keyward = await createKeyward({ db, plans: readPlanCatalogue(DEFAULT_PLANS_FILE), secrets: { digest: 'bench-digest-secret-0123456789abcdefghijklmnop', encryption: '0f'.repeat(32) } });
    const issued = await keyward.licenses.issueMany(LICENSES, { planId: 'starter', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const licenseIds = issued.value.map((item) => item.record.license.id);
    const detector = new AbuseDetector({ db, redis, licenses: keyward.licenses, plans: keyward.plans, keyPrefix: 'bench', licenseCache: { ttlMs: Number(process.env['BENCH_TTL'] ?? 60_000) } });
    await detector.ensureIndexes();

    const hour = Date.parse('2026-03-02T09:00:00Z');
    // Warm-up hour (JIT, license and country caches), then a fresh hour to measure.
    await run(redis, batchesOf(makeEvents(licenseIds, 50_000, hour - 3_600_000)), 4, (p, e) => detector.process(p, e));
    const measured = batchesOf(makeEvents(licenseIds, measuredEvents, hour));
    const bareScript = 'return #ARGV';
    const bare = await run(redis, measured, 4, (partition, entries) => redis.eval(bareScript, 1, `bench:bare:{${partition}}`, ...entries.map((entry) => entry.id)));
    const serial = await run(redis, measured, 1, (p, e) => detector.process(p + PARTITIONS, e));
    const parallel = await run(redis, measured, 4, (p, e) => detector.process(p + 2 * PARTITIONS, e));
    const again = await run(redis, measured, 4, (p, e) => detector.process(p + 2 * PARTITIONS, e));
    await keyward.close();
    const row = (benchmark: string, measuredRun: Measured, goal = '-', met = '-'): AbuseBenchRow => ({
      benchmark,
      'events/s': round(measuredRun.rate),
      ratio: (measuredRun.rate / bare.rate).toFixed(3),
      'node µs/event': measuredRun.nodeMicros.toFixed(1),
      'redis µs/event': measuredRun.redisMicros.toFixed(1),
      goal,
      met,
    });
    // What two dedicated cores would sustain if this process and redis-server had them to themselves.
    const cpuBound = 2e6 / (parallel.nodeMicros + parallel.redisMicros);
    return [
      row('bare Lua call per batch of 500 ids (baseline, 4 partitions in flight)', bare),
      row('AbuseDetector.process, 1 partition at a time', serial),
      row('AbuseDetector.process, 4 partitions in flight', parallel, '>= 30,000/s', parallel.rate >= 30_000 ? 'yes' : 'NO'),
      { ...row('  the same, CPU-bound estimate on 2 free cores (2 s / CPU µs per event)', { ...parallel, rate: cpuBound }), goal: '>= 30,000/s', met: cpuBound >= 30_000 ? 'yes' : 'NO' },
      row('same batches again (already applied: checkpoint skip)', again),
    ];
  } finally {
    await redis.quit().catch(() => undefined);
    await client.close().catch(() => undefined);
    await services.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchAbuseRules());
}
