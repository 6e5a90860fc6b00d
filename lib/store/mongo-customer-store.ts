/**
 * Customers in MongoDB (collection `customers`): one per Stripe customer, found or created when
 * billing first hears of it. Ids are `cus_` + a ULID; the Stripe customer id is unique (sparse,
 * so customers made by hand need none), which makes concurrent find-or-create calls converge on
 * one document.
 */
import type { Collection, Db } from 'mongodb';

import { newId } from '../service/new-id.js';
import { DuplicateKeyError, toDatastoreError } from './datastore-error.js';
import { SNAPSHOT_READ } from './snapshot-read.js';

/** A customer as stored. */
export interface CustomerDocument {
  /** `cus_…` */
  _id: string;
  /** Absent (not null) when there is none, so the sparse unique index skips it. */
  stripeCustomerId?: string;
  email: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Options for {@link MongoCustomerStore}. */
export interface MongoCustomerStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection name. Default `` (collection `customers`). */
  readonly collectionPrefix?: string;
}

/** Customers on MongoDB. Call {@link MongoCustomerStore.ensureIndexes} once at start-up. */
export class MongoCustomerStore {
  readonly collection: Collection<CustomerDocument>;

  constructor(options: MongoCustomerStoreOptions) {
    this.collection = options.db.collection<CustomerDocument>(`${options.collectionPrefix ?? ''}customers`);
  }

  async ensureIndexes(): Promise<void> {
    try {
      await this.collection.createIndex({ stripeCustomerId: 1 }, { unique: true, sparse: true, name: 'stripeCustomerId_1' });
    } catch (error) {
      throw toDatastoreError('ensureCustomerIndexes', error);
    }
  }

  async get(id: string): Promise<CustomerDocument | null> {
    try {
      return await this.collection.findOne({ _id: id }, SNAPSHOT_READ);
    } catch (error) {
      throw toDatastoreError('getCustomer', error);
    }
  }

  async findByStripeId(stripeCustomerId: string): Promise<CustomerDocument | null> {
    try {
      return await this.collection.findOne({ stripeCustomerId }, SNAPSHOT_READ);
    } catch (error) {
      throw toDatastoreError('findCustomer', error);
    }
  }

  /**
   * The customer of a Stripe customer id, created when missing. A known e-mail replaces a
   * missing one; a different one replaces it too (the customer changed it in Stripe).
   */
  async findOrCreateByStripeId(stripeCustomerId: string, email: string | null, now: Date): Promise<CustomerDocument> {
    for (let attempt = 0; attempt < 3; attempt++) {
      let found: CustomerDocument | null;
      try {
        // Found or created in one round trip (the fields are written only when it is created).
        found = await this.collection.findOneAndUpdate(
          { stripeCustomerId },
          { $setOnInsert: { _id: newId('cus', now), email, createdAt: now, updatedAt: now } },
          { upsert: true, returnDocument: 'after' },
        );
      } catch (error) {
        const mapped = toDatastoreError('findOrCreateCustomer', error);
        // Another worker created it between our match and insert: read theirs on the next try.
        if (mapped instanceof DuplicateKeyError) continue;
        throw mapped;
      }
      if (found === null) continue;
      if (email === null || found.email === email) return found;
      try {
        await this.collection.updateOne({ _id: found._id }, { $set: { email, updatedAt: now } });
      } catch (error) {
        throw toDatastoreError('updateCustomer', error);
      }
      return { ...found, email, updatedAt: now };
    }
    throw toDatastoreError('findOrCreateCustomer', new Error('customer kept changing'));
  }
}
