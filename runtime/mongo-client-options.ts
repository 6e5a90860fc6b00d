/**
 * How the processes open MongoDB: a request must not wait 30 s (the driver's default
 * server-selection time) for a MongoDB that is down. The server and worker give up after
 * {@link DEFAULT_SERVER_SELECTION_TIMEOUT_MS} and answer or retry; a `serverSelectionTimeoutMS`
 * in MONGODB_URL wins.
 */
import type { MongoClientOptions } from 'mongodb';

/** How long an operation waits for a reachable MongoDB, in ms, unless MONGODB_URL says otherwise. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5_000;

/** Options for a MongoClient on `url`: the bounded server-selection time unless the URL sets one. */
export function mongoClientOptions(url: string): MongoClientOptions {
  return /[?&]serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS };
}
