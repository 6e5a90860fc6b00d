import { join } from 'node:path';

import { startMongoJavaServer } from './mongo-java-server.js';
import { startMongoMemoryServer } from './mongo-memory-server.js';

/** Which MongoDB-wire server a {@link MongoServer} is. */
export type MongoServerKind = 'external' | 'mongodb-memory-server' | 'mongo-java-server';

/** Options for {@link startMongoServer}. */
export interface MongoServerOptions {
  /**
   * URL of an existing MongoDB (callers pass `MONGODB_URL`). When set nothing is started and
   * `stop()` does nothing. Default: none, start an embedded server.
   */
  readonly url?: string;
  /**
   * Directory the embedded server keeps its data in, so it survives a restart: `mongod/` for a
   * real mongod, `mongo-java-server.h2` for mongo-java-server. Default: none, data in memory.
   */
  readonly dataDir?: string;
  /** How long to give mongodb-memory-server before falling back to mongo-java-server. Default: 20 000 ms. */
  readonly memoryServerTimeoutMs?: number;
  /** Receives progress worth telling a person (which server was chosen and why). Default: writes to stderr. */
  readonly onNotice?: (message: string) => void;
}

/** A MongoDB-wire server to connect to. */
export interface MongoServer {
  /** MongoDB driver URL. */
  readonly url: string;
  /** What is behind `url`. */
  readonly kind: MongoServerKind;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

/**
 * Provides a MongoDB-wire server, best first: the given URL; a real mongod through
 * mongodb-memory-server when a binary is already on disk; mongo-java-server in a JVM.
 *
 * @param options - URL, storage and fallback timing; see {@link MongoServerOptions}.
 * @throws Error when no kind of server could be started (the message says what to install).
 */
export async function startMongoServer(options: MongoServerOptions = {}): Promise<MongoServer> {
  if (options.url !== undefined) {
    return { url: options.url, kind: 'external', stop: () => Promise.resolve() };
  }
  const onNotice = options.onNotice ?? ((message: string) => process.stderr.write(`${message}\n`));

  const attempt = await startMongoMemoryServer({
    ...(options.dataDir === undefined ? {} : { dbPath: join(options.dataDir, 'mongod') }),
    ...(options.memoryServerTimeoutMs === undefined ? {} : { timeoutMs: options.memoryServerTimeoutMs }),
  });
  if (attempt.outcome === 'started') {
    return { url: attempt.server.url, kind: 'mongodb-memory-server', stop: () => attempt.server.stop() };
  }

  onNotice(`mongodb-memory-server unavailable: ${attempt.reason}; using mongo-java-server.`);
  const java = await startMongoJavaServer({
    onNotice,
    ...(options.dataDir === undefined ? {} : { h2File: join(options.dataDir, 'mongo-java-server.h2') }),
  });
  return { url: java.url, kind: 'mongo-java-server', stop: () => java.stop() };
}
