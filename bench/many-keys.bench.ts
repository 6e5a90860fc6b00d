/**
 * The validate route with many keys (issue 15): 1,000,000 licenses issued in bulk, keys drawn
 * from a Zipf distribution (s = 1), default cache settings; beside, in the same run and at the
 * same concurrency (50), a bare Koa route and a bare `findOne` loop on the same MongoDB-wire
 * server.
 *
 * Rows:
 * - bare Koa route answering the same JSON (the HTTP floor);
 * - bare `findOne({keyDigest})` loop: 50 concurrent loops in this process, from the driver the
 *   server uses, on keys nobody reads otherwise (the store's own limit for one-by-one reads);
 * - validate, every key a cache miss (keys not validated before), closed loop; goal ≥ 0.5x the
 *   findOne loop;
 * - the same at half that rate, constant (vegeta); goal: p99 within 2x the findOne loop's p99;
 * - validate, Zipf keys: cache hit rate, req/s, p50/p99.
 * The server runs in a process of its own (bench/many-keys-server-child.ts, as deployed: the
 * benchmark's key lists are not in its heap) on embedded Redis and MongoDB-wire; load comes from
 * children (autocannon, vegeta) at a lower CPU priority.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createHistogram } from 'node:perf_hooks';

import { MongoClient } from 'mongodb';

import { startLocalServices } from '../embedded/local-services.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { runLoad, type LoadResult } from './autocannon-run.js';
import { benchServerConfig } from './bench-server-config.js';
import { runConstantRate } from './constant-rate-load.js';
import { bareServer } from './bare-server.js';
import type { ServerMeasure } from './many-keys-server-child.js';
import { zipfSampler } from './zipf.js';

/** One row of the printed table. */
export interface ManyKeysRow {
  readonly benchmark: string;
  readonly 'req/s': string;
  readonly 'p50 ms': string;
  readonly 'p99 ms': string;
  readonly 'hit rate': string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: string;
}

/** Options of {@link benchManyKeys}. */
export interface ManyKeysOptions {
  /** Licenses issued. Default 1,000,000. */
  readonly licenses?: number;
  /** Seconds per measured run. Default 10. */
  readonly durationSeconds?: number;
  /** Concurrent requests (connections, and findOne loops). Default 50. */
  readonly concurrency?: number;
  /** Progress lines go here. Default: stderr. */
  readonly log?: (line: string) => void;
}

const round = (n: number) => Math.round(n).toLocaleString('en-US');

/** `concurrency` loops of `findOne` by key digest for `durationSeconds`; ops/s and latencies. */
async function findOneLoop(mongoUrl: string, dbName: string, digests: readonly string[], concurrency: number, durationSeconds: number): Promise<LoadResult> {
  const client = await new MongoClient(mongoUrl).connect();
  try {
    const licenses = client.db(dbName).collection('licenses');
    const histogram = createHistogram();
    let next = 0;
    let found = 0;
    let done = 0;
    const loop = async (until: number, measure: boolean): Promise<void> => {
      while (performance.now() < until) {
        const digest = digests[next++ % digests.length] as string;
        const started = process.hrtime.bigint();
        if (await licenses.findOne({ keyDigest: digest })) found += 1;
        if (measure) {
          histogram.record(process.hrtime.bigint() - started);
          done += 1;
        }
      }
    };
    // Warm up (connections, JIT), then measure.
    await Promise.all(Array.from({ length: concurrency }, () => loop(performance.now() + 2_000, false)));
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, () => loop(started + durationSeconds * 1_000, true)));
    const seconds = (performance.now() - started) / 1_000;
    if (found === 0) throw new Error('findOne loop found no license');
    const ms = (ns: number) => Math.round(ns / 10_000) / 100;
    return { requestsPerSecond: done / seconds, p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), non2xx: 0, errors: 0 };
  } finally {
    await client.close();
  }
}

interface CacheStats {
  readonly hits: number;
  readonly misses: number;
}

