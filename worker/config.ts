import { z } from 'zod';

/** Environment variables as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** An empty variable means "not set". */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const workerEnvironment = z.object({
  /** Redis URL. Required. */
  REDIS_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
  /** MongoDB connection string. Required. */
  MONGODB_URL: z.preprocess(
    unsetIfEmpty,
    z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string'),
  ),
  /** pino log level. Default: info. */
  LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
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
  const result = workerEnvironment.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const unset = issue.code === 'invalid_type' && (env[name] ?? '') === '';
      return `  ${name}: ${unset ? 'is required but not set' : issue.message}`;
    });
    throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return { redisUrl: result.data.REDIS_URL, mongoUrl: result.data.MONGODB_URL, logLevel: result.data.LOG_LEVEL };
}
