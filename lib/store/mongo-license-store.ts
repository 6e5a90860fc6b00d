/**
 * Licenses and their audit trail in MongoDB. Every write is one single-document operation;
 * updates are guarded by the license version they were decided on, so concurrent writers
 * cannot break a lifecycle rule (no multi-document transactions: design.md, Storage notes).
 */
import type { Collection, Db, Filter, WriteConcernSettings } from 'mongodb';
import type { License } from '../lifecycle/license.js';
import type { AuditEntry } from '../lifecycle/outcome.js';
import { SNAPSHOT_READ } from './snapshot-read.js';
import { toDatastoreError } from './datastore-error.js';
import type { AuditQuery, LicenseQuery, LicenseRecord, StoredAuditEntry } from './license-record.js';
import type { LicenseStore } from './license-store.js';
import { licenseWebhookEvents } from './license-webhook-events.js';
import { PENDING_WEBHOOK_EVENTS, PENDING_WEBHOOK_EVENTS_INDEX, type PendingWebhookEvents } from './mongo-webhook-relay.js';

/** Options for {@link MongoLicenseStore}. */
export interface MongoLicenseStoreOptions {
  /** Database to use. Required. */
  readonly db: Db;
  /** Prefix of the collection names. Default `` (collections `licenses`, `license_audit`). */
  readonly collectionPrefix?: string;
  /**
   * Write concern of the guarded lifecycle updates. Default `{ w: 'majority' }`: on a replica
   * set, an update acknowledged to the caller (a revoke, a seat granted) survives the primary's
   * failover instead of being rolled back, whatever `w` the connection string sets for the rest.
   */
  readonly guardedWriteConcern?: WriteConcernSettings;
}

type LicenseFields = Omit<License, 'id'>;

/** A license as stored: the license's own fields, the sealed key and the last audit entry. */
interface LicenseDocument extends LicenseFields, PendingWebhookEvents {
  _id: string;
  keyCiphertext: string;
  keyMask: string;
  /** Absent (not null) when there is none, so the sparse unique index skips it. */
  stripeSubscriptionId?: string;
  /** Written in the same atomic update as the license, so no transition can lose its entry. */
  lastAudit: AuditDocument;
}

interface AuditDocument extends AuditEntry {
  _id: string;
  version: number;
}

function auditDocument(entry: AuditEntry, version: number): AuditDocument {
  return { ...entry, _id: `${entry.licenseId}:${version}`, version };
}

function toDocument(record: LicenseRecord, audit: AuditEntry): LicenseDocument {
  const { id, ...fields } = record.license;
  return {
    _id: id,
    ...fields,
    keyCiphertext: record.keyCiphertext,
    keyMask: record.keyMask,
    ...(record.stripeSubscriptionId === null ? {} : { stripeSubscriptionId: record.stripeSubscriptionId }),
    lastAudit: auditDocument(audit, record.license.version),
  };
}

function toRecord(document: LicenseDocument): LicenseRecord {
  const { _id, keyCiphertext, keyMask, stripeSubscriptionId, lastAudit: _lastAudit, [PENDING_WEBHOOK_EVENTS]: _events, ...fields } = document;
  return {
    license: { id: _id, ...fields },
    keyCiphertext,
    keyMask,
    stripeSubscriptionId: stripeSubscriptionId ?? null,
  };
}

/**
 * The license alone, for the validate path: the sealed key, its mask, the last audit entry and
 * the webhook events not yet relayed are left on the server (they are most of a stored
 * license's bytes, and a validation uses none of them). Being an exclusion projection, it is also a snapshot read (snapshot-read.ts):
 * a validation never decides on a mix of two versions.
 */
const LICENSE_ONLY = { projection: { keyCiphertext: 0, keyMask: 0, lastAudit: 0, stripeSubscriptionId: 0, [PENDING_WEBHOOK_EVENTS]: 0 } } as const;

function toLicense(document: Omit<LicenseDocument, 'keyCiphertext' | 'keyMask' | 'lastAudit' | 'stripeSubscriptionId'>): License {
  const { _id, [PENDING_WEBHOOK_EVENTS]: _events, ...fields } = document;
  return { id: _id, ...fields };
}

function toStoredAudit(document: AuditDocument): StoredAuditEntry {
  const { _id, ...entry } = document;
  return entry;
}

/** {@link LicenseStore} on MongoDB. Call {@link MongoLicenseStore.ensureIndexes} once at start-up. */
export class MongoLicenseStore implements LicenseStore {
  readonly #licenses: Collection<LicenseDocument>;
  readonly #audit: Collection<AuditDocument>;
  readonly #guardedWriteConcern: WriteConcernSettings;

  constructor(options: MongoLicenseStoreOptions) {
    const prefix = options.collectionPrefix ?? '';
    this.#guardedWriteConcern = options.guardedWriteConcern ?? { w: 'majority' };
    this.#licenses = options.db.collection<LicenseDocument>(`${prefix}licenses`);
    this.#audit = options.db.collection<AuditDocument>(`${prefix}license_audit`);
  }

