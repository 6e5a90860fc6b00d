/**
 * The validate route under load (issue 3), each figure beside a baseline from the same session:
 * - cached hot path, valid key, beside a bare Koa route answering the same JSON without work
 *   (goal: at least 0.6x its throughput, and p99 under 5 ms at half the measured maximum);
 *   throughput with autocannon (closed loop), latency at half of it with vegeta at a constant rate;
 * - cache miss: every request a different key, read from MongoDB;
 * - memory: resident size with 100,000 licenses in the cache.
 * The server runs in this process on real Redis and MongoDB-wire servers started here; load
 * comes from autocannon in a child process.
 */
import { pino } from 'pino';

import { startLocalServices } from '../embedded/local-services.js';
import { startServer, type RunningServer } from '../server/main.js';
import { runLoad, type LoadResult } from './autocannon-run.js';
import { runConstantRate, type ConstantRateResult } from './constant-rate-load.js';
import { bareServer } from './bare-server.js';
import { benchServerConfig } from './bench-server-config.js';

/** One row of the printed table. */
export interface HttpBenchRow {
  readonly benchmark: string;
  readonly 'req/s': string;
  readonly 'p50 ms': string;
  readonly 'p99 ms': string;
  readonly ratio: string;
  readonly goal: string;
  readonly met: string;
}

const round = (n: number) => Math.round(n).toLocaleString('en-US');

/** A table row for constant-rate rounds: each round's figure, separated by slashes. */
function rateRow(benchmark: string, rounds: readonly ConstantRateResult[], goal: string, met: string): HttpBenchRow {
  const each = (pick: (r: ConstantRateResult) => number) => rounds.map(pick).join(' / ');
  return { benchmark, 'req/s': each((r) => Math.round(r.sentPerSecond)), 'p50 ms': each((r) => r.p50Ms), 'p99 ms': each((r) => r.p99Ms), ratio: '-', goal, met };
}

/**
 * Whether a constant-rate run sent at least 97% of its rate: a generator that fell behind (it
 * runs at a lower priority than the server, generator-priority.ts) measured a lighter load.
 */
function sentInFull(result: ConstantRateResult, rate: number): boolean {
  return result.sentPerSecond >= 0.97 * rate;
}

/** The result, when every answer was a 2xx. */
function checkClean(name: string, result: LoadResult): LoadResult {
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The run with the median throughput (odd number of runs). */
function medianRun(runs: readonly LoadResult[]): LoadResult {
  return [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)] as LoadResult;
}

