/**
 * Composition root of the HTTP server: parses nothing itself (the config comes in), builds the
 * clients, services, sink, limits and metrics, hands them to the app, and listens. Graceful
 * shutdown: stop accepting, finish requests in flight, flush the event buffer, then close.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Router } from '@koa/router';
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { pino, type Logger } from 'pino';

import { createKeyward, type Keyward } from '../lib/service/create-keyward.js';
import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
import { MongoAdminTokenStore } from '../lib/store/mongo-admin-token-store.js';
import { MongoEmailOutbox } from '../lib/store/mongo-email-outbox.js';
import { MailWake } from '../worker/mail/mail-wake.js';
import { AdminAuth } from './auth/admin-auth.js';
import { ADMIN_OPERATIONS } from './routes/admin-operations.js';
import { addAdminRoutes } from './routes/admin-routes.js';
import { ADMIN_CASE_OPERATIONS } from './routes/admin-case-operations.js';
import { wireAdminCaseRoutes } from './routes/admin-case-wiring.js';
import { ADMIN_CUSTOMER_OPERATIONS } from './routes/admin-customer-operations.js';
import { addAdminCustomerRoutes } from './routes/admin-customer-routes.js';
import { ADMIN_WEBHOOK_OPERATIONS } from './routes/admin-webhook-operations.js';
import { wireAdminWebhookRoutes } from './routes/admin-webhook-wiring.js';
import type { OpenApiOperation } from './openapi.js';
import type { RunningServerModule, ServerModule } from './server-module.js';
import { billingServerModule } from './routes/billing-server-module.js';
import { createRequestListener } from './app.js';
import { parseServerConfig, type ServerConfig } from './config.js';
import type { EventSinkStats } from './events/event-sink.js';
import { RedisStreamEventSink } from './events/redis-stream-event-sink.js';
import { createClientIpResolver } from './http/client-ip.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { RateLimits } from './rate-limit/rate-limits.js';

/** A listening Keyward HTTP server. */
export interface RunningServer {
  /** Base URL it listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The services behind it (tests and the worker-in-process launcher use them). */
  readonly keyward: Keyward;
  /** Delivers buffered validation events now (tests, and operators before maintenance). */
  flushEvents(): Promise<void>;
  /** Counters of the event sink. */
  eventStats(): EventSinkStats;
  /** Stops accepting connections, lets requests in flight finish, flushes events, closes clients. */
  stop(): Promise<void>;
}

/** What route wiring gets from the server. */
export interface AddRoutesContext {
  readonly keyward: Keyward;
  readonly db: Db;
  readonly logger: Logger;
  readonly config: ServerConfig;
  /** The server's shared command connection (not for blocking commands). */
  readonly redis: Redis;
  /** Registers a cleanup that `stop()` runs after requests in flight finished, before the clients close. */
  readonly onStop: (cleanup: () => Promise<void>) => void;
}

/** Extra wiring a caller may add (the admin API, from its own module). */
export interface StartServerOptions {
  /** Adds routes to the router (e.g. the admin API). */
  readonly addRoutes?: (router: Router, context: AddRoutesContext) => void;
  /** The routes addRoutes adds, for the OpenAPI document. */
  readonly operations?: readonly OpenApiOperation[];
  /** Logger to use. Default: pino at the configured level. */
  readonly logger?: Logger;
  /** Capabilities with their own clients and raw routes (the Stripe webhook). Default: none. */
  readonly modules?: readonly ServerModule[];
}

/** Connections that must fail fast rather than queue while Redis is away (hot path helpers). */
const FAIL_FAST = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 250 } as const;

