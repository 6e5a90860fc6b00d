/**
 * The keys that sign and verify validation tokens, with rotation: one current key signs; the
 * next key (published ahead of the switch, so clients have it before the first token it signs)
 * and retired keys (published until every token they signed has expired) only verify.
 *
 * Rotation invariant: a key is published (and verifies) from the moment it is configured until
 * its `validUntil`; the current key and next keys have no end. So a token signed before a
 * rotation verifies until its own `exp`, provided the retired key's `validUntil` is at least
 * the switch time plus the token lifetime (docs/library.md, "Rotating the signing key").
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError } from '../errors/keyward-error.js';

/** A key id: what token headers carry as `kid`. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An Ed25519 public key as a JWK (RFC 8037), as published at `/.well-known/jwks.json`. */
export interface Ed25519Jwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** The public key, base64url. */
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** A JSON Web Key Set. */
export interface Jwks {
  readonly keys: readonly Ed25519Jwk[];
}

/** A key that verifies but does not sign. */
export interface VerificationKeyOptions {
  readonly kid: string;
  /** Ed25519 public key: KeyObject, SPKI PEM, base64 of the PEM or of the DER. A private key is accepted too (its public half is used). */
  readonly publicKey: KeyObject | string;
  /** `next`: published ahead of becoming current. `retired`: signed tokens until lately; needs `validUntil`. */
  readonly state: 'next' | 'retired';
  /** When the key stops being published and verifying (a retired key: switch time + token lifetime). */
  readonly validUntil?: Date;
}

/** Options for {@link createSigningKeySet}. */
export interface SigningKeySetOptions {
  /** The key that signs: Ed25519 private key as KeyObject, PKCS#8 PEM, base64 of the PEM or of the DER. */
  readonly privateKey: KeyObject | string;
  /** Its key id. Default `k1`. */
  readonly keyId?: string;
  /** Next and retired keys. Default none. */
  readonly others?: readonly VerificationKeyOptions[];
}

/** A key in the set, resolved. */
export interface KeyInForce {
  readonly kid: string;
  readonly state: 'current' | 'next' | 'retired';
  readonly publicKey: KeyObject;
  /** `null`: no end. */
  readonly validUntil: Date | null;
}

/** The key set. */
export interface SigningKeySet {
  /** The key that signs new tokens. */
  readonly signing: { readonly kid: string; readonly privateKey: KeyObject };
  /** Every configured key, whether or not in force. */
  readonly keys: readonly KeyInForce[];
  /** The keys in force at `now` (the current one first). */
  keysInForce(now: Date): KeyInForce[];
  /** The keys in force at `now`, as published. */
  jwks(now: Date): Jwks;
  /** Public keys by id in force at `now`, for {@link verifyValidationToken}. */
  verificationKeys(now: Date): Map<string, KeyObject>;
}

/**
 * Key text as configuration gives it: a PEM (with real or `\n`-escaped newlines), the base64 of
 * a PEM, or the base64 of the DER (PKCS#8 for private keys, SPKI for public ones).
 */
function keyInput<T extends 'pkcs8' | 'spki'>(text: string, type: T): string | { key: Buffer; format: 'der'; type: T } {
  const trimmed = text.trim().replaceAll('\\n', '\n');
  if (trimmed.includes('-----BEGIN')) return trimmed;
  const bytes = Buffer.from(trimmed, 'base64');
  const decoded = bytes.toString('utf8');
  if (decoded.includes('-----BEGIN')) return decoded.replaceAll('\\n', '\n');
  return { key: bytes, format: 'der', type };
}

/** Reads an Ed25519 private key; `field` names the setting in the error. */
export function readPrivateKey(key: KeyObject | string, field = 'privateKey'): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey(keyInput(key, 'pkcs8')) : key;
  } catch (error) {
    throw new ConfigurationError(field, 'is not a readable Ed25519 private key (PKCS#8 PEM, its base64, or base64 DER)', error);
  }
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519') throw new ConfigurationError(field, 'must be an Ed25519 private key');
  return object;
}

