import type { Redis } from 'ioredis';
import { createRedisConnection } from '../runtime/redis-connection.js';
import { MongoClient } from 'mongodb';
import { pino, type Logger } from 'pino';

import { createKeyward } from '../lib/service/create-keyward.js';
import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
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
  const logger = options.logger ?? pino({ name: 'keyward-worker', level: config.logLevel });
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);
  const redis = createRedisConnection(config, { lazyConnect: true });
  redis.on('error', warn('redis connection error'));
  const extraRedis: Redis[] = [];
  const mongo = new MongoClient(config.mongoUrl);

  const closeClients = async (): Promise<void> => {
    // QUIT would wait in ioredis's offline queue while Redis is unreachable.
    for (const client of [...extraRedis, redis]) {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
    await mongo.close();
  };

  const running: Array<{ name: string; module: RunningWorkerModule }> = [];
  const stopModules = async (): Promise<void> => {
    for (const { name, module } of running.reverse()) {
      try {
        await module.stop();
      } catch (error) {
        logger.error({ err: error, module: name }, 'worker module failed to stop');
      }
    }
    running.length = 0;
  };

  let context: WorkerContext;
  try {
    await Promise.all([redis.connect(), mongo.connect()]);
    await Promise.all([redis.ping(), mongo.db('admin').command({ ping: 1 })]);
    const db = mongo.db(config.mongoDb);
    const keyward = await createKeyward({
      db,
      redis,
      plans: config.plans,
      secrets: config.secrets,
      expiryGraceMs: config.expiryGraceMs,
      onError: warn('background sync failed'),
    });
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
    await stopModules();
    await closeClients();
    throw error;
  }
  logger.info({ modules: running.map(({ name }) => name) }, 'worker ready');

  return {
    context,
    async stop() {
      await stopModules();
      await context.keyward.close();
      await closeClients();
      logger.info('worker stopped');
    },
  };
}

if (isEntryPoint(import.meta.url)) {
  runUntilSignal({ name: 'keyward-worker' }, () => startWorker(parseWorkerConfig(process.env)));
}
