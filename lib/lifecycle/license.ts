/** The license record that lifecycle commands transform. Plain data: no methods, no I/O. */
import type { PlanLimits } from '../plans/plan.js';

/** Lifecycle states (design.md). A trial is a flag on an active license, not a state. */
export type LicenseStatus = 'active' | 'suspended' | 'expired' | 'revoked';

/** Why a license is suspended. `payment_failed` is lifted by a renewal. */
export type SuspensionReason = 'payment_failed' | 'abuse_hold' | 'dispute' | 'manual';

/** Why a license was revoked. */
export type RevocationReason = 'refund' | 'chargeback' | 'abuse' | 'manual';

/** What a seat is bound to. */
export type ActivationKind = 'machine' | 'domain';

/** One bound seat. */
export interface Activation {
  /** `act_` followed by 16 hex characters, derived from the license, kind and value. */
  readonly id: string;
  readonly kind: ActivationKind;
  /** Machine fingerprint, or normalised domain. */
  readonly value: string;
  /** Optional human label, e.g. a machine name. */
  readonly label: string | null;
  readonly activatedAt: Date;
  /** A floating seat's last heartbeat; absent until the first (the check-out counts as one). */
  readonly lastHeartbeatAt?: Date;
}

/** A plan change that takes effect later (downgrades wait for the end of the paid period). */
export interface PendingPlanChange {
  readonly planId: string;
  readonly planRank: number;
  readonly limits: PlanLimits;
  readonly features: readonly string[];
  readonly effectiveAt: Date;
  /** Activations chosen to be freed when the change takes effect. */
  readonly freeActivationIds: readonly string[];
}

/** A license. The key itself never appears: only its lookup digest. */
export interface License {
  /** `lic_…` */
  readonly id: string;
  /** HMAC digest of the canonical key; never changes, whatever happens to the license. */
  readonly keyDigest: string;
  /** Key type id (`production`, `trial`, …). */
  readonly keyType: string;
  readonly product: string;
  readonly customerId: string | null;
  readonly planId: string;
  readonly planRank: number;
  readonly limits: PlanLimits;
  readonly features: readonly string[];
  readonly status: LicenseStatus;
  readonly suspension: { readonly reason: SuspensionReason; readonly at: Date; readonly note: string | null } | null;
  readonly revocation: { readonly reason: RevocationReason; readonly at: Date; readonly note: string | null } | null;
  /** Set while the license is a trial. */
  readonly trial: { readonly endsAt: Date } | null;
  /** End of the paid (or trial) period; `null` for a perpetual license. */
  readonly periodEndsAt: Date | null;
  /** Cancelled: valid until `periodEndsAt`, then expired. */
  readonly cancelAtPeriodEnd: boolean;
  readonly pendingChange: PendingPlanChange | null;
  readonly activations: readonly Activation[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Incremented by every transition; stores use it to guard concurrent updates. */
  readonly version: number;
}

/** Whether the paid period is over at `now` (never, for a perpetual license). */
export function periodEnded(license: Pick<License, 'periodEndsAt'>, now: Date, graceMs = 0): boolean {
  return license.periodEndsAt !== null && now.getTime() >= license.periodEndsAt.getTime() + graceMs;
}
