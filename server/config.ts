import { resolve } from 'node:path';

import { z } from 'zod';

/** Environment variables as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Log levels pino accepts. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link logLevels}. */
export type LogLevel = (typeof logLevels)[number];

/** An empty variable (`PORT=`) means "not set", so it gets the default instead of failing as 0. */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/**
 * The server's environment variables, with their defaults. Exported so launchers that set some
 * of them (scripts/start.ts) can reuse the same rules.
 */
export const serverEnvironment = z.object({
  /** HTTP port. Default: 8080. */
  PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65_535).default(8080)),
  /** Interface to listen on. Default: 127.0.0.1. */
  HOST: z.preprocess(unsetIfEmpty, z.string().default('127.0.0.1')),
  /** Redis URL. Required. */
  REDIS_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
  /** MongoDB connection string. Required. Not parsed as a URL: a replica-set seed list is not one. */
  MONGODB_URL: z.preprocess(
    unsetIfEmpty,
    z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string'),
  ),
  /** Directory for local data, relative to the working directory. Default: `.keyward`. */
  KEYWARD_DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('.keyward')),
  /** pino log level. Default: info. */
  LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(logLevels).default('info')),
});

/** The server's configuration, parsed once by its composition root. */
export interface ServerConfig {
  /** HTTP port; 0 picks a free one. */
  readonly port: number;
  /** Interface to listen on. */
  readonly host: string;
  /** Redis URL. */
  readonly redisUrl: string;
  /** MongoDB connection string. */
  readonly mongoUrl: string;
  /** Absolute directory for local data. */
  readonly dataDir: string;
  /** pino log level. */
  readonly logLevel: LogLevel;
}

/**
 * Reads the server configuration from environment variables.
 *
 * @param env - The variables, usually `process.env`.
 * @param cwd - Directory a relative `KEYWARD_DATA_DIR` is resolved against.
 * @throws Error naming every bad variable and what is wrong with it.
 */
export function parseServerConfig(env: Environment, cwd: string): ServerConfig {
  const parsed = parseEnvironment(serverEnvironment, env);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    redisUrl: parsed.REDIS_URL,
    mongoUrl: parsed.MONGODB_URL,
    dataDir: resolve(cwd, parsed.KEYWARD_DATA_DIR),
    logLevel: parsed.LOG_LEVEL,
  };
}

/**
 * Validates environment variables against a schema of them, failing fast with one line per bad
 * variable. Values are never echoed: URLs carry credentials.
 *
 * @param schema - An object schema keyed by variable name.
 * @param env - The variables, usually `process.env`.
 * @throws Error whose message names each bad variable.
 */
export function parseEnvironment<Schema extends z.ZodType>(schema: Schema, env: Environment): z.output<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const unset = issue.code === 'invalid_type' && (env[name] ?? '') === '';
    return `  ${name}: ${unset ? 'is required but not set' : issue.message}`;
  });
  throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
}
