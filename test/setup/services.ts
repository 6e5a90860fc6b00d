import { randomBytes } from 'node:crypto';

import { MongoClient, type Db } from 'mongodb';
import { inject } from 'vitest';

/** URL of the Redis shared by the test run (started by the global setup). */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** Base URL of the stripe-mock shared by the test run (started by the global setup). */
export function stripeMockUrl(): string {
  return inject('stripeMockUrl');
}

/** MongoDB driver URL of the server shared by the test run (started by the global setup). */
export function mongoUrl(): string {
  return inject('mongoUrl');
}

/**
 * A name no other test uses, for databases, key prefixes and queues: `<prefix>_<12 hex chars>`.
 * Short enough for MongoDB's 63-byte database-name limit with a reasonable prefix.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * Runs `fn` with a fresh database of its own on the shared MongoDB, then drops the database and
 * closes the client, whether `fn` succeeded or not.
 *
 * @param fn - The test body; receives the database and the client that owns it.
 */
export async function withTestDatabase<T>(fn: (db: Db, client: MongoClient) => Promise<T>): Promise<T> {
  const client = await new MongoClient(mongoUrl()).connect();
  const db = client.db(uniqueName('test'));
  try {
    return await fn(db, client);
  } finally {
    try {
      await db.dropDatabase();
    } finally {
      await client.close();
    }
  }
}
