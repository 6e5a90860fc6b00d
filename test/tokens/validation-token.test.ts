import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { ConfigurationError } from '../../lib/errors/keyward-error.js';
import {
  generateTokenKeyPair,
  signValidationToken,
  verifyValidationToken,
  type SignValidationTokenOptions,
} from '../../lib/tokens/validation-token.js';
import type { ValidationDecision } from '../../lib/validation/decide-validation.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: one key pair per file (generation is the slow part), fixed instants.
// ---------------------------------------------------------------------------------------------

const SIGNED_AT = '2025-01-15T12:00:00.000Z';
const SIGNED_AT_SECONDS = Date.parse(SIGNED_AT) / 1000;
const PERIOD_END = '2025-02-01T00:00:00.000Z';
const DAY_SECONDS = 86_400;

const at = (iso: string): Date => new Date(iso);
/** The instant `seconds` after SIGNED_AT. */
const after = (seconds: number): Date => new Date((SIGNED_AT_SECONDS + seconds) * 1000);

const keys = generateTokenKeyPair();
const otherKeys = generateTokenKeyPair();

const validDecision: ValidationDecision = {
  valid: true,
  code: 'VALID',
  message: 'The license is valid.',
  license: {
    id: 'lic_0000000000tokn',
    product: 'editor',
    status: 'active',
    planId: 'pro',
    limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null },
    features: ['export', 'sso'],
    expiresAt: at(PERIOD_END),
    trialEndsAt: null,
  },
  activationId: 'act_0123456789abcdef',
};

const notFound: ValidationDecision = { valid: false, code: 'NOT_FOUND', message: 'No license has this key.' };

function sign(decision: ValidationDecision = validDecision, options: Partial<SignValidationTokenOptions> = {}): string {
  return signValidationToken(decision, at(SIGNED_AT), { privateKey: keys.privateKey, ...options });
}

/** The three segments of a compact JWS. */
function segments(token: string): [header: string, payload: string, signature: string] {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return parts as [string, string, string];
}

const decodeSegment = (segment: string): unknown => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
const encodeSegment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

// ---------------------------------------------------------------------------------------------

describe('signValidationToken then verifyValidationToken', () => {
  it('round-trips the claims of a valid answer', () => {
    const result = verifyValidationToken(sign(validDecision, { fingerprint: 'fp-alpha' }), at(SIGNED_AT), { publicKey: keys.publicKey });

    expect(result).toEqual({
      ok: true,
      claims: {
        iss: 'keyward',
        aud: 'editor',
        sub: 'lic_0000000000tokn',
        product: 'editor',
        plan: 'pro',
        features: ['export', 'sso'],
        licenseExpiresAt: Date.parse(PERIOD_END) / 1000,
        iat: SIGNED_AT_SECONDS,
        exp: SIGNED_AT_SECONDS + 3 * DAY_SECONDS,
        valid: true,
        code: 'VALID',
        fingerprint: 'fp-alpha',
      },
    });
  });

  it('signs a refusal without a license: no subject, no plan', () => {
    const result = verifyValidationToken(sign(notFound), at(SIGNED_AT), { publicKey: keys.publicKey });

    expect(result).toEqual({
      ok: true,
      claims: { iss: 'keyward', iat: SIGNED_AT_SECONDS, exp: SIGNED_AT_SECONDS + 3 * DAY_SECONDS, valid: false, code: 'NOT_FOUND' },
    });
  });

  it('carries a perpetual license as licenseExpiresAt null, and the domain it was asked for', () => {
    const perpetual: ValidationDecision = {
      ...validDecision,
      license: { ...validDecision.license!, expiresAt: null },
    };

    const token = sign(perpetual, { domain: 'example.com', fingerprint: 'fp-alpha' });

    const result = verifyValidationToken(token, at(SIGNED_AT), { publicKey: keys.publicKey });

    expect(result).toMatchObject({ ok: true, claims: { licenseExpiresAt: null, domain: 'example.com', fingerprint: 'fp-alpha' } });
  });

  it('honours ttlSeconds and issuer', () => {
    const token = sign(validDecision, { ttlSeconds: 600, issuer: 'keyward-eu' });

    const result = verifyValidationToken(token, at(SIGNED_AT), { publicKey: keys.publicKey, issuer: 'keyward-eu' });

    expect(result).toMatchObject({ ok: true, claims: { iss: 'keyward-eu', exp: SIGNED_AT_SECONDS + 600 } });
  });

  it('accepts keys as KeyObjects as well as PEM', () => {
    const token = sign(validDecision, { privateKey: createPrivateKey(keys.privateKey) });

    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: createPublicKey(keys.publicKey) })).toMatchObject({ ok: true });
  });

  it('is deterministic: Ed25519 signs the same input the same way', () => {
    expect(sign()).toBe(sign());
  });
});

