/**
 * Composition root of the HTTP server: parses nothing itself (the config comes in), builds the
 * clients, services, sink, limits and metrics, hands them to the app, and listens. Graceful
 * shutdown: stop accepting, finish requests in flight, flush the event buffer, then close.
 */
import { createRedisConnection } from '../runtime/redis-connection.js';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type Router } from '@koa/router';
import type { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import type { Logger } from 'pino';

import { createKeyward, type Keyward } from '../lib/service/create-keyward.js';
import { createLogger } from '../runtime/create-logger.js';
import { mongoClientOptions } from '../runtime/mongo-client-options.js';
import { isEntryPoint, runUntilSignal } from '../runtime/process-entry.js';
import { describeUnfinished, stopWithin, type StopOutcome } from '../runtime/stop-within.js';
import { describeConnectFailure, describeListenFailure, redactUrl, StartupError } from '../runtime/startup-error.js';
import { MongoAdminTokenStore } from '../lib/store/mongo-admin-token-store.js';
import { MongoEmailOutbox } from '../lib/store/mongo-email-outbox.js';
import { MailWake } from '../worker/mail/mail-wake.js';
import { AdminAuth } from './auth/admin-auth.js';
import { createAdminTokenRevocationBus, RevocationAnnouncingTokenStore } from './auth/admin-token-revocations.js';
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
import { wireConsole } from './console/console-wiring.js';
import { ADMIN_TOKEN_OPERATIONS, addAdminTokenRoutes } from './routes/admin-token-routes.js';
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
  /**
   * Longest wait for each step of `stop()` (event sink, cleanups, modules, clients), in ms; a
   * step that takes longer is given up on and named in the log. Requests in flight get at
   * least 10 s. Default 3,000.
   */
  readonly stopStepTimeoutMs?: number;
}

/** Connections that must fail fast rather than queue while Redis is away (hot path helpers). */
const FAIL_FAST = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 250 } as const;

/**
 * The first connection to each data store, each failure naming the variable to fix. MongoDB
 * fails within the server-selection time (`serverSelectionTimeoutMS` in MONGODB_URL, 5 s by
 * default: runtime/mongo-client-options.ts); Redis after the client's retries per request.
 */
async function connectDataStores(redis: Redis, mongo: MongoClient, config: ServerConfig): Promise<void> {
  const [redisReady, mongoReady] = await Promise.allSettled([
    redis.ping(),
    mongo.connect().then(() => mongo.db('admin').command({ ping: 1 })),
  ]);
  const failures = [
    ...(redisReady.status === 'rejected' ? [describeConnectFailure(redisReady.reason, { name: 'Redis', variable: 'REDIS_URL', url: config.redisUrl })] : []),
    ...(mongoReady.status === 'rejected' ? [describeConnectFailure(mongoReady.reason, { name: 'MongoDB', variable: 'MONGODB_URL', url: config.mongoUrl })] : []),
  ];
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new StartupError('REDIS_URL', failures.map((failure) => failure.message).join('; '));
}

