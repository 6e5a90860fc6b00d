import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';

import { startRedisServer } from '../../embedded/redis-server.js';
import { createApp, type AppOptions } from '../../server/app.js';
import { mongoUrl, redisUrl } from '../setup/services.js';

const silent = pino({ level: 'silent' });

/** Serves the app on a free port until the test finishes; returns its base URL. */
async function serve(options: AppOptions): Promise<string> {
  const server = createApp(options).listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Clients on the shared test servers, closed when the test finishes. */
async function connectClients(): Promise<{ redis: Redis; mongo: MongoClient }> {
  const redis = new Redis(redisUrl());
  const mongo = await new MongoClient(mongoUrl()).connect();
  onTestFinished(async () => {
    await Promise.all([redis.quit(), mongo.close()]);
  });
  return { redis, mongo };
}

describe('health routes: happy path', () => {
  it('GET /healthz answers 200 ok', async () => {
    const base = await serve({ ...(await connectClients()), logger: silent });

    const response = await fetch(`${base}/healthz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when Redis and MongoDB both answer', async () => {
    const base = await serve({ ...(await connectClients()), logger: silent });

    const response = await fetch(`${base}/readyz`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { redis: 'ok', mongo: 'ok' } });
  });
});

describe('health routes: a data store is down', () => {
  it('GET /readyz answers 503 naming Redis when its server has stopped', async () => {
    const doomed = await startRedisServer();
    const redis = new Redis(doomed.url, { lazyConnect: true });
    // Reconnection failures are the point of this test, not noise to print.
    redis.on('error', () => undefined);
    await redis.connect();
    const mongo = await new MongoClient(mongoUrl()).connect();
    onTestFinished(async () => {
      redis.disconnect();
      await mongo.close();
    });
    const base = await serve({ redis, mongo, logger: silent, readinessTimeoutMs: 300 });

    await doomed.stop();
    const response = await fetch(`${base}/readyz`);

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      checks: { redis: 'failed', mongo: 'ok' },
      failed: ['redis'],
    });
  });
});