/** Runs the HTTP benchmarks; `durationSeconds` per run (default 10). */
export async function benchHttp(durationSeconds = 10): Promise<{ rows: HttpBenchRow[]; memory: Record<string, string> }> {
  const services = await startLocalServices({ persistent: false });
  const config = benchServerConfig(services);
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const stops: Array<() => Promise<void>> = [() => services.stop(), () => server.stop()];
  try {
    const { keyward } = server;
    const issued = await keyward.licenses.issue({ planId: 'starter', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const { key } = issued.value;
    await keyward.licenses.applyByKey(key, { type: 'activate', kind: 'machine', value: 'bench-machine' });
    const validateUrl = `${server.url}/v1/licenses/validate`;
    const body = JSON.stringify({ key, fingerprint: 'bench-machine', product: 'default' });
    const sample = await (await fetch(validateUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
    if ((sample as { code?: string }).code !== 'VALID') throw new Error(`bench license does not validate: ${JSON.stringify(sample)}`);

    const bare = await bareServer(sample);
    const bareReading = await bareServer(sample, true);
    stops.push(bare.close, bareReading.close);
    // Warm both up (JIT, connections), then measure.
    await runLoad({ url: bare.url, bodies: [body], durationSeconds: 3 });
    await runLoad({ url: validateUrl, bodies: [body], durationSeconds: 3 });
    // Three alternating rounds, bare then validate, each figure the median of its three runs and
    // the ratio the median of the rounds' ratios: a noisy moment on this shared machine then moves
    // one round, not the verdict.
    const bareRuns: LoadResult[] = [];
    const hotRuns: LoadResult[] = [];
    for (let round = 0; round < 3; round += 1) {
      bareRuns.push(checkClean('bare', await runLoad({ url: bare.url, bodies: [body], durationSeconds })));
      hotRuns.push(checkClean('validate', await runLoad({ url: validateUrl, bodies: [body], durationSeconds })));
    }
    await runLoad({ url: bareReading.url, bodies: [body], durationSeconds: 3 });
    const bareReadingResult = checkClean('bare reading the body', await runLoad({ url: bareReading.url, bodies: [body], durationSeconds }));
    const bareResult = medianRun(bareRuns);
    const hot = medianRun(hotRuns);
    const roundRatios = hotRuns.map((run, i) => run.requestsPerSecond / (bareRuns[i] as LoadResult).requestsPerSecond);
    // Latency at half the maximum, at a constant rate (bench/constant-rate-load.ts), on the bare
    // route (the floor of this machine and generator), on the bare route that reads the body (the
    // floor of any route that takes input) and on validate, in two alternating rounds so that a
    // noisy moment shows as a difference between rounds rather than between routes.
    const halfRate = Math.round(hot.requestsPerSecond / 2);
    const atRate = async (name: string, url: string): Promise<ConstantRateResult> => {
      await runConstantRate({ url, body, rate: halfRate, durationSeconds: 2 });
      const result = await runConstantRate({ url, body, rate: halfRate, durationSeconds });
      if (result.success < 1) throw new Error(`${name} at ${halfRate}/s: only ${(result.success * 100).toFixed(2)}% answered 2xx`);
      return result;
    };
    const bareAtHalf: ConstantRateResult[] = [];
    const bareReadingAtHalf: ConstantRateResult[] = [];
    const atHalf: ConstantRateResult[] = [];
    for (let round = 0; round < 2; round += 1) {
      bareAtHalf.push(await atRate('bare route', bare.url));
      bareReadingAtHalf.push(await atRate('bare route reading the body', bareReading.url));
      atHalf.push(await atRate('validate', validateUrl));
    }

    // Cache miss: 20,000 licenses, a cache too small to hold any of them for long.
    const many = await keyward.licenses.issueMany(20_000, { planId: 'metered', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!many.ok) throw new Error(many.refusal.message);
    const missServer = await startServer({ ...config, cache: { maxStaleMs: 5_000, maxEntries: 1 } }, { logger: pino({ level: 'silent' }) });
    stops.push(() => missServer.stop());
    const missBodies = many.value.map((item) => JSON.stringify({ key: item.key, product: 'default' }));
    const missUrl = `${missServer.url}/v1/licenses/validate`;
    await runLoad({ url: missUrl, bodies: missBodies, durationSeconds: 3 });
    const miss = await runLoad({ url: missUrl, bodies: missBodies, durationSeconds });
    checkClean('cache miss', miss);

    const memory = await measureCacheMemory(server, 1 + many.value.length);
    const ratio = median(roundRatios);
    const perRound = (runs: readonly LoadResult[]) => runs.map((run) => round(run.requestsPerSecond)).join(' / ');
    const rows: HttpBenchRow[] = [
      { benchmark: `bare Koa route, same JSON (baseline; median of ${perRound(bareRuns)})`, 'req/s': round(bareResult.requestsPerSecond), 'p50 ms': String(bareResult.p50Ms), 'p99 ms': String(bareResult.p99Ms), ratio: '1.00', goal: '-', met: '-' },
      { benchmark: 'bare Koa route reading the JSON body (2nd reference)', 'req/s': round(bareReadingResult.requestsPerSecond), 'p50 ms': String(bareReadingResult.p50Ms), 'p99 ms': String(bareReadingResult.p99Ms), ratio: (bareReadingResult.requestsPerSecond / bareResult.requestsPerSecond).toFixed(2), goal: '-', met: '-' },
      { benchmark: `validate, cached, valid key (median of ${perRound(hotRuns)}; round ratios ${roundRatios.map((r) => r.toFixed(2)).join(' / ')})`, 'req/s': round(hot.requestsPerSecond), 'p50 ms': String(hot.p50Ms), 'p99 ms': String(hot.p99Ms), ratio: ratio.toFixed(2), goal: '>= 0.6x bare', met: ratio >= 0.6 ? 'yes' : 'NO' },
      rateRow(`bare Koa route at the same constant rate (${round(halfRate)}/s, 2 rounds)`, bareAtHalf, '-', '-'),
      rateRow(`bare Koa route reading the JSON body, same rate (${round(halfRate)}/s, 2 rounds)`, bareReadingAtHalf, '-', '-'),
      rateRow(`validate, cached, at half max (${round(halfRate)}/s constant, 2 rounds)`, atHalf, 'p99 < 5 ms, rate sent in full', atHalf.every((r) => r.p99Ms < 5 && sentInFull(r, halfRate)) ? 'yes' : 'NO'),
      { benchmark: 'validate, cache miss (MongoDB lookup)', 'req/s': round(miss.requestsPerSecond), 'p50 ms': String(miss.p50Ms), 'p99 ms': String(miss.p99Ms), ratio: (miss.requestsPerSecond / bareResult.requestsPerSecond).toFixed(2), goal: '-', met: '-' },
    ];
    return { rows, memory };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Resident and heap size before and after putting 100,000 stored licenses in the cache. */
async function measureCacheMemory(server: RunningServer, alreadyStored: number): Promise<Record<string, string>> {
  const { keyward } = server;
  const needed = 100_000 - alreadyStored;
  if (needed > 0) {
    const issued = await keyward.licenses.issueMany(needed, { planId: 'pro', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
  }
  // The cache is emptied first, so the difference is what 100,000 cached licenses hold.
  keyward.cache.clear();
  globalThis.gc?.();
  const before = process.memoryUsage();
  let after: string | undefined;
  while (keyward.cache.size < 100_000) {
    const page = await keyward.licenses.list({ limit: 500, ...(after === undefined ? {} : { after }) });
    if (page.length === 0) break;
    for (const record of page) keyward.cache.set(record.license.keyDigest, record.license);
    after = page.at(-1)?.license.id;
  }
  globalThis.gc?.();
  const filled = process.memoryUsage();
  const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
  return {
    'licenses cached': keyward.cache.size.toLocaleString('en-US'),
    'rss before': mb(before.rss),
    'rss after': mb(filled.rss),
    'heap used before': mb(before.heapUsed),
    'heap used after': mb(filled.heapUsed),
    'heap per cached license': `${Math.round((filled.heapUsed - before.heapUsed) / Math.max(1, keyward.cache.size))} bytes`,
  };
}
