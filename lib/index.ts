/**
 * Keyward's core library: key format, plans, lifecycle, validation decision and signed tokens.
 * Everything exported here is pure (time is always passed in) and does no network or disk I/O.
 */
export { KeywardError, ConfigurationError, type KeywardErrorOptions, type ConfigurationErrorContext } from './errors/keyward-error.js';

export { CROCKFORD_ALPHABET } from './keys/crockford.js';
export {
  defineKeyTypes,
  DEFAULT_KEY_TYPES,
  DEFAULT_GROUPS,
  GROUP_LENGTH,
  MAX_GROUPS,
  type KeyType,
  type KeyTypeDefinition,
  type KeyTypeSet,
} from './keys/key-type.js';
export { generateKey, generateKeys, type GenerateKeyOptions, type RandomFill } from './keys/generate-key.js';
export {
  parseKey,
  MAX_KEY_INPUT_LENGTH,
  type ParseKeyResult,
  type ParsedKey,
  type MalformedKey,
  type MalformedKeyReason,
} from './keys/parse-key.js';
export { keyDigest, MIN_DIGEST_SECRET_BYTES } from './keys/key-digest.js';
export { maskKey, type MaskKeyOptions } from './keys/mask-key.js';

export type { Plan, PlanLimits, AbuseThresholds, FloatingSeats } from './plans/plan.js';
export { loadPlanCatalogue, type PlanCatalogue } from './plans/plan-catalogue.js';

export type {
  License,
  LicenseStatus,
  Activation,
  ActivationKind,
  PendingPlanChange,
  SuspensionReason,
  RevocationReason,
} from './lifecycle/license.js';
export { periodEnded } from './lifecycle/license.js';
export type * from './lifecycle/commands.js';
export type { AuditEntry, LifecycleRefusal, LifecycleRefusalCode, LifecycleResult } from './lifecycle/outcome.js';
export { issueLicense, type IssueLicenseInput } from './lifecycle/issue-license.js';
export { applyCommand } from './lifecycle/apply-command.js';
export { leaseEndOf, isSeatLive, liveMachineSeats } from './lifecycle/floating-seat.js';
export { normaliseDomain, normaliseFingerprint, activationIdFor } from './lifecycle/binding-value.js';

export { VALIDATION_CODES, type ValidationCode } from './validation/validation-code.js';
export {
  decideValidation,
  decide,
  type ValidationRequest,
  type ValidationDecision,
  type DecideValidationOptions,
  type LicenseSummary,
} from './validation/decide-validation.js';

export {
  signValidationToken,
  verifyValidationToken,
  generateTokenKeyPair,
  type ValidationTokenClaims,
  type SignValidationTokenOptions,
  type VerifyValidationTokenOptions,
  type VerifyValidationTokenResult,
  type TokenRejection,
} from './tokens/validation-token.js';
export {
  createSigningKeySet,
  parseVerificationKeys,
  readPrivateKey,
  readPublicKey,
  publicJwk,
  type SigningKeySet,
  type SigningKeySetOptions,
  type VerificationKeyOptions,
  type KeyInForce,
  type Ed25519Jwk,
  type Jwks,
} from './tokens/signing-key-set.js';

export { CASE_STATUSES, CASE_ACTIONS, type AbuseCase, type CaseStatus, type CaseAction, type CaseDecision, type CaseTimelineEntry } from './abuse/abuse-case.js';
export { caseIdOf } from './abuse/case-id.js';
export { scoreCase, type ScoreCaseOptions, type ScoredSignal } from './abuse/score-case.js';
export { rollUpSignal, type RollUpResult, type RollUpChange } from './abuse/roll-up-signal.js';
export { checkCaseAction, decideCase, type CaseDecisionResult, type CaseRefusalCode } from './abuse/decide-case.js';
export { buildReport, clusterTrialLinks } from './abuse/build-report.js';
export { renderReportHtml } from './abuse/report-html.js';
export { renderReportCsv } from './abuse/report-csv.js';
export type { ReportContent, ReportInput, TrialCyclingCluster } from './abuse/report-content.js';
export { DEFAULT_DETECTION_THRESHOLDS, KEY_GUESSING_WINDOW_MS, resolveThresholds, type DetectionThresholds } from './abuse/detection-thresholds.js';
export type { SignalVerdict } from './abuse/signal-verdict.js';
export { evaluateVelocity, type VelocityWindow } from './abuse/evaluate-velocity.js';
export { evaluateGeoSpread, type GeoWindow } from './abuse/evaluate-geo-spread.js';
export {
  evaluateDomainSpoofing,
  evaluateSpoofingWindow,
  type DomainClaim,
  type DomainSpoofingVerdict,
  type SpoofReason,
  type SpoofingWindow,
} from './abuse/evaluate-domain-spoofing.js';
export { evaluateKeyGuessing, type KeyGuessingWindow } from './abuse/evaluate-key-guessing.js';
export { evaluateSeatSharing, unseatedMachinesAllowed, type SeatWindow } from './abuse/evaluate-seat-sharing.js';
export {
  evaluateTrialCycling,
  networkLinkWeight,
  trialNetworkOf,
  SHARED_NETWORK_CUSTOMERS,
  TRIAL_LOOKBACK_MS,
  type TrialCyclingThresholds,
  type TrialProfile,
  type TrialLink,
  type LinkedCustomer,
  type TrialCyclingVerdict,
} from './abuse/evaluate-trial-cycling.js';
export { normalizeEmail } from './abuse/normalize-email.js';
export { networkOf } from './abuse/network-of.js';
export { addressScopeOf, type AddressScope } from './abuse/address-scope.js';
export { signalIdOf } from './abuse/signal-id.js';
export { SIGNAL_KINDS, type AbuseSignal, type SignalKind, type SignalSubject, type SignalEvidence, type CountedValue } from './abuse/abuse-signal.js';
export { trialCustomerOf, type TrialRecorder, type TrialRegistration, type TrialSighting } from './abuse/trial-registration.js';
export {
  HANDLED_STRIPE_EVENTS,
  type BillingEvent,
  type SubscriptionSnapshot,
  type SubscriptionStatus,
} from './billing/billing-event.js';
export { normalizeStripeEvent, type NormalizeResult } from './billing/normalize-stripe-event.js';
export { emptySubscriptionState, failingSince, type SubscriptionState } from './billing/subscription-state.js';
export { latestSnapshot, orderSnapshotFacts, planOfSnapshot, targetPlan, type SnapshotFact, type PlanTarget } from './billing/subscription-history.js';
export {
  decideBillingActions,
  type BillingDecision,
  type BillingDecisionInput,
  type BillingChange,
  type BillingEffect,
} from './billing/decide-billing-actions.js';