describe('verifyValidationToken rejections', () => {
  it('a tampered payload → BAD_SIGNATURE', () => {
    const [header, payload, signature] = segments(sign(notFound));
    const claims = decodeSegment(payload) as Record<string, unknown>;
    const forged = encodeSegment({ ...claims, valid: true, code: 'VALID' });

    const result = verifyValidationToken(`${header}.${forged}.${signature}`, at(SIGNED_AT), { publicKey: keys.publicKey });

    expect(result).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('a tampered signature → BAD_SIGNATURE', () => {
    const [header, payload, signature] = segments(sign());
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;

    const result = verifyValidationToken(`${header}.${payload}.${bytes.toString('base64url')}`, at(SIGNED_AT), { publicKey: keys.publicKey });

    expect(result).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it.each([
    { name: 'empty', signature: '' },
    { name: 'too short', signature: 'AAAA' },
  ])('a signature that is $name → BAD_SIGNATURE', ({ signature }) => {
    const [header, payload] = segments(sign());

    expect(verifyValidationToken(`${header}.${payload}.${signature}`, at(SIGNED_AT), { publicKey: keys.publicKey })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('a token signed by another key pair → BAD_SIGNATURE', () => {
    const token = sign(validDecision, { privateKey: otherKeys.privateKey });

    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: keys.publicKey })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it.each<{ name: string; now: Date; tolerance?: number; expected: { ok: true } | { ok: false; reason: string } }>([
    { name: 'at its expiry', now: after(3 * DAY_SECONDS), expected: { ok: true } },
    { name: 'within the default 60 s tolerance after expiry', now: after(3 * DAY_SECONDS + 60), expected: { ok: true } },
    { name: 'past expiry + tolerance', now: after(3 * DAY_SECONDS + 61), expected: { ok: false, reason: 'TOKEN_EXPIRED' } },
    { name: 'a year later', now: after(365 * DAY_SECONDS), expected: { ok: false, reason: 'TOKEN_EXPIRED' } },
    { name: 'past expiry with no tolerance', now: after(3 * DAY_SECONDS + 1), tolerance: 0, expected: { ok: false, reason: 'TOKEN_EXPIRED' } },
    { name: 'past expiry within a wider tolerance', now: after(3 * DAY_SECONDS + 300), tolerance: 600, expected: { ok: true } },
    { name: 'issued up to the tolerance in the future', now: after(-60), expected: { ok: true } },
    { name: 'issued further in the future', now: after(-61), expected: { ok: false, reason: 'TOKEN_NOT_YET_VALID' } },
    { name: 'issued a day in the future', now: after(-DAY_SECONDS), expected: { ok: false, reason: 'TOKEN_NOT_YET_VALID' } },
    { name: 'issued a second in the future with no tolerance', now: after(-1), tolerance: 0, expected: { ok: false, reason: 'TOKEN_NOT_YET_VALID' } },
  ])('checked $name → $expected', ({ now, tolerance, expected }) => {
    const options = tolerance === undefined ? { publicKey: keys.publicKey } : { publicKey: keys.publicKey, clockToleranceSeconds: tolerance };

    expect(verifyValidationToken(sign(), now, options)).toMatchObject(expected);
  });

  it.each([
    { name: 'an empty string', token: '' },
    { name: 'one segment', token: 'abc' },
    { name: 'two segments', token: 'abc.def' },
    { name: 'four segments', token: 'a.b.c.d' },
    { name: 'three empty segments', token: '..' },
    { name: 'segments that are not base64url JSON', token: 'not.a.token' },
    { name: 'a JSON array header', token: `${encodeSegment(['EdDSA'])}.${encodeSegment({ exp: 1, iat: 1, code: 'VALID' })}.AAAA` },
    { name: 'alg none', token: `${encodeSegment({ alg: 'none', typ: 'JWT' })}.${encodeSegment({ iss: 'keyward', exp: 9e9, iat: 1, code: 'VALID' })}.` },
    { name: 'alg HS256', token: `${encodeSegment({ alg: 'HS256', typ: 'JWT' })}.${encodeSegment({ iss: 'keyward', exp: 9e9, iat: 1, code: 'VALID' })}.AAAA` },
    { name: 'claims that are not an object', token: `${encodeSegment({ alg: 'EdDSA' })}.${encodeSegment('VALID')}.AAAA` },
    { name: 'claims without exp', token: `${encodeSegment({ alg: 'EdDSA' })}.${encodeSegment({ iat: 1, code: 'VALID' })}.AAAA` },
    { name: 'claims with a string exp', token: `${encodeSegment({ alg: 'EdDSA' })}.${encodeSegment({ exp: '9e9', iat: 1, code: 'VALID' })}.AAAA` },
    { name: 'claims without code', token: `${encodeSegment({ alg: 'EdDSA' })}.${encodeSegment({ exp: 9e9, iat: 1 })}.AAAA` },
  ])('$name → MALFORMED_TOKEN', ({ token }) => {
    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: keys.publicKey })).toEqual({ ok: false, reason: 'MALFORMED_TOKEN' });
  });

  it('a token that is not a string at all → MALFORMED_TOKEN', () => {
    const notAString = 42 as unknown as string;

    expect(verifyValidationToken(notAString, at(SIGNED_AT), { publicKey: keys.publicKey })).toEqual({ ok: false, reason: 'MALFORMED_TOKEN' });
  });

  it('a wrong issuer → WRONG_ISSUER, whichever side is configured', () => {
    const fromEu = sign(validDecision, { issuer: 'keyward-eu' });

    expect(verifyValidationToken(fromEu, at(SIGNED_AT), { publicKey: keys.publicKey })).toEqual({ ok: false, reason: 'WRONG_ISSUER' });
    expect(verifyValidationToken(sign(), at(SIGNED_AT), { publicKey: keys.publicKey, issuer: 'keyward-eu' })).toEqual({
      ok: false,
      reason: 'WRONG_ISSUER',
    });
  });
});

describe('key rotation by key id', () => {
  const keyMap = new Map([
    ['2025-01', keys.publicKey],
    ['2024-07', otherKeys.publicKey],
  ]);

  it('puts the key id in the header and verifies against the key of that id', () => {
    const token = sign(validDecision, { keyId: '2025-01' });

    expect(decodeSegment(segments(token)[0])).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: '2025-01' });
    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: keyMap })).toMatchObject({ ok: true, claims: { code: 'VALID' } });
  });

  it('verifies a token of the older key while it is still published', () => {
    const token = sign(validDecision, { keyId: '2024-07', privateKey: otherKeys.privateKey });

    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: keyMap })).toMatchObject({ ok: true });
  });

  it.each([
    { name: 'an unknown key id', options: { keyId: '2023-01' } },
    { name: 'no key id', options: {} },
  ])('$name → UNKNOWN_KEY', ({ options }) => {
    expect(verifyValidationToken(sign(validDecision, options), at(SIGNED_AT), { publicKey: keyMap })).toEqual({
      ok: false,
      reason: 'UNKNOWN_KEY',
    });
  });

  it('a key id that names the wrong key → BAD_SIGNATURE', () => {
    const token = sign(validDecision, { keyId: '2024-07' });

    expect(verifyValidationToken(token, at(SIGNED_AT), { publicKey: keyMap })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });
});

