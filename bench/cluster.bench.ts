/**
 * The server on every core (issue 15): `processes` Keyward server processes under
 * server/cluster.ts against the same number of bare Koa processes (bare-cluster.ts), one
 * cached valid key, in the same run; autocannon in a child at a lower priority, 50 connections.
 * On a 2-core machine the load generator, Redis and the MongoDB-wire JVM share the cores with
 * the servers, so the figure that carries over is the ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import { MongoClient } from 'mongodb';

import { findFreePort } from '../embedded/find-free-port.js';
import { startLocalServices } from '../embedded/local-services.js';
import { createKeyward } from '../lib/service/create-keyward.js';
import { generateTokenKeyPair } from '../lib/tokens/validation-token.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue } from '../server/config.js';
import { runLoad, type LoadResult } from './autocannon-run.js';

const CLUSTER = fileURLToPath(new URL('../server/cluster.ts', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-cluster.ts', import.meta.url));

/** Starts a cluster entry and waits until it answers a POST with 200. */
async function startProcesses(entry: string, env: Record<string, string>, probeBody: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await findFreePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}/v1/licenses/validate`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: probeBody });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) throw new Error(`${entry} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** One row of the printed table. */
export interface ClusterBenchRow {
  readonly benchmark: string;
  readonly 'req/s': string;
  readonly 'p50 ms': string;
  readonly 'p99 ms': string;
  readonly ratio: string;
}

/** Runs N Keyward processes against N bare processes; `processes` defaults to the core count. */
export async function benchCluster(durationSeconds = 10, processes = availableParallelism()): Promise<ClusterBenchRow[]> {
  const services = await startLocalServices({ persistent: false });
  const stops: Array<() => Promise<void>> = [() => services.stop()];
  try {
    const secrets = { digest: randomBytes(32).toString('hex'), encryption: randomBytes(32).toString('hex') };
    const mongo = await new MongoClient(services.mongoUrl).connect();
    stops.push(() => mongo.close());
    const plans = readPlanCatalogue(DEFAULT_PLANS_FILE);
    const issuer = await createKeyward({ db: mongo.db('bench'), plans, secrets });
    const issued = await issuer.licenses.issue({ planId: 'metered', periodEndsAt: new Date(Date.now() + 365 * 86_400_000) });
    if (!issued.ok) throw new Error(issued.refusal.message);
    const body = JSON.stringify({ key: issued.value.key, product: 'default' });
    const common = { WEB_CONCURRENCY: String(processes), LOG_LEVEL: 'warn' };
    const keyward = await startProcesses(
      CLUSTER,
      {
        ...common,
        REDIS_URL: services.redisUrl,
        MONGODB_URL: services.mongoUrl,
        MONGODB_DB: 'bench',
        KEYWARD_DIGEST_SECRET: secrets.digest,
        KEYWARD_ENCRYPTION_KEY: secrets.encryption,
        KEYWARD_SIGNING_KEY: generateTokenKeyPair().privateKey,
        RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
        RATE_LIMIT_PER_KEY_PER_MINUTE: '100000000',
      },
      body,
    );
    stops.push(keyward.stop);
    const sample = await (await fetch(keyward.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    if (!sample.includes('"VALID"')) throw new Error(`bench license does not validate: ${sample}`);
    const bare = await startProcesses(BARE, { ...common, BARE_ANSWER: sample }, body);
    stops.push(bare.stop);

    await runLoad({ url: bare.url, bodies: [body], durationSeconds: 3 });
    await runLoad({ url: keyward.url, bodies: [body], durationSeconds: 3 });
    const bareRuns: LoadResult[] = [];
    const keywardRuns: LoadResult[] = [];
    for (let round = 0; round < 3; round++) {
      bareRuns.push(await runLoad({ url: bare.url, bodies: [body], durationSeconds }));
      keywardRuns.push(await runLoad({ url: keyward.url, bodies: [body], durationSeconds }));
    }
    const median = (runs: LoadResult[]) => [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[1] as LoadResult;
    const ratios = keywardRuns.map((run, i) => run.requestsPerSecond / (bareRuns[i] as LoadResult).requestsPerSecond).sort((a, b) => a - b);
    const each = (runs: LoadResult[]) => runs.map((run) => Math.round(run.requestsPerSecond).toLocaleString('en-US')).join(' / ');
    const row = (benchmark: string, result: LoadResult, ratio: string): ClusterBenchRow => ({
      benchmark,
      'req/s': Math.round(result.requestsPerSecond).toLocaleString('en-US'),
      'p50 ms': String(result.p50Ms),
      'p99 ms': String(result.p99Ms),
      ratio,
    });
    return [
      row(`${processes} bare Koa processes, same JSON (baseline; runs ${each(bareRuns)})`, median(bareRuns), '1.00'),
      row(`${processes} Keyward server processes (server/cluster.ts), cached valid key (runs ${each(keywardRuns)})`, median(keywardRuns), `${(ratios[1] as number).toFixed(2)} (median of rounds)`),
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
