import { mkdir } from 'node:fs/promises';

import type * as MongoMemoryServerModule from 'mongodb-memory-server';

/** Options for {@link startMongoMemoryServer}. */
export interface MongoMemoryServerOptions {
  /**
   * Directory for mongod's WiredTiger files, so the data survives a restart. Created when
   * missing. Default: none, mongodb-memory-server uses a temporary directory removed on stop.
   */
  readonly dbPath?: string;
  /** How long to wait for mongod to accept connections before giving up. Default: 20 000 ms. */
  readonly timeoutMs?: number;
}

/** A running mongod managed by mongodb-memory-server. */
export interface MongoMemoryServerHandle {
  /** MongoDB driver URL of the mongod. */
  readonly url: string;
  /** Stops mongod; keeps `dbPath` when one was given. */
  stop(): Promise<void>;
}

/**
 * What came of trying mongodb-memory-server. `unavailable` is an expected answer (no mongod on
 * this machine), not a fault: the caller moves on to the next kind of server.
 */
export type MongoMemoryServerAttempt =
  | { readonly outcome: 'started'; readonly server: MongoMemoryServerHandle }
  | { readonly outcome: 'unavailable'; readonly reason: string };

/**
 * Starts a real mongod through mongodb-memory-server, but only with a binary already on disk.
 *
 * No download is attempted at run time: the binary is fetched by the package's postinstall
 * step (`npm ci` on a machine with internet access), or found through `MONGOMS_SYSTEM_BINARY` /
 * `MONGOMS_DOWNLOAD_DIR` and the usual caches. Offline, a download attempt costs several
 * seconds of DNS failures and retries (about 7 s measured) before it gives up, on every start.
 *
 * @param options - Storage and timeout; see {@link MongoMemoryServerOptions}.
 * @returns `started` with the server, or `unavailable` with the reason; never throws.
 */
export async function startMongoMemoryServer(options: MongoMemoryServerOptions = {}): Promise<MongoMemoryServerAttempt> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  let library: typeof MongoMemoryServerModule;
  try {
    // A dev dependency: loaded only when needed, and its absence is just another "unavailable".
    library = await import('mongodb-memory-server');
  } catch (error) {
    return { outcome: 'unavailable', reason: `mongodb-memory-server is not installed (${messageOf(error)})` };
  }
  const { DryMongoBinary, MongoMemoryServer } = library;

  let binary: string | undefined;
  try {
    binary = await DryMongoBinary.locateBinary(await DryMongoBinary.generateOptions());
  } catch (error) {
    return { outcome: 'unavailable', reason: `could not look for a mongod binary (${messageOf(error)})` };
  }
  if (binary === undefined) {
    return {
      outcome: 'unavailable',
      reason:
        'no mongod binary on disk (checked MONGOMS_SYSTEM_BINARY, MONGOMS_DOWNLOAD_DIR, ' +
        '~/.cache/mongodb-binaries and node_modules/.cache/mongodb-memory-server)',
    };
  }
  if (options.dbPath !== undefined) await mkdir(options.dbPath, { recursive: true });

  const creating = MongoMemoryServer.create({
    // Naming the binary we found makes "no download" a guarantee, not a race with the cache.
    binary: { systemBinary: binary },
    instance: {
      ip: '127.0.0.1',
      ...(options.dbPath === undefined ? {} : { dbPath: options.dbPath, storageEngine: 'wiredTiger' as const }),
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    creating.then(
      (server) => ({ kind: 'started', server }) as const,
      (error: unknown) => ({ kind: 'failed', error }) as const,
    ),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    }),
  ]);
  clearTimeout(timer);

  if (outcome.kind === 'timeout') {
    // It may still come up later; make sure it does not linger if it does.
    creating.then((late) => late.stop(), () => undefined).catch(() => undefined);
    return { outcome: 'unavailable', reason: `mongod did not start within ${timeoutMs} ms` };
  }
  if (outcome.kind === 'failed') {
    return { outcome: 'unavailable', reason: `mongod failed to start (${messageOf(outcome.error)})` };
  }
  const { server } = outcome;
  return {
    outcome: 'started',
    server: {
      url: server.getUri(),
      async stop() {
        // The default cleanup removes only the temporary directory mongodb-memory-server made
        // itself; a caller's dbPath is kept (removing it would take `force: true`).
        await server.stop();
      },
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
}
