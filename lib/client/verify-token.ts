/**
 * Checking a validation token on the client: signature (Ed25519, by `kid`, against pinned or
 * fetched keys), issuer, audience (the product), the machine or domain it was issued for, and
 * its time window. Web Crypto where the platform verifies Ed25519, else node:crypto: nothing
 * outside the platform is imported (the SDK has no runtime dependencies).
 */
import type { ClientJwk, TokenClaims, TokenRefusal } from './client-types.js';

/** What a token must match. */
export interface TokenExpectations {
  readonly issuer: string;
  readonly product: string;
  readonly fingerprint?: string;
  readonly domain?: string;
  /** The client's time. */
  readonly now: Date;
  /** Accepted lead of the server's clock over the client's (for `iat`), in seconds. `exp` gets none: never past it. */
  readonly clockSkewSeconds: number;
}

/** Outcome of {@link verifyToken}. */
export type VerifyTokenResult = { readonly ok: true; readonly claims: TokenClaims } | { readonly ok: false; readonly reason: TokenRefusal };

function base64urlBytes(segment: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) return null;
  const base64 = segment.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (segment.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function jsonSegment(segment: string): Record<string, unknown> | null {
  const bytes = base64urlBytes(segment);
  if (bytes === null) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Verifies an Ed25519 signature with Web Crypto, or node:crypto where Web Crypto lacks Ed25519. */
async function verifyEd25519(jwk: ClientJwk, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    let key: Awaited<ReturnType<typeof subtle.importKey>> | undefined;
    try {
      key = await subtle.importKey('jwk', publicJwk, { name: 'Ed25519' }, false, ['verify']);
    } catch {
      key = undefined; // no Ed25519 in this Web Crypto: fall through to node:crypto
    }
    if (key !== undefined) return subtle.verify({ name: 'Ed25519' }, key, signature, data);
  }
  const nodeCrypto = await import('node:crypto');
  return nodeCrypto.verify(null, data, nodeCrypto.createPublicKey({ key: publicJwk, format: 'jwk' }), signature);
}

/** Reads the header and claims of a token without checking it (e.g. for its `kid`). */
export function decodeToken(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | null {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const header = jsonSegment(parts[0] as string);
  const claims = jsonSegment(parts[1] as string);
  return header && claims ? { header, claims } : null;
}

/** Checks a token against the keys given (by kid) and the expectations; a refusal names its reason. */
export async function verifyToken(token: string, keys: ReadonlyMap<string, ClientJwk>, expect: TokenExpectations): Promise<VerifyTokenResult> {
  const decoded = decodeToken(token);
  if (decoded === null) return { ok: false, reason: 'MALFORMED_TOKEN' };
  const { header, claims } = decoded;
  if (header['alg'] !== 'EdDSA' || typeof claims['exp'] !== 'number' || typeof claims['iat'] !== 'number' || typeof claims['code'] !== 'string') {
    return { ok: false, reason: 'MALFORMED_TOKEN' };
  }
  const jwk = typeof header['kid'] === 'string' ? keys.get(header['kid']) : undefined;
  if (jwk === undefined) return { ok: false, reason: 'UNKNOWN_KEY' };
  const [headerPart, claimsPart, signaturePart] = token.split('.') as [string, string, string];
  const signature = base64urlBytes(signaturePart);
  if (signature === null || signature.length !== 64) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (!(await verifyEd25519(jwk, signature, new TextEncoder().encode(`${headerPart}.${claimsPart}`)))) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (claims['iss'] !== expect.issuer) return { ok: false, reason: 'WRONG_ISSUER' };
  if (claims['aud'] !== expect.product) return { ok: false, reason: 'WRONG_PRODUCT' };
  if (expect.fingerprint !== undefined && claims['fingerprint'] !== expect.fingerprint) return { ok: false, reason: 'WRONG_MACHINE' };
  if (expect.domain !== undefined && claims['domain'] !== expect.domain) return { ok: false, reason: 'WRONG_DOMAIN' };
  const nowSeconds = expect.now.getTime() / 1000;
  if (nowSeconds >= claims['exp']) return { ok: false, reason: 'TOKEN_EXPIRED' };
  if (nowSeconds < claims['iat'] - expect.clockSkewSeconds) return { ok: false, reason: 'TOKEN_NOT_YET_VALID' };
  return { ok: true, claims: claims as unknown as TokenClaims };
}
