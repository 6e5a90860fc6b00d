import { createPrivateKey, createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createSigningKeySet, parseVerificationKeys, readPrivateKey } from '../../lib/tokens/signing-key-set.js';
import { generateTokenKeyPair, signValidationToken, verifyValidationToken } from '../../lib/tokens/validation-token.js';
import type { ValidationDecision } from '../../lib/validation/decide-validation.js';

const k1 = generateTokenKeyPair();
const k2 = generateTokenKeyPair();
const k3 = generateTokenKeyPair();

const at = (iso: string): Date => new Date(iso);
const SWITCH = '2026-03-01T00:00:00.000Z';
const TTL_SECONDS = 3 * 86_400;
const RETIRED_UNTIL = new Date(Date.parse(SWITCH) + TTL_SECONDS * 1000);

const valid: ValidationDecision = { valid: true, code: 'VALID', message: 'The license is valid.' };

/** The key set after the switch: k2 signs, k1 retired until every token it signed expired, k3 next. */
const afterSwitch = () =>
  createSigningKeySet({
    privateKey: k2.privateKey,
    keyId: 'k2',
    others: [
      { kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: RETIRED_UNTIL },
      { kid: 'k3', state: 'next', publicKey: k3.publicKey },
    ],
  });

describe('createSigningKeySet', () => {
  it('publishes the current, next and retired keys as Ed25519 JWKs by kid, the current one first', () => {
    const jwks = afterSwitch().jwks(at(SWITCH));

    expect(jwks.keys.map((key) => key.kid)).toEqual(['k2', 'k1', 'k3']);
    for (const key of jwks.keys) expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // The published x is the public key: it verifies what the private key signed.
    const k2Jwk = jwks.keys[0];
    expect(createPublicKey({ key: { ...k2Jwk }, format: 'jwk' }).export({ type: 'spki', format: 'pem' })).toBe(k2.publicKey);
  });

  it('stops publishing a retired key at its validUntil, and then no longer verifies what it signed', () => {
    const set = afterSwitch();
    const oldToken = signValidationToken(valid, at('2026-02-28T23:59:59.000Z'), { privateKey: k1.privateKey, keyId: 'k1', ttlSeconds: TTL_SECONDS });
    const justBefore = new Date(RETIRED_UNTIL.getTime() - 2_000);

    expect(set.jwks(justBefore).keys.map((key) => key.kid)).toContain('k1');
    expect(verifyValidationToken(oldToken, justBefore, { publicKey: set.verificationKeys(justBefore) })).toMatchObject({ ok: true });
    expect(set.jwks(RETIRED_UNTIL).keys.map((key) => key.kid)).toEqual(['k2', 'k3']);
    expect(verifyValidationToken(oldToken, RETIRED_UNTIL, { publicKey: set.verificationKeys(RETIRED_UNTIL), clockToleranceSeconds: 0 })).toEqual({
      ok: false,
      reason: 'UNKNOWN_KEY',
    });
  });

  it('property: a token signed before a switch verifies at every instant until its exp, if the retired key is kept for the token lifetime', () => {
    const switchMs = Date.parse(SWITCH);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: TTL_SECONDS }), // how long before the switch the token was signed
        fc.integer({ min: 0, max: TTL_SECONDS * 2 }), // when it is checked, after signing
        (signedBefore, checkedAfter) => {
          const signedAt = new Date(switchMs - signedBefore * 1000);
          const checkedAt = new Date(signedAt.getTime() + checkedAfter * 1000);
          const token = signValidationToken(valid, signedAt, { privateKey: k1.privateKey, keyId: 'k1', ttlSeconds: TTL_SECONDS });
          const set = checkedAt.getTime() < switchMs ? createSigningKeySet({ privateKey: k1.privateKey, keyId: 'k1' }) : afterSwitch();
          const result = verifyValidationToken(token, checkedAt, { publicKey: set.verificationKeys(checkedAt), clockToleranceSeconds: 0 });
          return checkedAfter <= TTL_SECONDS ? result.ok : !result.ok;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('signs with the current key under its kid', () => {
    const set = afterSwitch();
    const token = signValidationToken(valid, at(SWITCH), { privateKey: set.signing.privateKey, keyId: set.signing.kid });
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'k2' });
    expect(verifyValidationToken(token, at(SWITCH), { publicKey: set.verificationKeys(at(SWITCH)) })).toMatchObject({ ok: true });
  });

  it.each([
    { name: 'a repeated kid', others: [{ kid: 'k1', state: 'next' as const, publicKey: k2.publicKey }], field: 'others[0].kid' },
    { name: 'a retired key without validUntil', others: [{ kid: 'k0', state: 'retired' as const, publicKey: k2.publicKey }], field: 'others[0].validUntil' },
    { name: 'a public key that is not one', others: [{ kid: 'k2', state: 'next' as const, publicKey: 'bm90IGEga2V5' }], field: 'others[0].publicKey' },
    { name: 'a kid with a space', others: [{ kid: 'k 2', state: 'next' as const, publicKey: k2.publicKey }], field: 'others[0].kid' },
  ])('refuses $name, naming the field', ({ others, field }) => {
    expect(() => createSigningKeySet({ privateKey: k1.privateKey, keyId: 'k1', others })).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field } }));
  });
});