/** Builds everything from `config` and listens. */
export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ name: 'keyward-server', level: config.logLevel, ...(config.logFormat === undefined ? {} : { format: config.logFormat }) });
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);
  const redis = createRedisConnection(config, { maxRetriesPerRequest: 2 });
  const sinkRedis = createRedisConnection(config, FAIL_FAST);
  const limitRedis = createRedisConnection(config, FAIL_FAST);
  for (const client of [redis, sinkRedis, limitRedis]) client.on('error', warn('redis connection error'));
  const mongo = new MongoClient(config.mongoUrl, mongoClientOptions(config.mongoUrl));

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
    logger.info({ redisUrl: redactUrl(config.redisUrl), mongoUrl: redactUrl(config.mongoUrl) }, 'connecting to the data stores');
    await connectDataStores(redis, mongo, config);
    logger.info('data stores connected');
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
    ...(config.rateLimits.ipv6PrefixLength === undefined ? {} : { ipv6PrefixLength: config.rateLimits.ipv6PrefixLength }),
    perKey: { points: config.rateLimits.perKeyPerMinute, durationSeconds: 60 },
    onError: (error) => {
      // Fail open: requests go on, limited by this process's own counts; counted and logged.
      metrics.rateLimitSyncFailures.inc();
      warn('rate-limit sync failed')(error);
    },
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
  } catch (failure) {
    const error = describeListenFailure(failure, { host: config.host, port: config.port, portVariable: 'PORT', hostVariable: 'HOST', what: 'the HTTP server' });
    await runCleanups();
    await stopModules();
    await keyward.close();
    await sink.close(0);
    await closeClients();
    throw error;
  }
  const stopStepMs = options.stopStepTimeoutMs ?? 3_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  logger.info({ url }, 'server listening');

  return {
    url,
    keyward,
    flushEvents: () => sink.flush(),
    eventStats: () => sink.stats(),
    async stop() {
      // Each step is bounded: with Redis or MongoDB down, a client may wait for it forever.
      const outcomes: StopOutcome[] = [];
      const step = async (part: string, stop: () => Promise<void>, timeoutMs = stopStepMs): Promise<void> => {
        outcomes.push(await stopWithin(part, timeoutMs, stop));
      };
      await step('requests in flight', () => {
        const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
        // close() waits for keep-alive sockets; idle ones can go now, busy ones after their response.
        server.closeIdleConnections();
        return closed;
      }, Math.max(stopStepMs, 10_000));
      await step('event sink', async () => {
        await sink.close(Math.min(5_000, stopStepMs));
        const { buffered, dropped } = sink.stats();
        if (buffered > 0 || dropped > 0) logger.warn({ buffered, dropped }, 'events not delivered at shutdown');
      });
      await step('route cleanups', runCleanups);
      await step('rate limits', () => rateLimits.close());
      await step('server modules', stopModules);
      await step('license services', () => keyward.close());
      await step('data store connections', closeClients);
      const unfinished = describeUnfinished(outcomes);
      if (unfinished.length > 0) {
        // The parts given up on may still hold sockets; close them hard so the process can end.
        for (const client of [redis, sinkRedis, limitRedis]) client.disconnect();
        server.closeAllConnections();
        logger.warn({ gaveUpOn: unfinished }, `server stopped, giving up on: ${unfinished.join(', ')}`);
      } else {
        logger.info('server stopped');
      }
    },
  };
}

/**
 * How production wires the server: the admin API with its tokens in the same database, and the
 * e-mail outbox, whose new e-mails wake the worker's mail sender through the `{mail}` queue.
 */
export const serverWiring: StartServerOptions = {
  addRoutes: (router, { keyward, db, logger, config, redis, onStop }) => {
    // Revocations announced by any server reach this server's token cache at once.
    const revocations = createAdminTokenRevocationBus(redis, (error) => logger.warn({ err: error }, 'admin-token revocation bus failed'));
    // Revoked through the token routes or the CLI: announced to every server.
    const tokens = new RevocationAnnouncingTokenStore(new MongoAdminTokenStore({ db }), (id) => revocations.publish(id));
    const auth = new AdminAuth({ store: tokens });
    auth.followRevocations(revocations).catch((error: unknown) => logger.warn({ err: error }, 'not following admin-token revocations; a revoked token works here until its cache period ends'));
    onStop(() => revocations.close());
    const mailWake = new MailWake({ connection: redis, prefix: config.queuePrefix, onError: (error) => logger.warn({ err: error }, 'could not wake the mail sender') });
    onStop(() => mailWake.close());
    const outbox = new MongoEmailOutbox({ db, onEnqueued: (id) => mailWake.wake(id) });
    addAdminRoutes(router, { keyward, logger, auth, emailOutbox: outbox });
    addAdminCustomerRoutes(router, { keyward, logger, auth, outbox });
    wireAdminCaseRoutes(router, { keyward, db, redis, queuePrefix: config.queuePrefix, auth, onStop });
    addAdminTokenRoutes(router, { auth, store: tokens });
    wireAdminWebhookRoutes(router, { db, config, auth });
    wireConsole(router, { keyward, db, redis, queuePrefix: config.queuePrefix, adminAuth: auth, encryptionKey: config.secrets.encryption, trustedProxies: config.trustedProxies, onStop });
  },
  operations: [...ADMIN_OPERATIONS, ...ADMIN_CUSTOMER_OPERATIONS, ...ADMIN_CASE_OPERATIONS, ...ADMIN_TOKEN_OPERATIONS, ...ADMIN_WEBHOOK_OPERATIONS],
  modules: [billingServerModule],
};

if (isEntryPoint(import.meta.url)) {
  runUntilSignal({ name: 'keyward-server' }, () => startServer(parseServerConfig(process.env, process.cwd()), serverWiring));
}
