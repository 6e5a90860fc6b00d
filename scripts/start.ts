/**
 * `npm start`: runs Keyward locally with everything it needs.
 *
 * Starts Redis and a MongoDB-wire server that keep their data in KEYWARD_DATA_DIR (default
 * `./.keyward`), unless REDIS_URL / MONGODB_URL point at existing ones; then the HTTP server
 * and the worker in this process. SIGINT / SIGTERM stop them in reverse order: server and
 * worker first, so requests in flight can still reach the data stores, the data stores last.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { pino } from 'pino';

import { startLocalServices } from '../embedded/local-services.js';
import { loadDevSecrets } from './dev-secrets.js';
import { parseEnvironment, parseServerConfig, serverEnvironment } from '../server/config.js';
import { serverWiring, startServer } from '../server/main.js';
import { parseWorkerConfig } from '../worker/config.js';
import { startWorker } from '../worker/main.js';

/** The server's rules for the variables this launcher reads, with the data-store URLs optional. */
const launcherEnvironment = serverEnvironment
  .pick({ REDIS_URL: true, MONGODB_URL: true, KEYWARD_DATA_DIR: true, LOG_LEVEL: true })
  .partial({ REDIS_URL: true, MONGODB_URL: true });

/** Writes variables as a dotenv file (values quoted, newlines escaped), readable by the owner only. */
function writeLocalEnv(file: string, variables: Record<string, string>): void {
  const lines = Object.entries(variables).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

async function main(): Promise<void> {
  const launch = parseEnvironment(launcherEnvironment, process.env);
  // Resolved against the working directory, as parseServerConfig does.
  const dataDir = resolve(process.cwd(), launch.KEYWARD_DATA_DIR);
  const logger = pino({ name: 'keyward-start', level: launch.LOG_LEVEL });

  const services = await startLocalServices({
    persistent: true,
    dataDir,
    ...(launch.REDIS_URL === undefined ? {} : { redisUrl: launch.REDIS_URL }),
    ...(launch.MONGODB_URL === undefined ? {} : { mongoUrl: launch.MONGODB_URL }),
    onNotice: (message) => logger.info(message),
  });
  logger.info({ redisUrl: services.redisUrl, mongoUrl: services.mongoUrl, mongoKind: services.mongoKind, dataDir }, 'data stores ready');

  // Secrets the environment leaves unset come from the data directory (made on first run).
  const dev = loadDevSecrets(dataDir);
  const missing = Object.entries(dev.secrets).filter(([name]) => (process.env[name] ?? '') === '');
  if (missing.length > 0) {
    logger.warn(
      { file: dev.file, variables: missing.map(([name]) => name), created: dev.created },
      'using local development secrets for variables the environment does not set; set them in production',
    );
  }
  const env = { ...Object.fromEntries(missing), ...process.env, REDIS_URL: services.redisUrl, MONGODB_URL: services.mongoUrl };
  // The CLI reaches this running instance through this file (`npm run keyward:local -- …`).
  writeLocalEnv(join(dataDir, 'local.env'), {
    REDIS_URL: services.redisUrl,
    MONGODB_URL: services.mongoUrl,
    ...Object.fromEntries(Object.keys(dev.secrets).map((name) => [name, (env as Record<string, string | undefined>)[name] ?? ''])),
  });
  const stops: Array<() => Promise<void>> = [() => services.stop()];
  const stopAll = async (): Promise<void> => {
    // Newest first: the server and worker before the data stores they use.
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        logger.error({ err: error }, 'stopping failed');
        process.exitCode = 1;
      }
    }
    stops.length = 0;
  };

  try {
    const worker = await startWorker(parseWorkerConfig(env));
    stops.push(() => worker.stop());
    const server = await startServer(parseServerConfig(env, process.cwd()), serverWiring);
    stops.push(() => server.stop());
    logger.info({ url: server.url }, 'Keyward is running; Ctrl-C to stop');
  } catch (error) {
    await stopAll();
    throw error;
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    setTimeout(() => process.exit(1), 20_000).unref();
    void stopAll().then(() => logger.info('stopped'));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`keyward start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
