import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { startMongoServer } from '../../embedded/mongo-server.js';
import { startRedisServer } from '../../embedded/redis-server.js';

/** A temporary directory removed when the current test finishes. */
async function temporaryDataDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `keyward-${prefix}-`));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `fn` against a started server and stops the server afterwards, also when `fn` fails,
 * so a failed assertion never leaves a process behind.
 */
async function using<S extends { stop(): Promise<void> }, T>(server: S, fn: (server: S) => Promise<T>): Promise<T> {
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

describe('embedded Redis with persistence "aof"', () => {
  it('keeps a key across stop and start in the same dataDir', async () => {
    const dataDir = await temporaryDataDir('redis-aof');

    await using(await startRedisServer({ persistence: 'aof', dataDir }), async (server) => {
      const redis = new Redis(server.url);
      await redis.set('license:lic_1', 'active');
      await redis.quit();
    });
    const value = await using(await startRedisServer({ persistence: 'aof', dataDir }), async (server) => {
      const redis = new Redis(server.url);
      try {
        return await redis.get('license:lic_1');
      } finally {
        await redis.quit();
      }
    });

    expect(value).toBe('active');
  });

  it('forgets everything with persistence "none"', async () => {
    const dataDir = await temporaryDataDir('redis-none');

    await using(await startRedisServer({ persistence: 'none', dataDir }), async (server) => {
      const redis = new Redis(server.url);
      await redis.set('license:lic_1', 'active');
      await redis.quit();
    });
    const value = await using(await startRedisServer({ persistence: 'none', dataDir }), async (server) => {
      const redis = new Redis(server.url);
      try {
        return await redis.get('license:lic_1');
      } finally {
        await redis.quit();
      }
    });

    expect(value).toBeNull();
  });
});

describe('embedded MongoDB-wire server with a dataDir', () => {
  it('keeps a document across stop and start, whichever embedded kind this machine uses', async () => {
    const dataDir = await temporaryDataDir('mongo');
    const notices: string[] = [];
    const onNotice = (message: string): void => void notices.push(message);

    const firstKind = await using(await startMongoServer({ dataDir, onNotice }), async (server) => {
      const client = await new MongoClient(server.url).connect();
      try {
        await client.db('keyward').collection<{ _id: string; status: string }>('licenses').insertOne({ _id: 'lic_1', status: 'active' });
      } finally {
        await client.close();
      }
      return server.kind;
    });
    const [secondKind, found] = await using(await startMongoServer({ dataDir, onNotice }), async (server) => {
      const client = await new MongoClient(server.url).connect();
      try {
        return [server.kind, await client.db('keyward').collection<{ _id: string; status: string }>('licenses').findOne({ _id: 'lic_1' })] as const;
      } finally {
        await client.close();
      }
    });

    expect(['mongodb-memory-server', 'mongo-java-server']).toContain(firstKind);
    expect(secondKind).toBe(firstKind);
    expect(found).toEqual({ _id: 'lic_1', status: 'active' });
  });
});
