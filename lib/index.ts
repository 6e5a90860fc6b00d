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

export type { Plan, PlanLimits, AbuseThresholds } from './plans/plan.js';
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
  HANDLED_STRIPE_EVENTS,
  type BillingEvent,
  type SubscriptionSnapshot,
  type SubscriptionStatus,
} from './billing/billing-event.js';
export { normalizeStripeEvent, type NormalizeResult } from './billing/normalize-stripe-event.js';
export { emptySubscriptionState, failingSince, type SubscriptionState } from './billing/subscription-state.js';
export {
  decideBillingActions,
  type BillingDecision,
  type BillingDecisionInput,
  type BillingChange,
  type BillingEffect,
} from './billing/decide-billing-actions.js';
