import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';

import { createApp } from './app.js';
import { parseServerConfig, type ServerConfig } from './config.js';

/** A listening Keyward HTTP server. */
export interface RunningServer {
  /** Base URL it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops accepting connections, lets requests in flight finish, then closes Redis and MongoDB. */
  stop(): Promise<void>;
}

/**
 * Composition root of the HTTP server: builds the logger and the clients from `config`, hands
 * them to the app, and listens.
 *
 * Neither client is awaited here: a data store that is down at start makes `/readyz` answer
 * 503 until it comes up, rather than keeping the process from starting.
 *
 * @param config - Parsed configuration (see `parseServerConfig`).
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger = pino({ name: 'keyward-server', level: config.logLevel });
  const redis = new Redis(config.redisUrl);
  // ioredis reconnects on its own; without a listener it prints every failure to stderr.
  redis.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error'));
  const mongo = new MongoClient(config.mongoUrl);

  const app = createApp({ redis, mongo, logger });
  const server = app.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    redis.disconnect();
    await mongo.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url }, 'server listening');

  return {
    url,
    async stop() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      // close() waits for keep-alive sockets; idle ones can go now, busy ones after their response.
      server.closeIdleConnections();
      await closed;
      // QUIT would wait in ioredis's offline queue while Redis is unreachable.
      await Promise.all([redis.status === 'ready' ? redis.quit() : redis.disconnect(), mongo.close()]);
      logger.info('server stopped');
    },
  };
}

/** Runs the server until SIGINT or SIGTERM. */
async function main(): Promise<void> {
  const server = await startServer(parseServerConfig(process.env, process.cwd()));
  const shutdown = (): void => {
    // A connection that never finishes must not keep the process alive forever.
    setTimeout(() => process.exit(1), 10_000).unref();
    server.stop().catch((error: unknown) => {
      process.stderr.write(`keyward-server: shutdown failed: ${String(error)}\n`);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`keyward-server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
