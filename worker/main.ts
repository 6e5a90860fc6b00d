import type { Redis } from 'ioredis';
import { createRedisConnection } from '../runtime/redis-connection.js';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';

import { createKeyward } from '../lib/service/create-keyward.js';
import { createLogger } from '../runtime/create-logger.js';
import { mongoClientOptions } from '../runtime/mongo-client-options.js';
import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
import { describeUnfinished, stopWithin, type StopOutcome } from '../runtime/stop-within.js';
import { describeConnectFailure, redactUrl } from '../runtime/startup-error.js';
import { parseWorkerConfig, type WorkerConfig } from './config.js';
import { WORKER_MODULES } from './modules.js';
import type { WorkerHooks } from './worker-hooks.js';
import type { RunningWorkerModule, WorkerContext, WorkerModule } from './worker-module.js';

/** A connected Keyward worker. */
export interface RunningWorker {
  /** The context its modules share (tests read the hooks and the database through it). */
  readonly context: WorkerContext;
  /** Stops every module (newest first), then closes the Redis and MongoDB connections. */
  stop(): Promise<void>;
}

/** Options for {@link startWorker}. */
export interface StartWorkerOptions {
  /** Modules to run. Default: every module of `worker/modules.ts`. */
  readonly modules?: readonly WorkerModule[];
  /** Logger. Default: pino at the configured level. */
  readonly logger?: Logger;
  /** Longest wait for each module's stop, and for closing the clients, in ms; then it is given up on and named in the log. Default 3,000. */
  readonly stopStepTimeoutMs?: number;
}

/**
 * Composition root of the background worker: connects to Redis and MongoDB, wires the license
 * services, and starts each worker module with one shared {@link WorkerContext}.
 *
 * Unlike the server, it connects eagerly and fails when a data store is unreachable: a worker
 * has no readiness endpoint to report that through.
 *
 * @param config - Parsed configuration (see `parseWorkerConfig`).
 */
export async function startWorker(config: WorkerConfig, options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger({ name: 'keyward-worker', level: config.logLevel, ...(config.logFormat === undefined ? {} : { format: config.logFormat }) });
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);
  const redis = createRedisConnection(config, { lazyConnect: true });
  redis.on('error', warn('redis connection error'));
  const extraRedis: Redis[] = [];
  const mongo = new MongoClient(config.mongoUrl, mongoClientOptions(config.mongoUrl));

  const closeClients = async (): Promise<void> => {
    // QUIT would wait in ioredis's offline queue while Redis is unreachable.
    for (const client of [...extraRedis, redis]) {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
    await mongo.close();
  };

  const stopStepMs = options.stopStepTimeoutMs ?? 3_000;
  const running: Array<{ name: string; module: RunningWorkerModule }> = [];
  const stopModules = async (): Promise<StopOutcome[]> => {
    const outcomes: StopOutcome[] = [];
    // Bounded: a BullMQ worker closing while Redis is away waits for it.
    for (const { name, module } of running.reverse()) outcomes.push(await stopWithin(`worker module ${name}`, stopStepMs, () => module.stop()));
    running.length = 0;
    return outcomes;
  };
  let keywardToClose: { close(): Promise<void> } | undefined;

  let context: WorkerContext;
  try {
    logger.info({ redisUrl: redactUrl(config.redisUrl), mongoUrl: redactUrl(config.mongoUrl) }, 'connecting to the data stores');
    const [redisReady, mongoReady] = await Promise.allSettled([
      redis.connect().then(() => redis.ping()),
      mongo.connect().then(() => mongo.db('admin').command({ ping: 1 })),
    ]);
    if (redisReady.status === 'rejected') throw describeConnectFailure(redisReady.reason, { name: 'Redis', variable: 'REDIS_URL', url: config.redisUrl });
    if (mongoReady.status === 'rejected') throw describeConnectFailure(mongoReady.reason, { name: 'MongoDB', variable: 'MONGODB_URL', url: config.mongoUrl });
    logger.info('data stores connected');
    const db = mongo.db(config.mongoDb);
    const keyward = await createKeyward({
      db,
      redis,
      plans: config.plans,
      secrets: config.secrets,
      expiryGraceMs: config.expiryGraceMs,
      onError: warn('background sync failed'),
    });
    keywardToClose = keyward;
    const hooks: WorkerHooks = {};
    context = {
      config,
      db,
      keyward,
      logger,
      redis,
      hooks,
      queuePrefix: config.queuePrefix,
      createRedis(purpose) {
        const client = createRedisConnection(config, { maxRetriesPerRequest: null, connectionName: `keyward-worker:${purpose}` });
        client.on('error', warn(`redis connection error (${purpose})`));
        extraRedis.push(client);
        return client;
      },
    };
    for (const module of options.modules ?? WORKER_MODULES) {
      running.push({ name: module.name, module: await module.start(context) });
      logger.info({ module: module.name }, 'worker module started');
    }
  } catch (error) {
    // Everything opened so far, the license services' background sync included, or the
    // process would linger retrying a connection it no longer needs.
    await stopModules();
    await keywardToClose?.close().catch(() => undefined);
    await closeClients();
    throw error;
  }
  logger.info({ modules: running.map(({ name }) => name) }, 'worker ready');

  return {
    context,
    async stop() {
      const outcomes = await stopModules();
      outcomes.push(await stopWithin('license services', stopStepMs, () => context.keyward.close()));
      outcomes.push(await stopWithin('data store connections', stopStepMs, closeClients));
      const unfinished = describeUnfinished(outcomes);
      if (unfinished.length > 0) {
        for (const client of [...extraRedis, redis]) client.disconnect();
        logger.warn({ gaveUpOn: unfinished }, `worker stopped, giving up on: ${unfinished.join(', ')}`);
      } else {
        logger.info('worker stopped');
      }
    },
  };
}

if (isEntryPoint(import.meta.url)) {
  runUntilSignal({ name: 'keyward-worker' }, () => startWorker(parseWorkerConfig(process.env)));
}
