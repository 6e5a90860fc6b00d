/**
 * Where stream entries that are not validation events go: one document per entry in
 * `abuse_stream_poison`, keyed by stream and entry id, so recording it twice (the batch was
 * retried) stores it once. Operators read them to find the producer that wrote them.
 */
import type { Collection, Db } from 'mongodb';

import type { PoisonEntry } from './partition-consumer.js';

/** One recorded poison entry. */
export interface PoisonEntryDocument {
  /** `<stream key>/<entry id>`. */
  readonly _id: string;
  readonly stream: string;
  readonly partition: number;
  readonly entryId: string;
  /** The raw field/value list. */
  readonly fields: readonly string[];
  /** Why it could not be decoded. */
  readonly error: string;
  readonly recordedAt: Date;
}

/** The collection name. */
export const POISON_COLLECTION = 'abuse_stream_poison';

/**
 * A `recordPoison` function for the stream consumer that upserts into {@link POISON_COLLECTION}.
 *
 * @param db - The Keyward database.
 * @param streamKeyOf - The stream key of a partition.
 */
export function mongoPoisonRecorder(db: Db, streamKeyOf: (partition: number) => string): (partition: number, entries: readonly PoisonEntry[]) => Promise<void> {
  const collection: Collection<PoisonEntryDocument> = db.collection(POISON_COLLECTION);
  return async (partition, entries) => {
    const stream = streamKeyOf(partition);
    const recordedAt = new Date();
    await collection.bulkWrite(
      entries.map((entry) => ({
        updateOne: {
          filter: { _id: `${stream}/${entry.id}` },
          update: { $setOnInsert: { stream, partition, entryId: entry.id, fields: [...entry.fields], error: entry.error, recordedAt } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  };
}
