import { z } from 'zod';

import { connectionVariables, parseEnvironment, type Environment } from '../lib/config/environment.js';

export type { Environment } from '../lib/config/environment.js';

const workerEnvironment = z.object({
  REDIS_URL: connectionVariables.REDIS_URL,
  MONGODB_URL: connectionVariables.MONGODB_URL,
  LOG_LEVEL: connectionVariables.LOG_LEVEL,
});

/** The worker's configuration, parsed once by its composition root. */
export interface WorkerConfig {
  /** Redis URL. */
  readonly redisUrl: string;
  /** MongoDB connection string. */
  readonly mongoUrl: string;
  /** pino log level. */
  readonly logLevel: z.output<typeof workerEnvironment>['LOG_LEVEL'];
}

/**
 * Reads the worker configuration from environment variables.
 *
 * @param env - The variables, usually `process.env`.
 * @throws Error naming every bad variable (values are never echoed: URLs carry credentials).
 */
export function parseWorkerConfig(env: Environment): WorkerConfig {
  const parsed = parseEnvironment(workerEnvironment, env);
  return { redisUrl: parsed.REDIS_URL, mongoUrl: parsed.MONGODB_URL, logLevel: parsed.LOG_LEVEL };
}
