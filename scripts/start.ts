/**
 * `npm start`: runs Keyward locally with everything it needs.
 *
 * Takes the data directory KEYWARD_DATA_DIR (default `./.keyward`) for this process (one
 * instance per directory), starts Redis and a MongoDB-wire server that keep their data there,
 * unless REDIS_URL / MONGODB_URL point at existing ones, checks that both answer, then runs the
 * worker and the HTTP server in this process and writes `<data dir>/local.env` for the CLI.
 *
 * Every end is bounded and said in one line: a failed start-up names what to change and exits
 * non-zero within seconds; SIGINT / SIGTERM stop the server and worker first (requests in flight
 * still reach the data stores), the data stores last, each step within a deadline, and the last
 * line says "stopped" with whatever was given up on.
 */
import { resolve } from 'node:path';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

import { lockDataDir } from '../embedded/data-dir-lock.js';
import { startLocalServices } from '../embedded/local-services.js';
import { createLogger } from '../runtime/create-logger.js';
import { mongoClientOptions } from '../runtime/mongo-client-options.js';
import { describeConnectFailure, messageOf, redactUrl } from '../runtime/startup-error.js';
import { describeUnfinished, stopWithin, type StopOutcome } from '../runtime/stop-within.js';
import { parseEnvironment, parseServerConfig, serverEnvironment } from '../server/config.js';
import { serverWiring, startServer } from '../server/main.js';
import { parseWorkerConfig } from '../worker/config.js';
import { startWorker } from '../worker/main.js';
import { loadDevSecrets } from './dev-secrets.js';
import { removeLocalEnv, writeLocalEnv } from './local-env.js';

/** The server's rules for the variables this launcher reads, with the data-store URLs optional. */
const launcherEnvironment = serverEnvironment
  .pick({ REDIS_URL: true, MONGODB_URL: true, KEYWARD_DATA_DIR: true, LOG_LEVEL: true, LOG_FORMAT: true })
  .partial({ REDIS_URL: true, MONGODB_URL: true });

/** Longest wait for each part to stop, in ms. */
const STOP_STEP_MS = 5_000;
/** Longest the process lingers after a failed start-up before exiting anyway, in ms. */
const FAILED_START_EXIT_MS = 5_000;

/** Thrown between start-up steps once a signal asked to stop. */
class StopRequested extends Error {
  override readonly name = 'StopRequested';
}

/** A part this launcher started, stopped in reverse order. */
interface Part {
  readonly name: string;
  stop(): Promise<void>;
}

/**
 * Checks that both data stores answer before anything relies on them, so a wrong URL is named
 * at once: Redis after a short connect timeout, MongoDB within the server-selection time
 * (`serverSelectionTimeoutMS` in MONGODB_URL, 5 s by default).
 */
