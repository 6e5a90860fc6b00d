/**
 * The server configuration every HTTP benchmark starts from: embedded data stores, limits high
 * enough never to refuse the load, silent logs, bench-only secrets. Benchmarks override what
 * they measure (the database, the Stripe webhook, the cache size).
 */
import { generateTokenKeyPair } from '../lib/tokens/validation-token.js';
import { DEFAULT_PLANS_FILE, readPlanCatalogue, type ServerConfig } from '../server/config.js';

/** Secrets for benchmarks only (never for a deployment). */
export const BENCH_SECRETS = {
  digest: 'bench-digest-secret-0123456789abcdefghijklmnop',
  encryption: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
} as const;

/** A full server configuration on these data stores, with `overrides` applied. */
export function benchServerConfig(stores: { readonly redisUrl: string; readonly mongoUrl: string }, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const { privateKey } = generateTokenKeyPair();
  return {
    port: 0,
    host: '127.0.0.1',
    redisUrl: stores.redisUrl,
    mongoUrl: stores.mongoUrl,
    mongoDb: 'bench',
    dataDir: '/nonexistent',
    logLevel: 'silent',
    secrets: BENCH_SECRETS,
    signing: { privateKey, keyId: 'bench', ttlSeconds: 259_200 },
    plans: readPlanCatalogue(DEFAULT_PLANS_FILE),
    trustedProxies: [],
    bodyLimitBytes: 16_384,
    rateLimits: { perIpPerMinute: 100_000_000, perKeyPerMinute: 100_000_000 },
    cache: { maxStaleMs: 5_000, maxEntries: 200_000 },
    expiryGraceMs: 0,
    events: { streamPrefix: 'bench:events', partitions: 16, maxStreamLength: 100_000 },
    queuePrefix: 'bench',
    ...overrides,
  };
}
