import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';

import { mongoUrl, redisUrl, uniqueName, withTestDatabase } from '../setup/services.js';

/** Opens a Redis connection that is closed when the current test finishes. */
async function openRedis(): Promise<Redis> {
  const redis = new Redis(redisUrl(), { lazyConnect: true });
  await redis.connect();
  onTestFinished(async () => {
    await redis.quit();
  });
  return redis;
}

/** Opens `count` independent MongoClients (separate connection pools), closed when the test finishes. */
async function openMongoClients(count: number): Promise<MongoClient[]> {
  const clients = await Promise.all(
    Array.from({ length: count }, () => new MongoClient(mongoUrl(), { maxPoolSize: 50 }).connect()),
  );
  onTestFinished(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });
  return clients;
}

/** Picks the i-th client round-robin; the list is never empty. */
function clientFor(clients: readonly MongoClient[], i: number): MongoClient {
  const client = clients[i % clients.length];
  if (client === undefined) throw new Error('no MongoClient to pick from');
  return client;
}

describe('embedded Redis', () => {
  it('is a redis-server listening on the port in the URL', async () => {
    const port = new URL(redisUrl()).port;
    const redis = await openRedis();

    const info = await redis.info('server');
    const client = await redis.client('INFO');

    expect(info).toMatch(/^redis_version:\d+\.\d+\.\d+/m);
    expect(info).toMatch(new RegExp(`^tcp_port:${port}\\r?$`, 'm'));
    expect(info).not.toMatch(new RegExp(`^process_id:${process.pid}\\r?$`, 'm'));
    // The server sees us as a TCP peer on its own port, not an in-process stand-in.
    expect(String(client)).toContain(`laddr=127.0.0.1:${port}`);
  });

  it('shows a value written on one connection to a second, independent connection', async () => {
    const key = uniqueName('smoke');
    const writer = await openRedis();
    const reader = await openRedis();
    onTestFinished(async () => {
      await writer.del(key);
    });

    await writer.set(key, 'written-by-writer');

    expect(await reader.get(key)).toBe('written-by-writer');
    expect(await writer.client('ID')).not.toBe(await reader.client('ID'));
  });
});

describe('embedded MongoDB-wire server', () => {
  it('answers isMaster and buildInfo over TCP', async () => {
    const [client] = await openMongoClients(1);
    const admin = client!.db('admin');

    // isMaster rather than hello: mongo-java-server 1.47 does not implement hello, and real
    // mongod still answers isMaster.
    const isMaster = await admin.command({ isMaster: 1 });
    const buildInfo = await admin.command({ buildInfo: 1 });

    expect(isMaster.ismaster).toBe(true);
    expect(buildInfo.version).toMatch(/^\d+\.\d+/);
  });

  it('shows a document written by one MongoClient to a second, independent MongoClient', async () => {
    await withTestDatabase(async (db) => {
      const [writer, reader] = await openMongoClients(2);
      const id = uniqueName('doc');

      await writer!.db(db.databaseName).collection<{ _id: string; by: string }>('smoke').insertOne({ _id: id, by: 'writer' });
      const seen = await reader!.db(db.databaseName).collection<{ _id: string; by: string }>('smoke').findOne({ _id: id });

      expect(seen).toEqual({ _id: id, by: 'writer' });
    });
  });

  it('applies a guarded single-document update atomically under 50 concurrent writers', async () => {
    await withTestDatabase(async (db) => {
      const clients = await openMongoClients(5);
      const id = uniqueName('seats');
      await db.collection<{ _id: string; seats: number }>('seats').insertOne({ _id: id, seats: 0 });

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          clientFor(clients, i)
            .db(db.databaseName)
            .collection<{ _id: string; seats: number }>('seats')
            .updateOne({ _id: id, seats: { $lt: 3 } }, { $inc: { seats: 1 } }),
        ),
      );

      expect(results.filter((result) => result.modifiedCount === 1)).toHaveLength(3);
      expect(results.filter((result) => result.modifiedCount === 0)).toHaveLength(47);
      expect(await db.collection<{ _id: string; seats: number }>('seats').findOne({ _id: id })).toEqual({ _id: id, seats: 3 });
    });
  });

  it('loses no increment from 50 concurrent unguarded writers', async () => {
    await withTestDatabase(async (db) => {
      const clients = await openMongoClients(5);
      const id = uniqueName('counter');
      await db.collection<{ _id: string; n: number }>('counters').insertOne({ _id: id, n: 0 });

      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          clientFor(clients, i)
            .db(db.databaseName)
            .collection<{ _id: string; n: number }>('counters')
            .updateOne({ _id: id }, { $inc: { n: 1 } }),
        ),
      );

      expect(await db.collection<{ _id: string; n: number }>('counters').findOne({ _id: id })).toEqual({ _id: id, n: 50 });
    });
  });
});
