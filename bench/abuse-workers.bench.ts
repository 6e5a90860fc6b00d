/**
 * Worker throughput of the abuse detector on this machine (issue 5 goal: ≥ 30,000 events/s):
 * the partitioned streams (16 partitions) are pre-filled with events in the real sink format,
 * then N worker PROCESSES (bench/abuse-worker-child.ts: real StreamConsumer + real AbuseDetector
 * over one MongoDB database with 10,000 issued licenses, one Redis, one consumer group) are
 * released at once; the drain time runs from the release until every partition's group has lag 0
 * and nothing pending (XINFO GROUPS polled every 50 ms). N = 1, 2 and the core count if
 * different; each run on fresh streams and fresh detector keys. Children's start-up (connect,
 * detector, warm license cache, membership heartbeat) is outside the timed window; lease
 * acquisition is inside. The raw XREADGROUP + XACK loop of this process is the baseline.
 *
 * Alone: `node --import tsx bench/abuse-workers.bench.ts` (BENCH_WORKER_EVENTS, default 300,000;
 * BENCH_WORKER_COUNTS, e.g. `1,2`; BENCH_CHILD_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

import { startMongoServer } from '../embedded/mongo-server.js';
import { startRedisServer } from '../embedded/redis-server.js';
import { allStreamKeys } from '../lib/events/stream-partition.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { isEntryPoint } from '../runtime/process-entry.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import type { ChildOptions } from './abuse-worker-child.js';
import { fill, PARTITIONS, rawLoop, redisCpuSeconds } from './abuse-stream.bench.js';
import { workerEventMaker } from './abuse-worker.bench.js';

const LICENSES = 10_000;
/** Lease time of the children: the consumer's default. */
const CHILD_LEASE_MS = 15_000;
const GROUP = 'bench-abuse';
const SECRETS = { digest: 'bench-digest-secret-0123456789abcdefghijklmnop', encryption: '0f'.repeat(32) };
const format = (n: number) => Math.round(n).toLocaleString('en-US');

/** One row of the printed table. */
export interface AbuseWorkersBenchRow {
  readonly benchmark: string;
  readonly 'events/s': string;
  /** Events per CPU second of the worker processes together (user + system). */
  readonly 'events/worker-CPU-s': string;
  readonly 'events/Redis-CPU-s': string;
  /** Share of the worker processes' CPU time spent in garbage collection pauses. */
  readonly 'worker GC': string;
  /** Against the one-process run of the same session. */
  readonly 'vs 1 process': string;
  /** Events each process handled, in child order. */
  readonly split: string;
  readonly goal: string;
}

/** A child worker process and its stdout lines. */
interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly next: () => Promise<Record<string, unknown>>;
}

