import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
import { parseWorkerConfig, type WorkerConfig } from './config.js';

/** A connected Keyward worker. */
export interface RunningWorker {
  /** Closes the Redis and MongoDB connections. */
  stop(): Promise<void>;
}

/**
 * Composition root of the background worker: connects to Redis and MongoDB and reports ready.
 *
 * It runs no jobs yet: the job catalogue and its consumers (provisioning, abuse evaluation,
 * event delivery) arrive with the issues that introduce them. Until then the worker proves
 * that its process, configuration and connections work end to end.
 *
 * Unlike the server, it connects eagerly and fails when a data store is unreachable: a worker
 * has no readiness endpoint to report that through.
 *
 * @param config - Parsed configuration (see `parseWorkerConfig`).
 */
export async function startWorker(config: WorkerConfig): Promise<RunningWorker> {
  const logger = pino({ name: 'keyward-worker', level: config.logLevel });
  const redis = new Redis(config.redisUrl, { lazyConnect: true });
  redis.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error'));
  const mongo = new MongoClient(config.mongoUrl);
  try {
    await Promise.all([redis.connect(), mongo.connect()]);
    await Promise.all([redis.ping(), mongo.db('admin').command({ ping: 1 })]);
  } catch (error) {
    redis.disconnect();
    await mongo.close();
    throw error;
  }
  logger.info('worker ready');

  return {
    async stop() {
      // QUIT would wait in ioredis's offline queue while Redis is unreachable.
      await Promise.all([redis.status === 'ready' ? redis.quit() : redis.disconnect(), mongo.close()]);
      logger.info('worker stopped');
    },
  };
}

if (isEntryPoint(import.meta.url)) {
  runUntilSignal({ name: 'keyward-worker' }, () => startWorker(parseWorkerConfig(process.env)));
}