/** Builds everything from `config` and listens. */
export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ name: 'keyward-server', level: config.logLevel });
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const sinkRedis = new Redis(config.redisUrl, FAIL_FAST);
  const limitRedis = new Redis(config.redisUrl, FAIL_FAST);
  for (const client of [redis, sinkRedis, limitRedis]) client.on('error', warn('redis connection error'));
  const mongo = new MongoClient(config.mongoUrl);

  const closeClients = async (): Promise<void> => {
    for (const client of [redis, sinkRedis, limitRedis]) {
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
    await mongo.close();
  };

  let keyward: Keyward;
  const sink = new RedisStreamEventSink({ redis: sinkRedis, logger, ...config.events });
  try {
    await mongo.connect();
    keyward = await createKeyward({
      db: mongo.db(config.mongoDb),
      redis,
      plans: config.plans,
      secrets: config.secrets,
      signing: config.signing,
      cache: config.cache,
      expiryGraceMs: config.expiryGraceMs,
      onValidation: (event) => sink.append(event),
      onError: warn('background sync failed'),
    });
  } catch (error) {
    await sink.close(0);
    await closeClients();
    throw error;
  }

  const cleanups: Array<() => Promise<void>> = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(warn('route cleanup failed'));
  };

  const modules: RunningServerModule[] = [];
  const stopModules = async (): Promise<void> => {
    for (const module of modules.reverse()) await module.stop().catch(warn('server module failed to stop'));
    modules.length = 0;
  };
  try {
    for (const module of options.modules ?? []) {
      modules.push(await module.start({ config, keyward, db: mongo.db(config.mongoDb), mongo, logger }));
    }
  } catch (error) {
    await stopModules();
    await keyward.close();
    await sink.close(0);
    await closeClients();
    throw error;
  }

  const metrics = createServerMetrics({ sink, cacheEntries: () => keyward.cache.size });
  const rateLimits = new RateLimits({
    redis: limitRedis,
    perIp: { points: config.rateLimits.perIpPerMinute, durationSeconds: 60 },
    perKey: { points: config.rateLimits.perKeyPerMinute, durationSeconds: 60 },
    onError: warn('rate-limit sync failed'),
  });
  const operations = [...(options.operations ?? []), ...(options.modules ?? []).flatMap((module) => module.operations ?? [])];
  const koaListener = createRequestListener({
    redis,
    mongo,
    logger,
    keyward,
    metrics,
    rateLimits,
    clientIp: createClientIpResolver(config.trustedProxies),
    bodyLimitBytes: config.bodyLimitBytes,
    ...(operations.length > 0 ? { adminOperations: operations } : {}),
    addAdminRoutes: (router: Router) => {
      options.addRoutes?.(router, { keyward, db: mongo.db(config.mongoDb), logger, config, redis, onStop: (cleanup) => void cleanups.push(cleanup) });
      for (const module of modules) module.addRoutes?.(router);
    },
  });
  const rawHandlers = modules.flatMap((module) => (module.handleRaw ? [module.handleRaw.bind(module)] : []));
  const listener: typeof koaListener =
    rawHandlers.length === 0 ? koaListener : (request, response) => (rawHandlers.some((handle) => handle(request, response)) ? undefined : koaListener(request, response));
  const server = createServer(listener).listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    await runCleanups();
    await stopModules();
    await keyward.close();
    await sink.close(0);
    await closeClients();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url }, 'server listening');

  return {
    url,
    keyward,
    flushEvents: () => sink.flush(),
    eventStats: () => sink.stats(),
    async stop() {
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      // close() waits for keep-alive sockets; idle ones can go now, busy ones after their response.
      server.closeIdleConnections();
      await closed;
      await sink.close(5_000);
      const { buffered, dropped } = sink.stats();
      if (buffered > 0 || dropped > 0) logger.warn({ buffered, dropped }, 'events not delivered at shutdown');
      await runCleanups();
      await rateLimits.close();
      await stopModules();
      await keyward.close();
      await closeClients();
      logger.info('server stopped');
    },
  };
}

/**
 * How production wires the server: the admin API with its tokens in the same database, and the
 * e-mail outbox, whose new e-mails wake the worker's mail sender through the `{mail}` queue.
 */
export const serverWiring: StartServerOptions = {
  addRoutes: (router, { keyward, db, logger, config, redis, onStop }) => {
    const auth = new AdminAuth({ store: new MongoAdminTokenStore({ db }) });
    const mailWake = new MailWake({ connection: redis, prefix: config.queuePrefix, onError: (error) => logger.warn({ err: error }, 'could not wake the mail sender') });
    onStop(() => mailWake.close());
    const outbox = new MongoEmailOutbox({ db, onEnqueued: (id) => mailWake.wake(id) });
    addAdminRoutes(router, { keyward, logger, auth, emailOutbox: outbox });
    addAdminCustomerRoutes(router, { keyward, logger, auth, outbox });
    wireAdminCaseRoutes(router, { keyward, db, redis, queuePrefix: config.queuePrefix, auth, onStop });
    wireAdminWebhookRoutes(router, { db, config, auth });
  },
  operations: [...ADMIN_OPERATIONS, ...ADMIN_CUSTOMER_OPERATIONS, ...ADMIN_CASE_OPERATIONS, ...ADMIN_WEBHOOK_OPERATIONS],
  modules: [billingServerModule],
};

if (isEntryPoint(import.meta.url)) {
  runUntilSignal({ name: 'keyward-server' }, () => startServer(parseServerConfig(process.env, process.cwd()), serverWiring));
}
