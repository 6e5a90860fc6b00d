/**
 * When a failed delivery is tried again: exponential backoff with jitter, spread over about
 * three days by default, then given up. Pure: the caller passes the random draw.
 */

/** How deliveries are retried. */
export interface WebhookRetryPolicy {
  /** Attempts in all, the first included. Default 21 (about 3.1 days of retries). */
  readonly maxAttempts: number;
  /** Wait after the first failure, in ms. Default 10,000. */
  readonly baseDelayMs: number;
  /** Longest wait between two attempts, in ms. Default 28,800,000 (8 hours). */
  readonly maxDelayMs: number;
  /** Jitter: each wait is the nominal one times a factor in [1 − jitter, 1 + jitter]. Default 0.2. */
  readonly jitter: number;
}

/** The defaults: 10 s doubling to 8 h, 21 attempts over about 3.1 days, ±20 % jitter. */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { maxAttempts: 21, baseDelayMs: 10_000, maxDelayMs: 28_800_000, jitter: 0.2 };

/** The nominal wait (no jitter) after failed attempt number `attempt` (1-based). */
export function nominalRetryDelayMs(attempt: number, policy: WebhookRetryPolicy = DEFAULT_WEBHOOK_RETRY): number {
  // 2^(attempt-1) overflows nothing for attempt ≤ 1024; past the cap it no longer matters.
  const doubled = policy.baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 52);
  return Math.min(doubled, policy.maxDelayMs);
}

/** What to do after a failed attempt. */
export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/**
 * After failed attempt number `attempt` (1-based): retry after the nominal wait times a jitter
 * factor from `random` (a draw in [0, 1)), or give up once `maxAttempts` have been made.
 */
export function decideRetry(attempt: number, random: number, policy: WebhookRetryPolicy = DEFAULT_WEBHOOK_RETRY): RetryDecision {
  if (attempt >= policy.maxAttempts) return { retry: false };
  const factor = 1 - policy.jitter + 2 * policy.jitter * Math.min(Math.max(random, 0), 1);
  return { retry: true, delayMs: Math.max(1, Math.round(nominalRetryDelayMs(attempt, policy) * factor)) };
}

/** Total nominal time from the first attempt to the last, in ms. */
export function nominalRetrySpanMs(policy: WebhookRetryPolicy = DEFAULT_WEBHOOK_RETRY): number {
  let total = 0;
  for (let attempt = 1; attempt < policy.maxAttempts; attempt++) total += nominalRetryDelayMs(attempt, policy);
  return total;
}
