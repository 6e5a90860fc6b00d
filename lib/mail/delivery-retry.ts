/**
 * What happens to an e-mail after a failed delivery attempt: try again later with exponential
 * backoff, or give up and mark it failed. Pure: the sender passes the attempt count and `now`.
 */
import { ConfigurationError } from '../errors/keyward-error.js';

/** How often and how late the sender tries again. */
export interface RetryPolicy {
  /** Attempts before an e-mail is `failed` (the first delivery counts). */
  readonly maxAttempts: number;
  /** Wait after the first failed attempt, in ms; doubles after each further one. */
  readonly baseDelayMs: number;
  /** Longest wait between attempts, in ms. */
  readonly maxDelayMs: number;
}

/** Defaults: 8 attempts, 30 s doubling up to 1 h (about 2 h 40 min from first try to giving up). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };

/** Whether a failure can go away by itself (server down, 4xx) or never will (recipient refused with 5xx, license gone). */
export type FailureKind = 'transient' | 'permanent';

/** The decision after a failed attempt. */
export type RetryDecision =
  | { readonly action: 'retry'; readonly nextAttemptAt: Date; readonly delayMs: number }
  | { readonly action: 'give_up'; readonly reason: 'MAX_ATTEMPTS' | 'PERMANENT_FAILURE' };

/** Checks a policy once, at construction of whatever uses it. */
export function checkRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new ConfigurationError('maxAttempts', 'must be a positive integer');
  if (!Number.isFinite(policy.baseDelayMs) || policy.baseDelayMs < 0) throw new ConfigurationError('baseDelayMs', 'must be zero or more');
  if (!Number.isFinite(policy.maxDelayMs) || policy.maxDelayMs < policy.baseDelayMs) throw new ConfigurationError('maxDelayMs', 'must be at least baseDelayMs');
  return policy;
}

/** Wait before the next attempt after `attempts` failed ones: base × 2^(attempts−1), capped. */
export function retryDelayMs(attempts: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 40));
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/**
 * Decides what follows a failed attempt.
 *
 * @param attempts - Attempts made so far, the failed one included.
 */
export function decideAfterFailure(attempts: number, kind: FailureKind, policy: RetryPolicy, now: Date): RetryDecision {
  if (kind === 'permanent') return { action: 'give_up', reason: 'PERMANENT_FAILURE' };
  if (attempts >= policy.maxAttempts) return { action: 'give_up', reason: 'MAX_ATTEMPTS' };
  const delayMs = retryDelayMs(attempts, policy);
  return { action: 'retry', nextAttemptAt: new Date(now.getTime() + delayMs), delayMs };
}
