import { join } from 'node:path';

import { startMongoServer, type MongoServerKind } from './mongo-server.js';
import { startRedisServer } from './redis-server.js';

/**
 * Options for {@link startLocalServices}. Persistent services need a directory to persist in,
 * which the type demands and the function checks again for untyped callers.
 */
export type LocalServicesOptions = (
  | {
      /** Keep data across restarts: Redis with an append-only file, MongoDB on disk. */
      readonly persistent: true;
      /** Where the data lives (`redis/` and `mongo/` inside it). Required. */
      readonly dataDir: string;
    }
  | {
      /** Data lives in memory and is gone on stop. */
      readonly persistent: false;
      /** Working directory for Redis. Default: the OS temporary directory. */
      readonly dataDir?: string;
    }
) & {
  /** URL of an existing Redis to use instead of starting one. Default: none, start one. */
  readonly redisUrl?: string;
  /** URL of an existing MongoDB to use instead of starting one. Default: none, start one. */
  readonly mongoUrl?: string;
  /** Receives progress worth telling a person. Default: writes to stderr. */
  readonly onNotice?: (message: string) => void;
};

/** Redis and MongoDB, ready to connect to. */
export interface LocalServices {
  /** Redis URL (given or embedded). */
  readonly redisUrl: string;
  /** MongoDB driver URL (given or embedded). */
  readonly mongoUrl: string;
  /** What is behind `mongoUrl`. */
  readonly mongoKind: MongoServerKind;
  /** Stops whatever this call started; given URLs are left alone. */
  stop(): Promise<void>;
}

/**
 * Provides the data stores a Keyward process needs, starting embedded ones for any URL not
 * given. Both start in parallel; if one fails the other is stopped before the error surfaces.
 *
 * @param options - Persistence, directory and existing URLs; see {@link LocalServicesOptions}.
 */
export async function startLocalServices(options: LocalServicesOptions): Promise<LocalServices> {
  if (options.persistent && typeof options.dataDir !== 'string') {
    throw new Error('startLocalServices: persistent services need a dataDir');
  }
  const dataDir = options.dataDir;
  const notice = options.onNotice === undefined ? {} : { onNotice: options.onNotice };

  const [redis, mongo] = await Promise.allSettled([
    options.redisUrl !== undefined
      ? Promise.resolve({ url: options.redisUrl, stop: () => Promise.resolve() })
      : startRedisServer(
          options.persistent
            ? { persistence: 'aof', dataDir: join(options.dataDir, 'redis') }
            : { persistence: 'none', ...(dataDir === undefined ? {} : { dataDir }) },
        ),
    startMongoServer({
      ...notice,
      ...(options.mongoUrl === undefined ? {} : { url: options.mongoUrl }),
      ...(options.persistent ? { dataDir: join(options.dataDir, 'mongo') } : {}),
    }),
  ]);

  if (redis.status === 'rejected' || mongo.status === 'rejected') {
    const started = [redis, mongo].flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    await Promise.allSettled(started.map((service) => service.stop()));
    const failures = [redis, mongo].flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'Redis and MongoDB both failed to start');
  }

  return {
    redisUrl: redis.value.url,
    mongoUrl: mongo.value.url,
    mongoKind: mongo.value.kind,
    async stop() {
      // Both are independent; stop them together and report every failure.
      const results = await Promise.allSettled([redis.value.stop(), mongo.value.stop()]);
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      if (failures.length > 0) throw new AggregateError(failures, 'stopping local services failed');
    },
  };
}
