/** The closed list of validation answers (design.md, Validation). */

/** Every code a validation can answer with. */
export const VALIDATION_CODES = [
  'VALID',
  'MALFORMED_KEY',
  'NOT_FOUND',
  'EXPIRED',
  'SUSPENDED',
  'REVOKED',
  'NOT_ACTIVATED',
  'PRODUCT_MISMATCH',
  'DOMAIN_NOT_ALLOWED',
  'QUOTA_EXCEEDED',
] as const;

/** A validation answer code. */
export type ValidationCode = (typeof VALIDATION_CODES)[number];