/** Reads an Ed25519 public key (or the public half of a private one); `field` names the setting in the error. */
export function readPublicKey(key: KeyObject | string, field = 'publicKey'): KeyObject {
  let object: KeyObject;
  try {
    if (typeof key !== 'string') object = key.type === 'private' ? createPublicKey(key) : key;
    else {
      const input = keyInput(key, 'spki');
      const isPrivatePem = typeof input === 'string' && input.includes('PRIVATE KEY');
      object = isPrivatePem ? createPublicKey(createPrivateKey(input)) : createPublicKey(input);
    }
  } catch (error) {
    throw new ConfigurationError(field, 'is not a readable Ed25519 public key (SPKI PEM, its base64, or base64 DER)', error);
  }
  if (object.asymmetricKeyType !== 'ed25519') throw new ConfigurationError(field, 'must be an Ed25519 public key');
  return object;
}

/** The JWK of an Ed25519 public key. */
export function publicJwk(publicKey: KeyObject, kid: string): Ed25519Jwk {
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new ConfigurationError('publicKey', 'must be an Ed25519 public key');
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
}

/** Builds the key set; throws a ConfigurationError naming the first bad key. */
export function createSigningKeySet(options: SigningKeySetOptions): SigningKeySet {
  const kid = options.keyId ?? 'k1';
  if (!KEY_ID.test(kid)) throw new ConfigurationError('keyId', 'must be 1-64 letters, digits, ., _ or -');
  const privateKey = readPrivateKey(options.privateKey);
  const keys: KeyInForce[] = [{ kid, state: 'current', publicKey: createPublicKey(privateKey), validUntil: null }];
  (options.others ?? []).forEach((other, index) => {
    const field = `others[${index}]`;
    if (!KEY_ID.test(other.kid)) throw new ConfigurationError(`${field}.kid`, 'must be 1-64 letters, digits, ., _ or -');
    if (keys.some((key) => key.kid === other.kid)) throw new ConfigurationError(`${field}.kid`, `"${other.kid}" is already in the key set`);
    if (other.state === 'retired' && other.validUntil === undefined) {
      throw new ConfigurationError(`${field}.validUntil`, 'is required for a retired key: the switch time plus the token lifetime');
    }
    keys.push({ kid: other.kid, state: other.state, publicKey: readPublicKey(other.publicKey, `${field}.publicKey`), validUntil: other.validUntil ?? null });
  });
  const keysInForce = (now: Date): KeyInForce[] => keys.filter((key) => key.validUntil === null || now.getTime() < key.validUntil.getTime());
  const jwkByKid = new Map(keys.map((key) => [key.kid, publicJwk(key.publicKey, key.kid)]));
  return {
    signing: { kid, privateKey },
    keys,
    keysInForce,
    jwks: (now) => ({ keys: keysInForce(now).map((key) => jwkByKid.get(key.kid) as Ed25519Jwk) }),
    verificationKeys: (now) => new Map(keysInForce(now).map((key) => [key.kid, key.publicKey])),
  };
}

const keySetEntry = z
  .object({
    kid: z.string().regex(KEY_ID, 'must be 1-64 letters, digits, ., _ or -'),
    state: z.enum(['next', 'retired']),
    publicKey: z.string().min(1),
    validUntil: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/**
 * Reads the other keys of a key set from their JSON text (the KEYWARD_SIGNING_KEYS variable):
 * `[{"kid":"k2","state":"next","publicKey":"…"}, {"kid":"k1","state":"retired","publicKey":"…","validUntil":"2027-01-04T00:00:00Z"}]`.
 * Only public keys: the private key of the current key is a secret of its own.
 */
export function parseVerificationKeys(text: string, field = 'KEYWARD_SIGNING_KEYS'): VerificationKeyOptions[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(field, 'must be a JSON array of {kid, state, publicKey, validUntil?}', error);
  }
  const parsed = z.array(keySetEntry).safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigurationError(`${field}${issue?.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('') ?? ''}`, issue?.message ?? 'is invalid');
  }
  return parsed.data.map((entry, index) => {
    // Read now, so a bad key is named by its place in the variable.
    readPublicKey(entry.publicKey, `${field}[${index}].publicKey`);
    return { kid: entry.kid, state: entry.state, publicKey: entry.publicKey, ...(entry.validUntil === undefined ? {} : { validUntil: new Date(entry.validUntil) }) };
  });
}
