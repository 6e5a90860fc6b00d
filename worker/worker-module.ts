/**
 * What a worker capability (billing, mail, abuse detection, reports) plugs into: the worker's
 * composition root builds one {@link WorkerContext} and starts every module of
 * `worker/modules.ts` with it, in order, and stops them in reverse order.
 */
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';

import type { Keyward } from '../lib/service/create-keyward.js';
import type { WorkerConfig } from './config.js';
import type { WorkerHooks } from './worker-hooks.js';

/** Everything a module may use. Modules never read `process.env`: their settings are in `config`. */
export interface WorkerContext {
  readonly config: WorkerConfig;
  /** The Keyward database. */
  readonly db: Db;
  /** License services (commands go through `keyward.licenses`, so caches are invalidated). */
  readonly keyward: Keyward;
  readonly logger: Logger;
  /** A shared command connection (not for blocking commands). */
  readonly redis: Redis;
  /**
   * A new Redis connection configured for BullMQ workers and blocking reads
   * (`maxRetriesPerRequest: null`); the worker closes it on stop.
   */
  createRedis(purpose: string): Redis;
  /** Calls between modules (billing → abuse, abuse → cases); see {@link WorkerHooks}. */
  readonly hooks: WorkerHooks;
  /**
   * BullMQ key prefix: every queue of this worker lives under it (tests use a unique one).
   * Queue names are wrapped in a hash tag (`{billing}`) so a queue stays on one Redis Cluster slot.
   */
  readonly queuePrefix: string;
}

/** A started module. */
export interface RunningWorkerModule {
  /** Stops consuming, lets jobs in progress finish, closes what the module opened. */
  stop(): Promise<void>;
}

/** A capability of the worker. */
export interface WorkerModule {
  /** Short name for logs, e.g. `billing`. */
  readonly name: string;
  start(context: WorkerContext): Promise<RunningWorkerModule>;
}
