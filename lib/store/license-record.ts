/** What the store keeps for a license beside the pure {@link License}: the key, sealed. */
import type { License } from '../lifecycle/license.js';
import type { AuditEntry } from '../lifecycle/outcome.js';

/** A stored license. */
export interface LicenseRecord {
  readonly license: License;
  /** AES-256-GCM ciphertext of the key (see createKeyCipher); shown to the owner on request. */
  readonly keyCiphertext: string;
  /** Display form, e.g. `TO-****-****-****-E05Q`. */
  readonly keyMask: string;
  /** Stripe subscription that provisions this license, if any (unique). */
  readonly stripeSubscriptionId: string | null;
}

/** Filters and page of a license listing. Results are ordered by id. */
export interface LicenseQuery {
  readonly status?: License['status'];
  readonly customerId?: string;
  readonly planId?: string;
  readonly product?: string;
  /** Return licenses with an id after this one (the previous page's `nextCursor`). */
  readonly after?: string;
  /** Page size, 1-500. */
  readonly limit: number;
}

/** A page of audit entries, newest last. */
export interface AuditQuery {
  /** Entries after this version. */
  readonly afterVersion?: number;
  readonly limit: number;
}

/** An audit entry as stored, with the license version it produced. */
export interface StoredAuditEntry extends AuditEntry {
  readonly version: number;
}
