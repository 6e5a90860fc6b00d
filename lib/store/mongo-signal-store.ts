/**
 * Abuse signals in MongoDB (collection `abuse_signals`), one document per signal id. Storing is
 * an upsert by the deterministic id: a repeat (an entry reprocessed) changes nothing, and a
 * re-detection in the same window replaces value, severity, evidence and detection time, while
 * `firstDetectedAt` keeps the first.
 */
import type { Collection, Db, Filter } from 'mongodb';

import type { AbuseSignal, SignalKind } from '../abuse/abuse-signal.js';
import { toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/** A stored signal: the {@link AbuseSignal} with its id as `_id`, and when it was first found. */
export type SignalDocument = Omit<AbuseSignal, 'id'> & { _id: string; firstDetectedAt: Date };

/** Options for {@link MongoSignalStore}. */
export interface MongoSignalStoreOptions {
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `abuse_signals`). */
  readonly collectionPrefix?: string;
}

/** Which signals {@link MongoSignalStore.list} returns. */
export interface SignalQuery {
  readonly licenseId?: string;
  readonly network?: string;
  readonly kind?: SignalKind;
  /** Most signals returned, newest window first. Default 100. */
  readonly limit?: number;
}

/** {@link AbuseSignal}s on MongoDB. Call {@link MongoSignalStore.ensureIndexes} once at start-up. */
export class MongoSignalStore {
  readonly collection: Collection<SignalDocument>;

  constructor(options: MongoSignalStoreOptions) {
    this.collection = options.db.collection<SignalDocument>(`${options.collectionPrefix ?? ''}abuse_signals`);
  }

  /** Indexes for listing a license's or a network's signals. */
  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndexes([
        { key: { 'subject.licenseId': 1, 'window.start': -1 }, name: 'subject_licenseId_window_start' },
        { key: { 'subject.network': 1, 'window.start': -1 }, name: 'subject_network_window_start' },
      ]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  /** Stores signals in one bulk write (unordered); idempotent per id. */
  async upsert(signals: readonly AbuseSignal[]): Promise<void> {
    if (signals.length === 0) return;
    try {
      await this.collection.bulkWrite(
        signals.map(({ id, ...signal }) => ({
          updateOne: {
            filter: { _id: id },
            update: { $set: signal, $setOnInsert: { firstDetectedAt: signal.detectedAt } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      throw toDatastoreError('upsert abuse signals', error);
    }
  }

  /** One signal by id, or `null`. */
  async get(id: string): Promise<AbuseSignal | null> {
    const document = await this.collection.findOne({ _id: id }, SNAPSHOT_READ);
    return document ? toSignal(document) : null;
  }

  /** Signals of a subject and/or kind, newest window first. */
  async list(query: SignalQuery): Promise<AbuseSignal[]> {
    const filter: Record<string, string> = {};
    if (query.licenseId !== undefined) filter['subject.licenseId'] = query.licenseId;
    if (query.network !== undefined) filter['subject.network'] = query.network;
    if (query.kind !== undefined) filter['kind'] = query.kind;
    const documents = await this.collection
      .find(filter as Filter<SignalDocument>)
      .sort({ 'window.start': -1, _id: 1 })
      .limit(query.limit ?? 100)
      .toArray();
    return documents.map(toSignal);
  }
}

function toSignal(document: SignalDocument): AbuseSignal {
  const { _id, firstDetectedAt: _first, ...signal } = document;
  return { id: _id, ...signal };
}
