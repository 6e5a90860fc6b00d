/**
 * When the client tries again: exponential backoff with full jitter (a random wait between 0
 * and the capped exponential), so many clients that failed together do not return together;
 * a 429's Retry-After is honoured as the least wait, and one longer than the client may wait
 * ends the tries at once.
 */

/** Retry settings (defaults in brackets). */
export interface RetryOptions {
  /** Tries in all, the first included [4]. */
  readonly attempts?: number;
  /** Cap of the first backoff, in ms [250]; doubles per try. */
  readonly baseDelayMs?: number;
  /** Largest backoff, in ms [5000]. */
  readonly maxDelayMs?: number;
  /** Longest Retry-After the client waits for, in ms [30000]; a longer one is answered at once. */
  readonly maxRetryAfterMs?: number;
}

/** The settings with their defaults. */
export type RetryPolicy = Required<RetryOptions>;

/** Checks and completes retry options. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000, maxRetryAfterMs: 30_000, ...options };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0 || (name === 'attempts' && (!Number.isInteger(value) || value < 1))) {
      throw new TypeError(`keyward/client: retry.${name} must be ${name === 'attempts' ? 'a positive integer' : 'a non-negative number'}`);
    }
  }
  return policy;
}

/** Seconds in a Retry-After header (delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: Date): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

/**
 * The wait before try number `attempt + 1` (attempt counts from 0), or `null` to stop: no tries
 * left, or a Retry-After longer than the policy allows.
 */
export function delayBeforeRetry(policy: RetryPolicy, attempt: number, random: () => number, retryAfter?: number): number | null {
  if (attempt + 1 >= policy.attempts) return null;
  const backoff = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  if (retryAfter === undefined) return backoff;
  const asked = retryAfter * 1000;
  return asked > policy.maxRetryAfterMs ? null : Math.max(asked, backoff);
}