  /** Creates the indexes the store relies on (idempotent). */
  async ensureIndexes(): Promise<void> {
    try {
      await this.#licenses.createIndexes([
        { key: { keyDigest: 1 }, name: 'keyDigest_1', unique: true },
        { key: { stripeSubscriptionId: 1 }, name: 'stripeSubscriptionId_1', unique: true, sparse: true },
        { key: { customerId: 1, _id: 1 }, name: 'customerId_1__id_1' },
        { key: { status: 1, _id: 1 }, name: 'status_1__id_1' },
        { key: { periodEndsAt: 1 }, name: 'periodEndsAt_1' },
        PENDING_WEBHOOK_EVENTS_INDEX,
      ]);
      await this.#audit.createIndexes([{ key: { licenseId: 1, version: 1 }, name: 'licenseId_1_version_1' }]);
    } catch (error) {
      throw toDatastoreError('ensureIndexes', error);
    }
  }

  async insert(record: LicenseRecord, audit: AuditEntry): Promise<void> {
    await this.insertMany([{ record, audit }]);
  }

  async insertMany(records: ReadonlyArray<{ record: LicenseRecord; audit: AuditEntry }>): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.#licenses.insertMany(
        // The license's webhook events travel in the same document write (docs/webhooks.md).
        records.map(({ record, audit }) => ({ ...toDocument(record, audit), [PENDING_WEBHOOK_EVENTS]: licenseWebhookEvents(record, audit) })),
        { ordered: true },
      );
      await this.#audit.insertMany(
        records.map(({ record, audit }) => auditDocument(audit, record.license.version)),
        { ordered: false },
      );
    } catch (error) {
      throw toDatastoreError('insert', error);
    }
  }

  async findById(id: string): Promise<LicenseRecord | null> {
    return this.#findOne({ _id: id }, 'findById');
  }

  async findByIds(ids: readonly string[]): Promise<LicenseRecord[]> {
    if (ids.length === 0) return [];
    try {
      const documents = await this.#licenses.find({ _id: { $in: [...ids] } } as Filter<LicenseDocument>).toArray();
      return documents.map(toRecord);
    } catch (error) {
      throw toDatastoreError('findByIds', error);
    }
  }

  async findByDigest(keyDigest: string): Promise<LicenseRecord | null> {
    return this.#findOne({ keyDigest }, 'findByDigest');
  }

  async findLicensesByDigests(keyDigests: readonly string[]): Promise<Map<string, License>> {
    const found = new Map<string, License>();
    if (keyDigests.length === 0) return found;
    try {
      // One query on the unique keyDigest index however many digests (issue 15: the coalesced
      // cache-miss path, lib/service/coalesced-loader.ts).
      const documents = await this.#licenses
        .find(
          { keyDigest: keyDigests.length === 1 ? (keyDigests[0] as string) : { $in: [...keyDigests] } },
          // Every match in the first reply: no getMore round trip.
          { ...LICENSE_ONLY, batchSize: keyDigests.length },
        )
        .toArray();
      for (const document of documents) found.set(document.keyDigest, toLicense(document));
      return found;
    } catch (error) {
      throw toDatastoreError('findLicensesByDigests', error);
    }
  }

  async findByStripeSubscription(subscriptionId: string): Promise<LicenseRecord | null> {
    return this.#findOne({ stripeSubscriptionId: subscriptionId }, 'findByStripeSubscription');
  }

  async update(record: LicenseRecord, expectedVersion: number, audit: AuditEntry): Promise<boolean> {
    const { _id, createdAt: _createdAt, stripeSubscriptionId, ...fields } = toDocument(record, audit);
    try {
      const result = await this.#licenses.updateOne(
        { _id, version: expectedVersion },
        {
          $set: { ...fields, ...(stripeSubscriptionId === undefined ? {} : { stripeSubscriptionId }) },
          ...(stripeSubscriptionId === undefined ? { $unset: { stripeSubscriptionId: '' as const } } : {}),
          // Recorded in the same guarded update as the change, so neither exists without the other.
          $push: { [PENDING_WEBHOOK_EVENTS]: { $each: licenseWebhookEvents(record, audit) } },
        },
        { writeConcern: this.#guardedWriteConcern },
      );
      if (result.matchedCount === 0) return false;
      await this.#recordAudit(fields.lastAudit);
      return true;
    } catch (error) {
      throw toDatastoreError('update', error);
    }
  }

  async list(query: LicenseQuery): Promise<LicenseRecord[]> {
    const filter: Filter<LicenseDocument> = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.customerId === undefined ? {} : { customerId: query.customerId }),
      ...(query.planId === undefined ? {} : { planId: query.planId }),
      ...(query.product === undefined ? {} : { product: query.product }),
      ...(query.after === undefined ? {} : { _id: { $gt: query.after } }),
    };
    try {
      const documents = await this.#licenses.find(filter, SNAPSHOT_READ).sort({ _id: 1 }).limit(query.limit).toArray();
      return documents.map(toRecord);
    } catch (error) {
      throw toDatastoreError('list', error);
    }
  }

  async auditTrail(licenseId: string, query: AuditQuery): Promise<StoredAuditEntry[]> {
    try {
      // The license's last entry travels with it; if the process died before copying it to
      // the trail, copy it now, so the trail never misses a transition.
      const license = await this.#licenses.findOne({ _id: licenseId }, { projection: { lastAudit: 1 } });
      if (license?.lastAudit) await this.#recordAudit(license.lastAudit);
      const entries = await this.#audit
        .find({ licenseId, version: { $gt: query.afterVersion ?? 0 } })
        .sort({ version: 1 })
        .limit(query.limit)
        .toArray();
      return entries.map(toStoredAudit);
    } catch (error) {
      throw toDatastoreError('auditTrail', error);
    }
  }

  async #findOne(filter: Filter<LicenseDocument>, operation: string): Promise<LicenseRecord | null> {
    try {
      const document = await this.#licenses.findOne(filter, SNAPSHOT_READ);
      return document ? toRecord(document) : null;
    } catch (error) {
      throw toDatastoreError(operation, error);
    }
  }

  async #recordAudit(entry: AuditDocument): Promise<void> {
    // The id is license:version, so a repeated copy is a no-op.
    await this.#audit.updateOne({ _id: entry._id }, { $setOnInsert: entry }, { upsert: true });
  }
}