async function checkDataStores(redisUrl: string, mongoUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // ioredis rejects connect() with "Connection is closed."; the socket error says why.
  let redisError: unknown;
  redis.on('error', (error: unknown) => (redisError ??= error));
  const mongo = new MongoClient(mongoUrl, mongoClientOptions(mongoUrl));
  try {
    const [redisReady, mongoReady] = await Promise.allSettled([
      redis.connect().then(() => redis.ping()),
      mongo.connect().then(() => mongo.db('admin').command({ ping: 1 })),
    ]);
    if (redisReady.status === 'rejected') throw describeConnectFailure(redisError ?? redisReady.reason, { name: 'Redis', variable: 'REDIS_URL', url: redisUrl });
    if (mongoReady.status === 'rejected') throw describeConnectFailure(mongoReady.reason, { name: 'MongoDB', variable: 'MONGODB_URL', url: mongoUrl });
  } finally {
    redis.disconnect();
    await mongo.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const launch = parseEnvironment(launcherEnvironment, process.env);
  // Resolved against the working directory, as parseServerConfig does.
  const dataDir = resolve(process.cwd(), launch.KEYWARD_DATA_DIR);
  const logger = createLogger({ name: 'keyward-start', level: launch.LOG_LEVEL, format: launch.LOG_FORMAT });

  const parts: Part[] = [];
  const stopAll = async (): Promise<StopOutcome[]> => {
    const outcomes: StopOutcome[] = [];
    // Newest first: the server and worker before the data stores they use.
    for (const part of parts.splice(0).reverse()) outcomes.push(await stopWithin(part.name, STOP_STEP_MS, () => part.stop()));
    return outcomes;
  };

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'stopped at once on a second signal, without waiting for the parts still stopping');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    void stopAll().then((outcomes) => {
      const unfinished = describeUnfinished(outcomes);
      if (unfinished.length > 0) {
        logger.warn({ gaveUpOn: unfinished }, `stopped, giving up on: ${unfinished.join(', ')}`);
        process.exit(1);
      }
      logger.info('stopped');
      process.exit(0);
    });
  };
  // From the start: a signal during start-up stops what has started so far.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  /** Called between start-up steps: a stop was asked for, so start nothing more. */
  const proceed = (): void => {
    if (stopping) throw new StopRequested();
  };

  try {
    const lock = lockDataDir(dataDir);
    parts.push({ name: 'data directory lock', stop: () => Promise.resolve(lock.release()) });

    const services = await startLocalServices({
      persistent: true,
      dataDir,
      ...(launch.REDIS_URL === undefined ? {} : { redisUrl: launch.REDIS_URL }),
      ...(launch.MONGODB_URL === undefined ? {} : { mongoUrl: launch.MONGODB_URL }),
      onNotice: (message) => logger.info(message),
    });
    parts.push({ name: 'data stores', stop: () => services.stop() });
    proceed();
    await checkDataStores(services.redisUrl, services.mongoUrl);
    logger.info({ redisUrl: redactUrl(services.redisUrl), mongoUrl: redactUrl(services.mongoUrl), mongoKind: services.mongoKind, dataDir }, 'data stores ready');

    // Secrets the environment leaves unset come from the data directory (made on first run).
    const dev = loadDevSecrets(dataDir);
    const missing = Object.entries(dev.secrets).filter(([name]) => (process.env[name] ?? '') === '');
    if (missing.length > 0) {
      logger.warn(
        { file: dev.file, variables: missing.map(([name]) => name), created: dev.created },
        'using local development secrets for variables the environment does not set; set them in production',
      );
    }
    const env: Record<string, string | undefined> = { ...Object.fromEntries(missing), ...process.env, REDIS_URL: services.redisUrl, MONGODB_URL: services.mongoUrl };

    const worker = await startWorker(parseWorkerConfig(env), { stopStepTimeoutMs: STOP_STEP_MS - 1_000 });
    parts.push({ name: 'worker', stop: () => worker.stop() });
    proceed();
    const server = await startServer(parseServerConfig(env, process.cwd()), { ...serverWiring, stopStepTimeoutMs: STOP_STEP_MS - 1_000 });
    parts.push({ name: 'server', stop: () => server.stop() });
    proceed();

    // The CLI reaches this running instance through this file (`npm run keyward:local -- …`).
    const envFile = writeLocalEnv(
      dataDir,
      {
        KEYWARD_URL: server.url,
        KEYWARD_DATA_DIR: dataDir,
        REDIS_URL: services.redisUrl,
        MONGODB_URL: services.mongoUrl,
        ...(env['MONGODB_DB'] === undefined ? {} : { MONGODB_DB: env['MONGODB_DB'] }),
        ...(env['KEYWARD_PLANS_FILE'] === undefined ? {} : { KEYWARD_PLANS_FILE: resolve(process.cwd(), env['KEYWARD_PLANS_FILE']) }),
        ...Object.fromEntries(Object.keys(dev.secrets).map((name) => [name, env[name] ?? ''])),
      },
      [`written by npm start (process ${process.pid}) at ${new Date().toISOString()}; removed when it stops`, `shell: set -a; . ${dataDir}/local.env; set +a`],
    );
    parts.push({ name: 'local.env', stop: () => Promise.resolve(removeLocalEnv(dataDir)) });
    logger.info({ url: server.url, dataDir, envFile }, 'Keyward is running; Ctrl-C to stop');
  } catch (error) {
    // The shutdown under way stops the rest; this stops what started while it was asked for.
    if (error instanceof StopRequested) return void (await stopAll());
    // One line that says what to change; the parts already started are stopped, within bounds.
    process.stderr.write(`keyward start: ${messageOf(error)}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), FAILED_START_EXIT_MS).unref();
    const unfinished = describeUnfinished(await stopAll());
    if (unfinished.length > 0) process.stderr.write(`keyward start: gave up stopping ${unfinished.join(', ')}\n`);
    process.exit(1);
  }

}

main().catch((error: unknown) => {
  process.stderr.write(`keyward start: ${messageOf(error)}\n`);
  process.exit(1);
});
