/**
 * How a stored license is shown outside the service (admin API, CLI): the masked key and the
 * license's own fields, never the key's digest or ciphertext. One mapping, so that no edge can
 * leak a field the others hide.
 */
import type { License } from '../lifecycle/license.js';
import type { LicenseRecord, StoredAuditEntry } from '../store/license-record.js';

/** A license as shown to operators. */
export interface LicenseView {
  readonly id: string;
  /** Display form of the key, e.g. `TO-****-****-****-E05Q`. */
  readonly keyMask: string;
  readonly keyType: string;
  readonly product: string;
  readonly customerId: string | null;
  readonly planId: string;
  readonly limits: License['limits'];
  readonly features: readonly string[];
  readonly status: License['status'];
  readonly suspension: License['suspension'];
  readonly revocation: License['revocation'];
  readonly trial: License['trial'];
  readonly periodEndsAt: Date | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly pendingChange: License['pendingChange'];
  readonly activations: License['activations'];
  readonly stripeSubscriptionId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** The short form, for bulk answers (one line of a CSV, one element of an issue answer). */
export type LicenseSummary = Pick<
  LicenseView,
  'id' | 'keyMask' | 'keyType' | 'product' | 'customerId' | 'planId' | 'status' | 'trial' | 'periodEndsAt' | 'createdAt'
>;

/** An audit entry as shown to operators. */
export type AuditEntryView = Omit<StoredAuditEntry, 'licenseId'>;

/** The view of a stored license. Lists fields one by one, so that a new stored field stays hidden until chosen. */
export function licenseView(record: LicenseRecord): LicenseView {
  const { license } = record;
  return {
    id: license.id,
    keyMask: record.keyMask,
    keyType: license.keyType,
    product: license.product,
    customerId: license.customerId,
    planId: license.planId,
    limits: license.limits,
    features: license.features,
    status: license.status,
    suspension: license.suspension,
    revocation: license.revocation,
    trial: license.trial,
    periodEndsAt: license.periodEndsAt,
    cancelAtPeriodEnd: license.cancelAtPeriodEnd,
    pendingChange: license.pendingChange,
    activations: license.activations,
    stripeSubscriptionId: record.stripeSubscriptionId,
    createdAt: license.createdAt,
    updatedAt: license.updatedAt,
    version: license.version,
  };
}

/** The summary of a stored license. */
export function licenseSummary(record: LicenseRecord): LicenseSummary {
  const { license } = record;
  return {
    id: license.id,
    keyMask: record.keyMask,
    keyType: license.keyType,
    product: license.product,
    customerId: license.customerId,
    planId: license.planId,
    status: license.status,
    trial: license.trial,
    periodEndsAt: license.periodEndsAt,
    createdAt: license.createdAt,
  };
}

/** The view of an audit entry (its license is the one asked about). */
export function auditEntryView(entry: StoredAuditEntry): AuditEntryView {
  return { version: entry.version, at: entry.at, command: entry.command, from: entry.from, to: entry.to, cause: entry.cause, details: entry.details };
}
