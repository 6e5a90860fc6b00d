/**
 * Admin tokens in MongoDB (collection `admin_tokens`). A token is one small document read by
 * id; every write is a single-document update.
 */
import type { Collection, Db } from 'mongodb';
import type { AdminTokenRecord, AdminTokenStore } from './admin-token-store.js';
import { toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/** Options for {@link MongoAdminTokenStore}. */
export interface MongoAdminTokenStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `admin_tokens`). */
  readonly collectionPrefix?: string;
}

/** An admin token as stored. `lastUsedAt` is absent until the first use. */
interface AdminTokenDocument {
  _id: string;
  name: string;
  scope: AdminTokenRecord['scope'];
  secretHash: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt?: Date;
}

function toDocument(record: AdminTokenRecord): AdminTokenDocument {
  const { id, lastUsedAt, ...fields } = record;
  return { _id: id, ...fields, ...(lastUsedAt === null ? {} : { lastUsedAt }) };
}

function toRecord(document: AdminTokenDocument): AdminTokenRecord {
  const { _id, lastUsedAt, ...fields } = document;
  return { id: _id, ...fields, lastUsedAt: lastUsedAt ?? null };
}

/** {@link AdminTokenStore} on MongoDB. Needs no index beyond `_id`. */
export class MongoAdminTokenStore implements AdminTokenStore {
  readonly #tokens: Collection<AdminTokenDocument>;

  constructor(options: MongoAdminTokenStoreOptions) {
    this.#tokens = options.db.collection<AdminTokenDocument>(`${options.collectionPrefix ?? ''}admin_tokens`);
  }

  async insert(record: AdminTokenRecord): Promise<void> {
    try {
      await this.#tokens.insertOne(toDocument(record));
    } catch (error) {
      throw toDatastoreError('insertAdminToken', error);
    }
  }

  async findById(id: string): Promise<AdminTokenRecord | null> {
    try {
      const document = await this.#tokens.findOne({ _id: id }, SNAPSHOT_READ);
      return document ? toRecord(document) : null;
    } catch (error) {
      throw toDatastoreError('findAdminToken', error);
    }
  }

  async list(): Promise<AdminTokenRecord[]> {
    try {
      // Ids are ULIDs: by id is by creation.
      const documents = await this.#tokens.find({}).sort({ _id: 1 }).toArray();
      return documents.map(toRecord);
    } catch (error) {
      throw toDatastoreError('listAdminTokens', error);
    }
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    try {
      // Guarded on revokedAt so the first revocation time stays the one recorded.
      const result = await this.#tokens.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: at } });
      return result.matchedCount === 1;
    } catch (error) {
      throw toDatastoreError('revokeAdminToken', error);
    }
  }

  async touch(id: string, at: Date): Promise<void> {
    try {
      await this.#tokens.updateOne({ _id: id }, { $set: { lastUsedAt: at } });
    } catch (error) {
      throw toDatastoreError('touchAdminToken', error);
    }
  }
}
