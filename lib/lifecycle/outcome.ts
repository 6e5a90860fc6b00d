/** What a lifecycle command returns: the new license and its audit entry, or a refusal. */
import type { Cause } from './commands.js';
import type { License, LicenseStatus } from './license.js';

/** Closed list of reasons a command is refused. */
export type LifecycleRefusalCode =
  | 'INVALID_COMMAND'
  | 'LICENSE_REVOKED'
  | 'LICENSE_EXPIRED'
  | 'LICENSE_SUSPENDED'
  | 'ALREADY_REVOKED'
  | 'ALREADY_EXPIRED'
  | 'ALREADY_SUSPENDED'
  | 'ALREADY_CANCELLED'
  | 'ALREADY_ACTIVATED'
  | 'NOT_SUSPENDED'
  | 'NOT_CANCELLED'
  | 'SUSPENDED_FOR_OTHER_REASON'
  | 'PERIOD_ENDED'
  | 'PERIOD_NOT_EXTENDED'
  | 'NO_PERIOD'
  | 'NOT_DUE'
  | 'NO_PENDING_CHANGE'
  | 'SAME_PLAN'
  | 'ACTIVATION_LIMIT_REACHED'
  | 'DOMAIN_LIMIT_REACHED'
  | 'BINDING_NOT_ALLOWED'
  | 'NOT_ACTIVATED'
  | 'SEATS_EXCEED_PLAN'
  | 'UNKNOWN_ACTIVATION'
  | 'NOT_FLOATING';

/** A refused command: a normal value, not an exception. */
export interface LifecycleRefusal {
  readonly code: LifecycleRefusalCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One line of the audit trail. */
export interface AuditEntry {
  readonly licenseId: string;
  readonly at: Date;
  /** Command name, or `issue`. */
  readonly command: string;
  /** Status before (`null` when issued). */
  readonly from: LicenseStatus | null;
  readonly to: LicenseStatus;
  readonly cause: Cause;
  /** What changed, for people reading the trail. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** Outcome of a lifecycle command. */
export type LifecycleResult =
  | { readonly ok: true; readonly license: License; readonly audit: AuditEntry }
  | { readonly ok: false; readonly refusal: LifecycleRefusal };

/** A refusal outcome. */
export function refuse(code: LifecycleRefusalCode, message: string, details?: Record<string, unknown>): LifecycleResult {
  return { ok: false, refusal: details ? { code, message, details } : { code, message } };
}
