/**
 * The validation decision: given the license found for a key (or none), what the client is
 * told. Pure: the caller looks the license up, counts usage and passes `now`.
 *
 * Precedence, when several codes apply (first wins):
 *  1. MALFORMED_KEY       the key could not be parsed (no lookup was made)
 *  2. NOT_FOUND           no license has this key
 *  3. REVOKED             terminal: nothing else about the license matters
 *  4. PRODUCT_MISMATCH    the key belongs to another product: tell that client nothing more
 *  5. SUSPENDED           an abuse or payment hold is not hidden behind an expiry
 *  6. EXPIRED             status expired, or the period (plus grace) has ended
 *  7. DOMAIN_NOT_ALLOWED  domain binding: the claimed domain is missing or not licensed
 *  8. NOT_ACTIVATED       machine binding: the fingerprint is missing or not activated
 *  9. QUOTA_EXCEEDED      the monthly validation quota is used up
 * 10. VALID
 */
import type { MalformedKey } from '../keys/parse-key.js';
import { normaliseDomain, normaliseFingerprint } from '../lifecycle/binding-value.js';
import { isSeatLive, leaseEndOf } from '../lifecycle/floating-seat.js';
import { periodEnded, type License } from '../lifecycle/license.js';
import type { PlanLimits } from '../plans/plan.js';
import type { ValidationCode } from './validation-code.js';

/** What the client claims, plus usage counted by the caller. */
export interface ValidationRequest {
  /** Set when the key failed to parse: the decision is MALFORMED_KEY. */
  readonly malformed?: MalformedKey;
  /** Product the client belongs to; checked when given. */
  readonly product?: string;
  /** Machine fingerprint. */
  readonly fingerprint?: string;
  /** Domain the client claims to run on. */
  readonly domain?: string;
  /** Validations already counted this month, before this one; quota is not checked when absent. */
  readonly validationsThisMonth?: number;
}

/** Options of the decision. */
export interface DecideValidationOptions {
  /** Time after the period end during which the license still validates, in ms. Default 0. */
  readonly expiryGraceMs?: number;
}

/** What a valid or recognisable license tells its client. */
export interface LicenseSummary {
  readonly id: string;
  readonly product: string;
  readonly status: License['status'];
  readonly planId: string;
  readonly limits: PlanLimits;
  readonly features: readonly string[];
  readonly expiresAt: Date | null;
  readonly trialEndsAt: Date | null;
}

/** The answer: data, never an exception. */
export interface ValidationDecision {
  readonly valid: boolean;
  readonly code: ValidationCode;
  /** A sentence for the user. */
  readonly message: string;
  /** Absent for MALFORMED_KEY, NOT_FOUND and PRODUCT_MISMATCH. */
  readonly license?: LicenseSummary;
  /** The matched activation, when the license binds machines or domains. */
  readonly activationId?: string;
  /** A floating seat's lease end: a heartbeat must come before it (tokens expire with it). */
  readonly leaseExpiresAt?: Date;
}

function summarise(license: License): LicenseSummary {
  return {
    id: license.id,
    product: license.product,
    status: license.status,
    planId: license.planId,
    limits: license.limits,
    features: license.features,
    expiresAt: license.periodEndsAt,
    trialEndsAt: license.trial?.endsAt ?? null,
  };
}

function answer(code: ValidationCode, message: string, license?: License, activationId?: string, leaseExpiresAt?: Date): ValidationDecision {
  const decision: { -readonly [K in keyof ValidationDecision]: ValidationDecision[K] } = { valid: code === 'VALID', code, message };
  if (license) decision.license = summarise(license);
  if (activationId !== undefined) decision.activationId = activationId;
  if (leaseExpiresAt !== undefined) decision.leaseExpiresAt = leaseExpiresAt;
  return decision;
}

/** Decides a validation; see the module comment for the precedence of codes. */
export function decideValidation(
  license: License | null,
  request: ValidationRequest,
  now: Date,
  options: DecideValidationOptions = {},
): ValidationDecision {
  if (request.malformed) return answer('MALFORMED_KEY', request.malformed.message);
  if (license === null) return answer('NOT_FOUND', 'No license has this key.');
  if (license.status === 'revoked') return answer('REVOKED', 'This license has been revoked.', license);
  if (request.product !== undefined && request.product !== license.product) {
    return answer('PRODUCT_MISMATCH', 'This key is for another product.');
  }
  // An expired license can still carry a hold (expire keeps it): it is shown, not hidden.
  if (license.status === 'suspended' || license.suspension !== null) {
    return answer('SUSPENDED', 'This license is suspended.', license);
  }
  if (license.status === 'expired' || periodEnded(license, now, options.expiryGraceMs ?? 0)) {
    return answer('EXPIRED', 'This license has expired.', license);
  }
  let activationId: string | undefined;
  let leaseExpiresAt: Date | undefined;
  if (license.limits.maxDomains !== null) {
    const domain = request.domain === undefined ? null : normaliseDomain(request.domain);
    const match = domain === null ? undefined : license.activations.find((a) => a.kind === 'domain' && a.value === domain);
    if (!match) return answer('DOMAIN_NOT_ALLOWED', 'This license is not activated for this domain.', license);
    activationId = match.id;
  }
  if (license.limits.maxActivations !== null) {
    const fingerprint = request.fingerprint === undefined ? null : normaliseFingerprint(request.fingerprint);
    const match =
      fingerprint === null ? undefined : license.activations.find((a) => a.kind === 'machine' && a.value === fingerprint);
    if (!match) return answer('NOT_ACTIVATED', 'This license is not activated on this machine.', license);
    // A floating seat counts only while its lease runs (lifecycle/floating-seat.ts).
    if (!isSeatLive(license, match, now)) {
      return answer('NOT_ACTIVATED', 'The floating seat of this machine lapsed (no heartbeat in time); check out again.', license);
    }
    activationId = match.id;
    if (license.limits.floating !== undefined) leaseExpiresAt = leaseEndOf(match, license.limits.floating.heartbeatSeconds);
  }
  const quota = license.limits.validationsPerMonth;
  if (quota !== null && request.validationsThisMonth !== undefined && request.validationsThisMonth >= quota) {
    return answer('QUOTA_EXCEEDED', 'This license has used its validations for the month.', license, activationId, leaseExpiresAt);
  }
  return answer('VALID', 'The license is valid.', license, activationId, leaseExpiresAt);
}

/** Short alias of {@link decideValidation}. */
export const decide = decideValidation;
