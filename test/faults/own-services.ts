/**
 * Data stores a fault test owns: its own Redis and its own MongoDB-wire server, each keeping
 * its data on disk (Redis: append-only file fsynced on every write; mongo-java-server: an H2
 * file), so that stopping and starting them again on the same port plays an outage without
 * touching the servers the other tests use.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onTestFinished } from 'vitest';

import { startMongoJavaServer, type MongoJavaServer } from '../../embedded/mongo-java-server.js';
import { startRedisServer, type RedisServer } from '../../embedded/redis-server.js';

/** A data store that can be stopped and started again, at the same URL. */
export interface OwnService {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Its own Redis, persistent across its restarts; stopped when the test ends. */
export async function ownRedis(): Promise<OwnService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'keyward-fault-redis-'));
  let running: RedisServer | null = await startRedisServer({ persistence: 'aof', appendFsync: 'always', dataDir });
  const port = running.port;
  onTestFinished(async () => {
    await running?.stop().catch(() => undefined);
  });
  return {
    url: running.url,
    async stop() {
      await running?.stop();
      running = null;
    },
    async start() {
      running = await startRedisServer({ persistence: 'aof', appendFsync: 'always', dataDir, port });
    },
  };
}

/** Its own mongo-java-server on an H2 file, persistent across its restarts; stopped when the test ends. */
export async function ownMongo(): Promise<OwnService> {
  const h2File = join(mkdtempSync(join(tmpdir(), 'keyward-fault-mongo-')), 'data.h2');
  let running: MongoJavaServer | null = await startMongoJavaServer({ h2File, onNotice: () => undefined });
  const port = running.port;
  onTestFinished(async () => {
    await running?.stop().catch(() => undefined);
  });
  return {
    // Short server selection: a request while it is down fails in bounded time.
    url: `${running.url}&serverSelectionTimeoutMS=1500`,
    async stop() {
      await running?.stop();
      running = null;
    },
    async start() {
      running = await startMongoJavaServer({ h2File, port, onNotice: () => undefined });
    },
  };
}

/** Calls `probe` until it returns true (a condition, not a duration); gives up after `attempts`. */
export async function until(probe: () => Promise<boolean>, what: string, attempts = 600): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
