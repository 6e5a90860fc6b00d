/** The client's pure parts: the retry policy as a property, and token checks on both crypto paths. */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { decodeToken, verifyToken } from '../../lib/client/verify-token.js';
import { delayBeforeRetry, retryAfterSeconds, retryPolicy } from '../../lib/client/retry-policy.js';
import type { ClientJwk } from '../../lib/client/client-types.js';
import { createSigningKeySet } from '../../lib/tokens/signing-key-set.js';
import { generateTokenKeyPair, signValidationToken } from '../../lib/tokens/validation-token.js';
import type { ValidationDecision } from '../../lib/validation/decide-validation.js';

describe('delayBeforeRetry', () => {
  it('property: a wait is within [0, min(max, base·2^n)], at least a Retry-After the policy allows, and tries stop at the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 10 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        (attempts, baseDelayMs, maxDelayMs, attempt, random, retryAfter) => {
          const policy = retryPolicy({ attempts, baseDelayMs, maxDelayMs, maxRetryAfterMs: 60_000 });
          const delay = delayBeforeRetry(policy, attempt, () => random, retryAfter);
          if (attempt + 1 >= attempts) return delay === null;
          if (retryAfter !== undefined && retryAfter * 1000 > 60_000) return delay === null;
          if (delay === null) return false;
          const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
          return retryAfter === undefined ? delay >= 0 && delay <= cap : delay >= retryAfter * 1000 && delay <= Math.max(retryAfter * 1000, cap);
        },
      ),
    );
  });

  it.each([
    { header: '7', seconds: 7 },
    { header: 'Fri, 04 Dec 2026 05:00:30 GMT', seconds: 30 },
    { header: 'soon', seconds: undefined },
    { header: null, seconds: undefined },
  ])('reads Retry-After $header as $seconds s', ({ header, seconds }) => {
    expect(retryAfterSeconds(header, new Date('2026-12-04T05:00:00Z'))).toBe(seconds);
  });

  it('refuses nonsense settings', () => {
    expect(() => retryPolicy({ attempts: 0 })).toThrow(/retry.attempts/);
    expect(() => retryPolicy({ baseDelayMs: -1 })).toThrow(/retry.baseDelayMs/);
  });
});

describe('verifyToken', () => {
  const pair = generateTokenKeyPair();
  const set = createSigningKeySet({ privateKey: pair.privateKey, keyId: 'k1' });
  const now = new Date('2026-12-04T05:00:00Z');
  const keys = new Map(set.jwks(now).keys.map((key) => [key.kid, key as ClientJwk]));
  const decision: ValidationDecision = { valid: true, code: 'VALID', message: '' };
  const token = signValidationToken(decision, now, { privateKey: pair.privateKey, keyId: 'k1', product: 'editor', fingerprint: 'fp', ttlSeconds: 600 });
  const expectations = { issuer: 'keyward', product: 'editor', fingerprint: 'fp', now, clockSkewSeconds: 60 };

  afterEach(() => vi.restoreAllMocks());

  it('accepts a good token with Web Crypto, and with node:crypto where Web Crypto has no Ed25519', async () => {
    expect(await verifyToken(token, keys, expectations)).toMatchObject({ ok: true, claims: { aud: 'editor', code: 'VALID' } });
    vi.spyOn(globalThis.crypto.subtle, 'importKey').mockRejectedValue(new DOMException('Unrecognized name.', 'NotSupportedError'));
    expect(await verifyToken(token, keys, expectations)).toMatchObject({ ok: true });
    const [h, c] = token.split('.') as [string, string];
    expect(await verifyToken(`${h}.${c}.${'A'.repeat(86)}`, keys, expectations)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it.each([
    { name: 'a server clock within the skew ahead', at: new Date(now.getTime() - 59_000), result: { ok: true } },
    { name: 'a server clock beyond the skew ahead', at: new Date(now.getTime() - 61_000), result: { ok: false, reason: 'TOKEN_NOT_YET_VALID' } },
    { name: 'one second before exp', at: new Date(now.getTime() + 599_000), result: { ok: true } },
    { name: 'exp itself (never past it)', at: new Date(now.getTime() + 600_000), result: { ok: false, reason: 'TOKEN_EXPIRED' } },
  ])('at $name: $result.reason', async ({ at, result }) => {
    expect(await verifyToken(token, keys, { ...expectations, now: at })).toMatchObject(result);
  });

  it('names an unknown kid and a malformed token', async () => {
    expect(await verifyToken(token, new Map(), expectations)).toEqual({ ok: false, reason: 'UNKNOWN_KEY' });
    expect(await verifyToken('a.b', keys, expectations)).toEqual({ ok: false, reason: 'MALFORMED_TOKEN' });
    expect(decodeToken(token)?.header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' });
  });
});