/** The server in a process of its own (bench/many-keys-server-child.ts), and how to ask it things. */
async function startServerProcess(redisUrl: string, mongoUrl: string): Promise<{ url: string; request: <T = unknown>(type: string) => Promise<T>; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./many-keys-server-child.ts', import.meta.url)), [redisUrl, mongoUrl], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code} before it was ready`)));
    child.on('message', (message: { type?: string; url?: string; id?: number; value?: unknown; error?: string }) => {
      if (message.type === 'ready' && message.url !== undefined) resolve(message.url);
      const pending = message.id === undefined ? undefined : waiting.get(message.id);
      if (pending === undefined) return;
      waiting.delete(message.id as number);
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.value);
    });
  });
  const url = await ready;
  const request = <T = unknown>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, type });
    });
  return {
    url,
    request,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      await request('stop').catch(() => undefined);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs the many-keys benchmark. */
export async function benchManyKeys(options: ManyKeysOptions = {}): Promise<ManyKeysRow[]> {
  const count = options.licenses ?? 1_000_000;
  const durationSeconds = options.durationSeconds ?? 10;
  const connections = options.concurrency ?? 50;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // A million licenses (and their audit entries) as Java objects outgrow the JVM's default heap
  // on a small machine; the launcher's JVM reads JAVA_TOOL_OPTIONS. An operator's own setting wins.
  // Until they are taken off below, each license also carries its pending `license.created`
  // webhook event: 10 GB thrashed in GC at 700,000 licenses and dropped the driver's connections;
  // 1 GB per 55,000 licenses (19 GB for the million) held.
  const javaOptions = process.env['JAVA_TOOL_OPTIONS'];
  if (javaOptions === undefined) process.env['JAVA_TOOL_OPTIONS'] = `-Xmx${Math.max(2, Math.ceil(count / 55_000))}g -XX:+UseParallelGC`;
  const services = await startLocalServices({ persistent: false }).finally(() => {
    if (javaOptions === undefined) delete process.env['JAVA_TOOL_OPTIONS'];
  });
  const stops: Array<() => Promise<void>> = [() => services.stop()];
  try {
    // Bulk issue through a Keyward of its own without Redis: no invalidation message per
    // license, the store's insertMany in batches of 1,000.
    // With a million licenses the MongoDB-wire JVM pauses for garbage collection on a busy
    // machine: a pause is not an outage, so its heartbeats get longer than the default 30 s.
    const mongoUrl = `${services.mongoUrl}${services.mongoUrl.includes('?') ? '&' : '?'}connectTimeoutMS=120000`;
    const config = benchServerConfig({ redisUrl: services.redisUrl, mongoUrl });
    const mongo = await new MongoClient(mongoUrl).connect();
    stops.push(() => mongo.close());
    const issuer = await createKeyward({ db: mongo.db(config.mongoDb), plans: config.plans, secrets: config.secrets });
    const keys: string[] = [];
    const issueStarted = performance.now();
    for (let start = 0; start < count; start += 10_000) {
      const issued = await issuer.licenses.issueMany(Math.min(10_000, count - start), { planId: 'metered', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
      if (!issued.ok) throw new Error(issued.refusal.message);
      for (const item of issued.value) keys.push(item.key);
      if ((start / 10_000) % 10 === 9) log(`  issued ${round(keys.length)} licenses`);
    }
    const issueSeconds = (performance.now() - issueStarted) / 1_000;
    log(`  issued ${round(count)} licenses in ${issueSeconds.toFixed(1)} s`);
    // Each license was written with its pending `license.created` webhook event; the worker's
    // relay takes those off within seconds, and no worker runs here: take them off as it would,
    // so the licenses read during the runs have the size they have in production.
    await mongo.db(config.mongoDb).collection('licenses').updateMany({ pendingWebhookEvents: { $exists: true } }, { $unset: { pendingWebhookEvents: '' } });

    const server = await startServerProcess(services.redisUrl, mongoUrl);
    stops.push(() => server.stop());
    const url = `${server.url}/v1/licenses/validate`;
    const body = (key: string) => JSON.stringify({ key, product: 'default' });
    const sample = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(keys[0] as string) })).json()) as { code?: string };
    if (sample.code !== 'VALID') throw new Error(`bench license does not validate: ${JSON.stringify(sample)}`);
    const bare = await bareServer(sample);
    stops.push(bare.close);

    /** A closed-loop run with the cache hit rate seen by the server during it. */
    const measured = async (bodies: readonly string[]): Promise<LoadResult & { hitRate: number }> => {
      const before = await server.request<CacheStats>('stats');
      const result = await runLoad({ url, bodies, connections, durationSeconds });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`validate: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      const after = await server.request<CacheStats>('stats');
      const hits = after.hits - before.hits;
      return { ...result, hitRate: hits / Math.max(1, hits + after.misses - before.misses) };
    };

    // Keys are taken from the end of the list for cold runs (each used once), from the middle
    // for the findOne loop, and ranked from the start for Zipf draws: no run warms another's keys.
    let coldEnd = keys.length;
    const coldBodies = (n: number): string[] => {
      const taken = keys.slice(Math.max(0, coldEnd - n), coldEnd);
      coldEnd -= taken.length;
      return taken.map(body);
    };
    // Enough keys that a run does not come round to its first keys (where the cache would hold them).
    const perRun = Math.min(40_000 * durationSeconds, Math.floor(count / 5));

    await runLoad({ url: bare.url, bodies: [body(keys[0] as string)], connections, durationSeconds: 3 });
    const bareResult = await runLoad({ url: bare.url, bodies: [body(keys[0] as string)], connections, durationSeconds });
    log(`  bare route: ${round(bareResult.requestsPerSecond)}/s`);

    const loopKeys = keys.slice(Math.floor(count / 2), Math.floor(count / 2) + Math.min(200_000, Math.floor(count / 4)));
    const loopDigests = loopKeys.map((key) => issuer.licenses.digestOf(key));
    const loop = await findOneLoop(mongoUrl, config.mongoDb, loopDigests, connections, durationSeconds);
    log(`  findOne loop: ${round(loop.requestsPerSecond)}/s, p99 ${loop.p99Ms} ms`);

    await runLoad({ url, bodies: coldBodies(20_000), connections, durationSeconds: 3 });
    const miss = await measured(coldBodies(perRun));
    log(`  cache-miss run: ${round(miss.requestsPerSecond)}/s, p99 ${miss.p99Ms} ms, hit rate ${miss.hitRate.toFixed(3)}`);

    const halfRate = Math.max(1, Math.round(miss.requestsPerSecond / 2));
    const halfBodies = coldBodies(halfRate * durationSeconds + 1);
    const halfBefore = await server.request<CacheStats>('stats');
    await server.request('measure-start');
    const atHalf = await runConstantRate({ url, body: halfBodies[0] as string, bodies: halfBodies, rate: halfRate, durationSeconds, maxConnections: connections });
    const stalls = await server.request<ServerMeasure>('measure-stop');
    const halfAfter = await server.request<CacheStats>('stats');
    const halfHits = halfAfter.hits - halfBefore.hits;
    const halfHitRate = halfHits / Math.max(1, halfHits + halfAfter.misses - halfBefore.misses);
    log(`  cache-miss at half rate: p99 ${atHalf.p99Ms} ms; server event-loop delay p99 ${stalls.loopDelayP99Ms.toFixed(1)} ms, max ${stalls.loopDelayMaxMs.toFixed(1)} ms; ${stalls.gcPauses} GC pauses, ${stalls.gcMs.toFixed(0)} ms in all, longest ${stalls.gcLongestMs.toFixed(1)} ms`);

    const draw = zipfSampler(count, 1);
    const zipfBodies = Array.from({ length: perRun }, () => body(keys[draw()] as string));
    await runLoad({ url, bodies: zipfBodies.slice(0, 20_000), connections, durationSeconds: 3 });
    const zipf = await measured(zipfBodies);
    log('  Zipf run done');

    const missRatio = miss.requestsPerSecond / loop.requestsPerSecond;
    const p99Ratio = atHalf.p99Ms / loop.p99Ms;
    const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
    return [
      { benchmark: `bulk issue, ${round(count)} licenses (issueMany, insertMany batches of 1,000)`, 'req/s': `${round(count / issueSeconds)} licenses/s`, 'p50 ms': '-', 'p99 ms': '-', 'hit rate': '-', ratio: '-', goal: '-', met: '-' },
      { benchmark: `bare Koa route, same JSON (${connections} connections)`, 'req/s': round(bareResult.requestsPerSecond), 'p50 ms': String(bareResult.p50Ms), 'p99 ms': String(bareResult.p99Ms), 'hit rate': '-', ratio: '-', goal: '-', met: '-' },
      { benchmark: `bare findOne({keyDigest}) loop, ${connections} concurrent, same MongoDB-wire server (baseline)`, 'req/s': round(loop.requestsPerSecond), 'p50 ms': String(loop.p50Ms), 'p99 ms': String(loop.p99Ms), 'hit rate': '-', ratio: '1.00', goal: '-', met: '-' },
      { benchmark: 'validate, every key a cache miss (closed loop)', 'req/s': round(miss.requestsPerSecond), 'p50 ms': String(miss.p50Ms), 'p99 ms': String(miss.p99Ms), 'hit rate': percent(miss.hitRate), ratio: missRatio.toFixed(2), goal: '>= 0.5x findOne loop', met: missRatio >= 0.5 ? 'yes' : 'NO' },
      { benchmark: `validate, cache miss at half that rate (${round(halfRate)}/s constant, vegeta)`, 'req/s': round(atHalf.sentPerSecond), 'p50 ms': String(atHalf.p50Ms), 'p99 ms': String(atHalf.p99Ms), 'hit rate': percent(halfHitRate), ratio: `p99 ${p99Ratio.toFixed(2)}x loop's`, goal: "p99 <= 2x findOne loop's p99", met: p99Ratio <= 2 && atHalf.success === 1 ? 'yes' : 'NO' },
      { benchmark: 'validate, Zipf (s = 1) keys, default cache (5 s, 200,000 entries)', 'req/s': round(zipf.requestsPerSecond), 'p50 ms': String(zipf.p50Ms), 'p99 ms': String(zipf.p99Ms), 'hit rate': percent(zipf.hitRate), ratio: `${(zipf.requestsPerSecond / bareResult.requestsPerSecond).toFixed(2)}x bare route`, goal: '-', met: '-' },
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
