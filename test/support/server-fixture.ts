/**
 * The whole HTTP server (startServer, as production wires it) on the test run's real Redis and
 * MongoDB, on a free port, with a database of its own that is dropped afterwards.
 */
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { onTestFinished } from 'vitest';
import { loadPlanCatalogue } from '../../lib/plans/plan-catalogue.js';
import { generateTokenKeyPair } from '../../lib/tokens/validation-token.js';
import type { ServerConfig } from '../../server/config.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../server/main.js';
import { mongoUrl, redisUrl, uniqueName } from '../setup/services.js';
import { TEST_PLANS, TEST_SECRETS } from './keyward-fixture.js';

/** A running test server. */
export interface TestServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly config: ServerConfig;
  /** SPKI PEM of the key that signs validation tokens. */
  readonly publicKey: string;
  /** POSTs JSON; returns status, headers and parsed body. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** The configuration tests start from: generous limits, loopback trusted as a proxy. */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig & { publicKey: string } {
  const { privateKey, publicKey } = generateTokenKeyPair();
  return {
    port: 0,
    host: '127.0.0.1',
    redisUrl: redisUrl(),
    mongoUrl: mongoUrl(),
    mongoDb: uniqueName('srv'),
    dataDir: '/nonexistent',
    logLevel: 'silent',
    secrets: TEST_SECRETS,
    signing: { privateKey, keyId: 'test', ttlSeconds: 3_600 },
    plans: loadPlanCatalogue(TEST_PLANS),
    // Tests speak for many clients through X-Forwarded-For from loopback.
    trustedProxies: ['loopback'],
    bodyLimitBytes: 16_384,
    rateLimits: { perIpPerMinute: 100_000, perKeyPerMinute: 100_000 },
    cache: { maxStaleMs: 5_000, maxEntries: 10_000 },
    expiryGraceMs: 0,
    // Each test server writes its own streams: test files run in parallel on one Redis.
    events: { streamPrefix: uniqueName('events'), partitions: 4, maxStreamLength: 100_000 },
    queuePrefix: uniqueName('q'),
    publicKey,
    ...overrides,
  };
}

/** Starts a server for the current test and stops it (and drops its database) when the test ends. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}, options: StartServerOptions = {}): Promise<TestServer> {
  const config = testServerConfig(overrides);
  // TEST_LOG_LEVEL=info shows the server's log when a test needs explaining.
  const server = await startServer(config, { logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }), ...options });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    const client = await new MongoClient(config.mongoUrl).connect();
    await client.db(config.mongoDb).dropDatabase();
    await client.close();
  };
  onTestFinished(stop);
  return {
    url: server.url,
    server,
    config,
    publicKey: config.publicKey,
    async post(path, body, headers = {}) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    },
    stop,
  };
}
