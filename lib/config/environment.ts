/**
 * Environment variables shared by the server, the worker and the CLI: the rules for each, and
 * one parser that fails fast naming every bad variable. Pure: the caller passes the variables
 * (only composition roots read `process.env`).
 */
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';

/** Environment variables as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Log levels pino accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Log formats: `auto` picks `pretty` when stdout is a terminal, `json` otherwise. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

/** An empty variable (`PORT=`) means "not set", so it gets the default instead of failing. */
export const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

const HOW_TO_MAKE = 'make one with `openssl rand -hex 32`';

/** Rules for the data-store URLs and logging. */
export const connectionVariables = {
  /** Redis URL. */
  REDIS_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')),
  /**
   * Seed nodes of a Redis Cluster, `host:port,host:port,…`; when set, every Redis connection is a
   * cluster client (runtime/redis-connection.ts) and REDIS_URL gives only credentials and scheme.
   */
  REDIS_CLUSTER_NODES: z.preprocess(
    unsetIfEmpty,
    z.string().regex(/^\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\s*(,\s*(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}\s*)*$/, 'must be host:port,host:port,… (the nodes of the Redis Cluster)').optional(),
  ),
  /** MongoDB connection string (not parsed as a URL: a replica-set seed list is not one). */
  MONGODB_URL: z.preprocess(unsetIfEmpty, z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string')),
  /** Database name. Default `keyward`. */
  MONGODB_DB: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 letters, digits, _ or -').default('keyward')),
  /** pino log level. Default `info`. */
  LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(LOG_LEVELS).default('info')),
  /** Log lines: `pretty` (for people), `json` (for tools), `auto` (pretty when stdout is a terminal). Default `auto`. */
  LOG_FORMAT: z.preprocess(unsetIfEmpty, z.enum(LOG_FORMATS).default('auto')),
};

/** A PEM as given in an environment variable: literal `\n` sequences, or base64 of the PEM. */
function readPem(value: string): string {
  const text = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  return text.replaceAll('\\n', '\n');
}

/** Rules for the secrets; a missing or weak secret stops start-up with what to do about it. */
export const secretVariables = {
  /** HMAC secret for key digests: at least 32 bytes, not a repeated pattern. */
  KEYWARD_DIGEST_SECRET: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((value) => Buffer.byteLength(value) >= 32, `must be at least 32 bytes; ${HOW_TO_MAKE}`)
      .refine((value) => new Set(value).size >= 10, `is too weak (too few distinct characters); ${HOW_TO_MAKE}`),
  ),
  /** AES-256 key for keys at rest: 32 bytes as 64 hex or 44 base64 characters. */
  KEYWARD_ENCRYPTION_KEY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine(
        (value) => (/^[0-9a-fA-F]{64}$/.test(value) ? true : Buffer.from(value, 'base64').length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(value)),
        `must be 32 bytes as 64 hex or 44 base64 characters; ${HOW_TO_MAKE}`,
      )
      .refine((value) => new Set(value).size >= 10, `is too weak; ${HOW_TO_MAKE}`),
  ),
  /** Ed25519 private key (PKCS#8 PEM, or its base64) that signs validation tokens. */
  KEYWARD_SIGNING_KEY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform(readPem)
      .refine((pem) => {
        try {
          return createPrivateKey(pem).asymmetricKeyType === 'ed25519';
        } catch {
          return false;
        }
      }, 'must be an Ed25519 private key in PKCS#8 PEM; make one with `openssl genpkey -algorithm ed25519`'),
  ),
  /** Key id published with the public key. Default `k1`. */
  KEYWARD_SIGNING_KEY_ID: z.preprocess(unsetIfEmpty, z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('k1')),
};

/**
 * Validates environment variables against a schema of them, with one line per bad variable.
 * Values are never echoed: URLs and secrets carry credentials.
 *
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
