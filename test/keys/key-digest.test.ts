/** Lookup digests: HMAC-SHA256 of the canonical key, the same however it is computed. */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import { keyDigest, keyDigester } from '../../lib/keys/key-digest.js';

const SECRET = 's'.repeat(40);

describe('key digests', () => {
  it('is the HMAC-SHA256 of the key under the secret, in lower-case hex', () => {
    expect(keyDigest('TO-ABCDE-FGHJK', SECRET)).toBe(createHmac('sha256', SECRET).update('TO-ABCDE-FGHJK').digest('hex'));
    expect(keyDigest('TO-ABCDE-FGHJK', SECRET)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same digest through a digester made once, for any key and secret', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.uint8Array({ minLength: 32, maxLength: 150 }), (key, secret) => {
        expect(keyDigester(secret)(key)).toBe(keyDigest(key, secret));
        const text = Buffer.from(secret).toString('base64');
        expect(keyDigester(text)(key)).toBe(keyDigest(key, text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('digests keys of every length the same way, on both sides of the fast path limit', () => {
    const digest = keyDigester(SECRET);
    for (const length of [0, 1, 29, 339, 340, 341, 1_000, 5_000]) {
      const key = 'é'.repeat(length);
      expect(digest(key)).toBe(keyDigest(key, SECRET));
    }
    expect(digest('TO-A')).toBe(keyDigest('TO-A', SECRET));
  });

  it('refuses a secret shorter than 32 bytes, both ways', () => {
    expect(() => keyDigest('k', 'short')).toThrow(ConfigurationError);
    expect(() => keyDigester('x'.repeat(31))).toThrow(/at least 32 bytes/);
    expect(() => keyDigester(new Uint8Array(32))).not.toThrow();
  });
});
