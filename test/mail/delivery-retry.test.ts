/** After a failed delivery: exponential backoff up to a cap, then give up; permanent failures give up at once. */
import { describe, expect, it } from 'vitest';

import { checkRetryPolicy, decideAfterFailure, retryDelayMs, type RetryPolicy } from '../../lib/mail/delivery-retry.js';

const POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000 };
const NOW = new Date('2026-03-01T10:00:00Z');

describe('decideAfterFailure', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 5_000],
  ])('retries after attempt %i in %i ms', (attempts, delayMs) => {
    expect(decideAfterFailure(attempts, 'transient', POLICY, NOW)).toEqual({
      action: 'retry',
      delayMs,
      nextAttemptAt: new Date(NOW.getTime() + delayMs),
    });
  });

  it('gives up after the last attempt', () => {
    expect(decideAfterFailure(5, 'transient', POLICY, NOW)).toEqual({ action: 'give_up', reason: 'MAX_ATTEMPTS' });
    expect(decideAfterFailure(9, 'transient', POLICY, NOW)).toEqual({ action: 'give_up', reason: 'MAX_ATTEMPTS' });
  });

  it('gives up at once on a permanent failure', () => {
    expect(decideAfterFailure(1, 'permanent', POLICY, NOW)).toEqual({ action: 'give_up', reason: 'PERMANENT_FAILURE' });
  });

  it('caps the delay even after very many attempts', () => {
    expect(retryDelayMs(10_000, { ...POLICY, maxAttempts: 100_000 })).toBe(5_000);
  });
});

describe('checkRetryPolicy', () => {
  it.each([
    [{ ...POLICY, maxAttempts: 0 }, 'maxAttempts'],
    [{ ...POLICY, maxAttempts: 1.5 }, 'maxAttempts'],
    [{ ...POLICY, baseDelayMs: -1 }, 'baseDelayMs'],
    [{ ...POLICY, maxDelayMs: 10 }, 'maxDelayMs'],
  ])('refuses %o naming %s', (policy, field) => {
    expect(() => checkRetryPolicy(policy)).toThrow(expect.objectContaining({ context: { field } }));
  });
});
