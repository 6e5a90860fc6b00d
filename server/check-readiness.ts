import type { Redis } from 'ioredis';
import type { MongoClient } from 'mongodb';

/** The data stores readiness depends on; only PING and the `ping` command are used. */
export interface ReadinessDependencies {
  /** Redis connection. */
  readonly redis: Pick<Redis, 'ping'>;
  /** MongoDB client. */
  readonly mongo: Pick<MongoClient, 'db'>;
}

/** Names of the dependencies {@link checkReadiness} probes. */
export type ReadinessCheckName = 'redis' | 'mongo';

/** Outcome of one probe. */
export type ReadinessCheck =
  | { readonly status: 'ok' }
  | { readonly status: 'failed'; readonly reason: string };

/** Outcome of all probes; `ready` only when every check is `ok`. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<ReadinessCheckName, ReadinessCheck>>;
}

/**
 * Probes Redis (PING) and MongoDB (`ping` command) in parallel. A probe that errors or takes
 * longer than `timeoutMs` counts as failed; a data store being down is an answer, not an
 * exception.
 *
 * @param dependencies - The clients to probe.
 * @param timeoutMs - Longest wait per probe; a client queueing commands while it reconnects
 *   would otherwise hold the request for its own, much longer, timeouts.
 */
export async function checkReadiness(dependencies: ReadinessDependencies, timeoutMs: number): Promise<ReadinessReport> {
  const [redis, mongo] = await Promise.all([
    probe(() => dependencies.redis.ping(), timeoutMs),
    probe(() => dependencies.mongo.db('admin').command({ ping: 1 }), timeoutMs),
  ]);
  return { ready: redis.status === 'ok' && mongo.status === 'ok', checks: { redis, mongo } };
}

async function probe(run: () => Promise<unknown>, timeoutMs: number): Promise<ReadinessCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run().then(() => ({ status: 'ok' }) as const),
      new Promise<ReadinessCheck>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'failed', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
  } catch (error) {
    return { status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