function startChild(options: ChildOptions): Child {
  const child = spawn(process.execPath, [...(process.env['BENCH_CHILD_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', new URL('./abuse-worker-child.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[worker ${options.index}] ${chunk.toString()}`));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  child.stdin.write(`${JSON.stringify(options)}\n`);
  return {
    process: child,
    async next() {
      const line = await lines.next();
      if (line.done === true) throw new Error(`worker ${options.index} ended early (exit ${String(child.exitCode)})`);
      return JSON.parse(line.value) as Record<string, unknown>;
    },
  };
}

/** Whether every partition's group has delivered and acknowledged everything. */
async function drained(redis: Redis, keys: readonly string[]): Promise<boolean> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.xinfo('GROUPS', key);
  const replies = (await pipeline.exec()) ?? [];
  return replies.every(([error, groups]) => {
    if (error) throw error;
    const group = (groups as unknown[][]).map((fields) => Object.fromEntries(pairs(fields))).find((fields) => fields['name'] === GROUP);
    return group !== undefined && group['lag'] === 0 && group['pending'] === 0;
  });
}

function pairs(fields: readonly unknown[]): [unknown, unknown][] {
  const out: [unknown, unknown][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i], fields[i + 1]]);
  return out;
}

/** Runs the raw baseline and the N-process drains; returns the table rows. */
export async function benchAbuseWorkers(): Promise<AbuseWorkersBenchRow[]> {
  const events = Number(process.env['BENCH_WORKER_EVENTS'] ?? 300_000);
  const counts = process.env['BENCH_WORKER_COUNTS']?.split(',').map(Number) ?? [...new Set([1, 2, cpus().length])];
  const mongo = await startMongoServer();
  const client = await new MongoClient(mongo.url).connect();
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const children: Child[] = [];
  try {
    const dbName = 'bench_abuse_workers';
    const db = client.db(dbName);
    await db.dropDatabase();
    const keyward = await createKeyward({ db, plans: readPlanCatalogue(DEFAULT_PLANS_FILE), secrets: SECRETS });
    const issued = await keyward.licenses.issueMany(LICENSES, { planId: 'starter', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
    await keyward.close();
    const licenseIds = issued.value.map((item) => item.record.license.id);
    const makeEvent = workerEventMaker(licenseIds);

    await fill(redis, 'bench:raw', events, makeEvent);
    const raw = await rawLoop(redis, 'bench:raw', 500);
    await redis.del(...allStreamKeys(PARTITIONS, 'bench:raw'));
    const rows: AbuseWorkersBenchRow[] = [
      { benchmark: 'raw XREADGROUP + XACK loop, one process (baseline)', 'events/s': format(raw.rate), 'events/worker-CPU-s': format(raw.perCpuSecond), 'events/Redis-CPU-s': format(raw.perRedisCpuSecond), 'worker GC': '-', 'vs 1 process': '-', split: '-', goal: '-' },
    ];

    let single = Number.NaN;
    for (const count of counts) {
      const streamPrefix = `bench:w${count}`;
      const keys = allStreamKeys(PARTITIONS, streamPrefix);
      await fill(redis, streamPrefix, events, makeEvent);
      await Promise.all(keys.map((key) => redis.xgroup('CREATE', key, GROUP, '0', 'MKSTREAM')));
      const started = Array.from({ length: count }, (_, index) =>
        startChild({ index, redisUrl: redisServer.url, mongoUrl: mongo.url, dbName, streamPrefix, partitions: PARTITIONS, group: GROUP, keyPrefix: `bench:det${count}`, licenseIds, secrets: SECRETS, leaseMs: CHILD_LEASE_MS }),
      );
      children.push(...started);
      await Promise.all(started.map((child) => child.next()));

      const redisCpu = await redisCpuSeconds(redis);
      const begin = performance.now();
      for (const child of started) child.process.stdin.write('go\n');
      while (!(await drained(redis, keys))) await delay(50);
      const seconds = (performance.now() - begin) / 1000;
      const redisSeconds = (await redisCpuSeconds(redis)) - redisCpu;
      for (const child of started) child.process.stdin.write('stop\n');
      const reports = (await Promise.all(started.map((child) => child.next()))) as { processed: number; cpuSeconds: number; gcSeconds: number }[];
      await Promise.all(started.map((child) => new Promise((resolve) => (child.process.exitCode === null ? child.process.once('exit', resolve) : resolve(undefined)))));
      children.length = 0;
      await redis.del(...keys);

      const rate = events / seconds;
      if (count === 1) single = rate;
      const workerCpu = reports.reduce((sum, report) => sum + report.cpuSeconds, 0);
      rows.push({
        benchmark: `${count} worker process${count === 1 ? '' : 'es'}, StreamConsumer + AbuseDetector, ${format(events)} events drained`,
        'events/s': format(rate),
        'events/worker-CPU-s': format(events / workerCpu),
        'events/Redis-CPU-s': format(events / redisSeconds),
        'worker GC': `${((100 * reports.reduce((sum, report) => sum + report.gcSeconds, 0)) / workerCpu).toFixed(0)}%`,
        'vs 1 process': Number.isNaN(single) ? '-' : (rate / single).toFixed(2),
        split: reports.map((report) => format(report.processed)).join(' / '),
        goal: '>= 30,000/s',
      });
    }
    return rows;
  } finally {
    for (const child of children) child.process.kill();
    redis.disconnect();
    await redisServer.stop();
    await client.close().catch(() => undefined);
    await mongo.stop();
  }
}

if (isEntryPoint(import.meta.url)) {
  console.log(`Abuse workers: N worker processes draining a pre-filled backlog (embedded redis-server and MongoDB-wire, ${PARTITIONS} partitions, ${LICENSES.toLocaleString('en-US')} licenses, ${cpus().length} cores):`);
  console.table(await benchAbuseWorkers());
}
