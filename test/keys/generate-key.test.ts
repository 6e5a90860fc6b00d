import { describe, expect, it } from 'vitest';
import { CROCKFORD_ALPHABET } from '../../lib/keys/crockford.js';
import { generateKey, generateKeys } from '../../lib/keys/generate-key.js';
import { keyDigest } from '../../lib/keys/key-digest.js';
import { maskKey } from '../../lib/keys/mask-key.js';
import { parseKey } from '../../lib/keys/parse-key.js';

describe('generateKey', () => {
  it('writes PREFIX-XXXX-XXXX-XXXX-XXXX in Crockford base32', () => {
    expect(generateKey()).toMatch(/^TO-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
    expect(generateKey({ prefix: 'TO-T' })).toMatch(/^TO-T(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
    expect(generateKey({ groups: 6 })).toMatch(/^TO(-[0-9A-HJKMNP-TV-Z]{4}){6}$/);
  });

  it('produces keys that parse to themselves', () => {
    for (const key of generateKeys(1000)) expect(parseKey(key)).toMatchObject({ ok: true, key });
  });

  it('uses every symbol about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const keys = generateKeys(20_000);
    for (const key of keys) {
      // Only the 15 random symbols; the check symbol is derived.
      for (const symbol of key.slice(3, -1).replaceAll('-', '')) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    const expected = (20_000 * 15) / 32;
    expect([...counts.keys()].sort().join('')).toBe(CROCKFORD_ALPHABET);
    // Chi-square with 31 degrees of freedom: 61.1 is the 0.1% critical value.
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(61.1);
  });

  it('takes its randomness from the given source when one is passed', () => {
    const zeros = (bytes: Uint8Array) => bytes.fill(0);
    expect(generateKey({ random: zeros })).toBe(generateKey({ random: zeros }));
  });

  it('generates many distinct keys at once', () => {
    const keys = generateKeys(50_000, { prefix: 'TO-T' });
    expect(new Set(keys).size).toBe(50_000);
  });

  it.each([
    [{ prefix: 'T U' }, 'prefix'],
    [{ groups: 2 }, 'groups'],
    [{ groups: 4.5 }, 'groups'],
  ])('refuses bad options %j', (options, field) => {
    expect(() => generateKey(options)).toThrowError(expect.objectContaining({ context: { field } }));
  });
});

describe('keyDigest', () => {
  const secret = 'k'.repeat(32);
  it('is a stable HMAC-SHA256 hex digest that depends on the secret', () => {
    const key = generateKey();
    expect(keyDigest(key, secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyDigest(key, secret)).toBe(keyDigest(key, secret));
    expect(keyDigest(key, 'j'.repeat(32))).not.toBe(keyDigest(key, secret));
  });
  it('refuses a weak secret', () => {
    expect(() => keyDigest('TO-0000', 'short')).toThrowError(expect.objectContaining({ context: { field: 'secret' } }));
  });
});

describe('maskKey', () => {
  it.each([
    ['TO-A3F2-B891-C4D7-E05Q', 'TO-****-****-****-E05Q'],
    ['TO-T-A3F2-B891-C4D7-E05Q', 'TO-T-****-****-****-E05Q'],
  ])('%s → %s', (key, masked) => expect(maskKey(key)).toBe(masked));
  it('masks longer keys given their group count', () => {
    expect(maskKey('TO-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF', { groups: 6 })).toBe('TO-****-****-****-****-****-FFFF');
  });
});
