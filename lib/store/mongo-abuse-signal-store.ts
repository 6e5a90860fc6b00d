/**
 * Stored abuse signals (collection `abuse_signals`, `_id` = signal id), as the case review reads
 * them: the evidence behind a case's timeline. The detector rules write them; `save` is here for
 * writers that have no store of their own (billing's dispute signal, tests).
 */
import type { Collection, Db } from 'mongodb';

import type { AbuseSignal } from '../abuse/abuse-signal.js';
import { toDatastoreError } from './datastore-error.js';

/** A signal as stored: the signal without `id`, keyed by it. */
export type AbuseSignalDocument = Omit<AbuseSignal, 'id'> & { _id: string };

/** Options for {@link MongoAbuseSignalStore}. */
export interface MongoAbuseSignalStoreOptions {
  /** Database. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `abuse_signals`). */
  readonly collectionPrefix?: string;
}

/** The signal of a stored document. */
export function signalOf({ _id, ...rest }: AbuseSignalDocument): AbuseSignal {
  return { id: _id, ...rest };
}

/** Reads (and, for writers without a store, saves) abuse signals. */
export class MongoAbuseSignalStore {
  readonly collection: Collection<AbuseSignalDocument>;

  constructor(options: MongoAbuseSignalStoreOptions) {
    this.collection = options.db.collection<AbuseSignalDocument>(`${options.collectionPrefix ?? ''}abuse_signals`);
  }

  /** Stores a signal, replacing a stored one with the same id (ids are deterministic per finding). */
  async save(signal: AbuseSignal): Promise<void> {
    const { id, ...rest } = signal;
    try {
      await this.collection.replaceOne({ _id: id }, rest, { upsert: true });
    } catch (error) {
      throw toDatastoreError('save abuse signal', error);
    }
  }

  /** The signals with these ids that exist, in the order given. */
  async findByIds(ids: readonly string[]): Promise<AbuseSignal[]> {
    if (ids.length === 0) return [];
    try {
      const found = await this.collection.find({ _id: { $in: [...ids] } }).toArray();
      const byId = new Map(found.map((doc) => [doc._id, signalOf(doc)]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    } catch (error) {
      throw toDatastoreError('read abuse signals', error);
    }
  }
}