describe('readPrivateKey: the forms the configuration table promises', () => {
  const der = createPrivateKey(k1.privateKey).export({ type: 'pkcs8', format: 'der' });

  it.each([
    { form: 'PKCS#8 PEM', text: k1.privateKey },
    { form: 'PEM with escaped newlines (one-line env value)', text: k1.privateKey.replaceAll('\n', '\\n') },
    { form: 'base64 of the PEM', text: Buffer.from(k1.privateKey).toString('base64') },
    { form: 'base64 of the PKCS#8 DER', text: der.toString('base64') },
  ])('reads $form', ({ text }) => {
    expect(readPrivateKey(text).export({ type: 'pkcs8', format: 'pem' })).toBe(k1.privateKey);
  });

  it('refuses a public key given as the private key', () => {
    expect(() => readPrivateKey(k1.publicKey)).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field: 'privateKey' } }));
  });
});

describe('parseVerificationKeys (KEYWARD_SIGNING_KEYS)', () => {
  it('reads next and retired keys, with base64 or PEM public keys', () => {
    const text = JSON.stringify([
      { kid: 'k3', state: 'next', publicKey: Buffer.from(k3.publicKey).toString('base64') },
      { kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: RETIRED_UNTIL.toISOString() },
    ]);

    expect(parseVerificationKeys(text)).toEqual([
      { kid: 'k3', state: 'next', publicKey: Buffer.from(k3.publicKey).toString('base64') },
      { kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: RETIRED_UNTIL },
    ]);
  });

  it.each([
    { name: 'not JSON', text: '[{kid:', field: 'KEYWARD_SIGNING_KEYS' },
    { name: 'an unknown state', text: JSON.stringify([{ kid: 'k2', state: 'old', publicKey: k2.publicKey }]), field: 'KEYWARD_SIGNING_KEYS[0].state' },
    { name: 'a private field', text: JSON.stringify([{ kid: 'k2', state: 'next', publicKey: k2.publicKey, privateKey: k2.privateKey }]), field: 'KEYWARD_SIGNING_KEYS[0]' },
    { name: 'a bad key', text: JSON.stringify([{ kid: 'k2', state: 'next', publicKey: 'AAAA' }]), field: 'KEYWARD_SIGNING_KEYS[0].publicKey' },
    { name: 'a bad date', text: JSON.stringify([{ kid: 'k1', state: 'retired', publicKey: k1.publicKey, validUntil: 'soon' }]), field: 'KEYWARD_SIGNING_KEYS[0].validUntil' },
  ])('refuses $name, naming the place', ({ text, field }) => {
    expect(() => parseVerificationKeys(text)).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field } }));
  });
});
