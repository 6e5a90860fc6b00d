/** The port the license service writes through. The MongoDB implementation is beside it. */
import type { License } from '../lifecycle/license.js';
import type { AuditEntry } from '../lifecycle/outcome.js';
import type { AuditQuery, LicenseQuery, LicenseRecord, StoredAuditEntry } from './license-record.js';

/** Storage of licenses and their audit trail. */
export interface LicenseStore {
  /** Stores a new license and its first audit entry. Throws DuplicateKeyError on a repeated key or subscription. */
  insert(record: LicenseRecord, audit: AuditEntry): Promise<void>;
  /** Stores many new licenses at once (bulk issue); same errors as insert. */
  insertMany(records: ReadonlyArray<{ record: LicenseRecord; audit: AuditEntry }>): Promise<void>;
  findById(id: string): Promise<LicenseRecord | null>;
  /** The stored licenses among these ids, in no particular order (one query; ids not found are left out). */
  findByIds(ids: readonly string[]): Promise<LicenseRecord[]>;
  findByDigest(keyDigest: string): Promise<LicenseRecord | null>;
  /**
   * The licenses (without their sealed key) whose key digest is one of these, keyed by digest,
   * in one query; digests not found are left out. Each is one consistent version.
   */
  findLicensesByDigests(keyDigests: readonly string[]): Promise<Map<string, License>>;
  findByStripeSubscription(subscriptionId: string): Promise<LicenseRecord | null>;
  /**
   * Replaces the license if, and only if, it is still at `expectedVersion`, in one atomic
   * single-document update; records the audit entry. Returns false when another writer won.
   */
  update(record: LicenseRecord, expectedVersion: number, audit: AuditEntry): Promise<boolean>;
  list(query: LicenseQuery): Promise<LicenseRecord[]>;
  auditTrail(licenseId: string, query: AuditQuery): Promise<StoredAuditEntry[]>;
}
