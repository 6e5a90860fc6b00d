/**
 * Signed validation tokens: an Ed25519-signed JWT (JWS compact form, `alg: EdDSA`) of a
 * validation answer, so client software can check a cached answer offline until it expires.
 * Any JWT library that speaks EdDSA can verify it with the published public key.
 */
import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../errors/keyward-error.js';
import { readPrivateKey, readPublicKey } from './signing-key-set.js';
import type { ValidationCode } from '../validation/validation-code.js';
import type { ValidationDecision } from '../validation/decide-validation.js';

/** Claims carried by a token. Times are seconds since the epoch, as in JWT. */
export interface ValidationTokenClaims {
  readonly iss: string;
  /** Audience: the product the answer is for (the license's product, else the product asked about). */
  readonly aud?: string;
  /** License id; absent when no license was found. */
  readonly sub?: string;
  readonly iat: number;
  readonly exp: number;
  readonly valid: boolean;
  readonly code: ValidationCode;
  readonly product?: string;
  readonly plan?: string;
  readonly features?: readonly string[];
  /** License period end (seconds), `null` when perpetual. */
  readonly licenseExpiresAt?: number | null;
  /** Fingerprint and domain the answer was given for: a token is only good for them. */
  readonly fingerprint?: string;
  readonly domain?: string;
}

/** Options for {@link signValidationToken}. */
export interface SignValidationTokenOptions {
  /** Ed25519 private key (KeyObject, PKCS#8 PEM, its base64, or base64 DER). */
  readonly privateKey: KeyObject | string;
  /** Key id published beside the public key, for rotation. Default: none. */
  readonly keyId?: string;
  /** Lifetime: how long a client may rely on the cached answer. Default 259200 (3 days). */
  readonly ttlSeconds?: number;
  /** Issuer claim. Default `keyward`. */
  readonly issuer?: string;
  /** Bind the token to the machine and domain it was asked for. */
  readonly fingerprint?: string;
  readonly domain?: string;
  /** Product asked about, the audience when no license was found. */
  readonly product?: string;
  /** Latest expiry: a floating seat's token ends with its lease. Default none. */
  readonly notAfter?: Date;
}

/** Options for {@link verifyValidationToken}. */
export interface VerifyValidationTokenOptions {
  /** Ed25519 public key (KeyObject or SPKI PEM), or keys by key id. */
  readonly publicKey: KeyObject | string | ReadonlyMap<string, KeyObject | string>;
  /** Accepted clock difference in seconds. Default 60. */
  readonly clockToleranceSeconds?: number;
  /** Required issuer. Default `keyward`. */
  readonly issuer?: string;
  /** Required audience (product). Default: not checked. */
  readonly audience?: string;
}

/** Why a token was rejected. */
export type TokenRejection =
  | 'MALFORMED_TOKEN'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'WRONG_ISSUER'
  | 'WRONG_AUDIENCE';

/** Outcome of {@link verifyValidationToken}. */
export type VerifyValidationTokenResult =
  | { readonly ok: true; readonly claims: ValidationTokenClaims }
  | { readonly ok: false; readonly reason: TokenRejection };

const DEFAULT_TTL_SECONDS = 3 * 86_400;

function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs a validation decision at `now`. */
export function signValidationToken(decision: ValidationDecision, now: Date, options: SignValidationTokenOptions): string {
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new ConfigurationError('ttlSeconds', 'must be a positive integer');
  const iat = Math.floor(now.getTime() / 1000);
  const notAfter = options.notAfter === undefined ? Infinity : Math.floor(options.notAfter.getTime() / 1000);
  const license = decision.license;
  const audience = license?.product ?? options.product;
  const claims: ValidationTokenClaims = {
    iss: options.issuer ?? 'keyward',
    ...(audience === undefined ? {} : { aud: audience }),
    ...(license ? { sub: license.id, product: license.product, plan: license.planId, features: license.features } : {}),
    ...(license ? { licenseExpiresAt: license.expiresAt === null ? null : Math.floor(license.expiresAt.getTime() / 1000) } : {}),
    iat,
    exp: Math.max(iat, Math.min(iat + ttl, notAfter)),
    valid: decision.valid,
    code: decision.code,
    ...(options.fingerprint !== undefined ? { fingerprint: options.fingerprint } : {}),
    ...(options.domain !== undefined ? { domain: options.domain } : {}),
  };
  const header = { alg: 'EdDSA', typ: 'JWT', ...(options.keyId !== undefined ? { kid: options.keyId } : {}) };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign(null, Buffer.from(signingInput), readPrivateKey(options.privateKey));
  return `${signingInput}.${base64url(signature)}`;
}

function parseJson(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Verifies a token's signature, issuer and time window at `now`. */
export function verifyValidationToken(token: string, now: Date, options: VerifyValidationTokenOptions): VerifyValidationTokenResult {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return { ok: false, reason: 'MALFORMED_TOKEN' };
  const [headerPart, claimsPart, signaturePart] = parts as [string, string, string];
  const header = parseJson(headerPart);
  const claims = parseJson(claimsPart);
  if (!isRecord(header) || header['alg'] !== 'EdDSA' || !isRecord(claims)) return { ok: false, reason: 'MALFORMED_TOKEN' };
  if (typeof claims['exp'] !== 'number' || typeof claims['iat'] !== 'number' || typeof claims['code'] !== 'string') {
    return { ok: false, reason: 'MALFORMED_TOKEN' };
  }
  let key: KeyObject | string | undefined;
  if (options.publicKey instanceof Map) {
    key = typeof header['kid'] === 'string' ? options.publicKey.get(header['kid']) : undefined;
  } else {
    key = options.publicKey as KeyObject | string;
  }
  if (key === undefined) return { ok: false, reason: 'UNKNOWN_KEY' };
  const signed = verify(null, Buffer.from(`${headerPart}.${claimsPart}`), readPublicKey(key), Buffer.from(signaturePart, 'base64url'));
  if (!signed) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (claims['iss'] !== (options.issuer ?? 'keyward')) return { ok: false, reason: 'WRONG_ISSUER' };
  if (options.audience !== undefined && claims['aud'] !== options.audience) return { ok: false, reason: 'WRONG_AUDIENCE' };
  const tolerance = options.clockToleranceSeconds ?? 60;
  const nowSeconds = now.getTime() / 1000;
  if (nowSeconds > claims['exp'] + tolerance) return { ok: false, reason: 'TOKEN_EXPIRED' };
  if (nowSeconds < claims['iat'] - tolerance) return { ok: false, reason: 'TOKEN_NOT_YET_VALID' };
  return { ok: true, claims: claims as unknown as ValidationTokenClaims };
}

/** A new Ed25519 key pair in PEM (PKCS#8 private, SPKI public), e.g. for the CLI or tests. */
export function generateTokenKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