describe('configuration errors', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it.each([
    { name: 'an RSA private key', key: rsa.privateKey },
    { name: 'an RSA private key as PEM', key: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
    { name: 'a P-256 private key', key: ec.privateKey },
  ])('signing with $name throws a ConfigurationError on privateKey', ({ key }) => {
    expect(() => sign(validDecision, { privateKey: key })).toThrow(ConfigurationError);
    expect(() => sign(validDecision, { privateKey: key })).toThrow(expect.objectContaining({ context: { field: 'privateKey' } }));
  });

  it.each([
    { name: 'an RSA public key', key: rsa.publicKey },
    { name: 'a P-256 public key as PEM', key: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
  ])('verifying with $name throws a ConfigurationError on publicKey', ({ key }) => {
    expect(() => verifyValidationToken(sign(), at(SIGNED_AT), { publicKey: key })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', context: { field: 'publicKey' } }),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('a ttlSeconds of %s throws a ConfigurationError', (ttlSeconds) => {
    expect(() => sign(validDecision, { ttlSeconds })).toThrow(expect.objectContaining({ name: 'ConfigurationError', context: { field: 'ttlSeconds' } }));
  });
});

describe('the token is a standard JWS (compact, EdDSA)', () => {
  it('has a header of {alg: EdDSA, typ: JWT} and base64url segments without padding', () => {
    const token = sign();
    const [header, payload, signature] = segments(token);

    expect(decodeSegment(header)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    expect(decodeSegment(payload)).toMatchObject({ iss: 'keyward', code: 'VALID' });
    for (const segment of [header, payload, signature]) expect(segment).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
  });

  it("has a signature that node:crypto verifies over 'header.payload' with the public key alone", () => {
    const [header, payload, signature] = segments(sign());
    const publicKey = createPublicKey(keys.publicKey);

    expect(verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verify(null, Buffer.from(`${header}.${payload}x`), publicKey, Buffer.from(signature, 'base64url'))).toBe(false);
  });

  it('generates Ed25519 key pairs in PEM (PKCS#8 private, SPKI public)', () => {
    const pair = generateTokenKeyPair();

    expect(pair.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pair.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPrivateKey(pair.privateKey).asymmetricKeyType).toBe('ed25519');
    expect(createPublicKey(pair.publicKey).asymmetricKeyType).toBe('ed25519');
    expect(pair.privateKey).not.toBe(keys.privateKey);
  });
});
