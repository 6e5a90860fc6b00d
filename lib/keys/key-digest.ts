/** Lookup digests: keys are stored and found by an HMAC of their canonical form, never in plain. */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../errors/keyward-error.js';

/** Shortest accepted digest secret, in bytes (the HMAC-SHA256 block of security). */
export const MIN_DIGEST_SECRET_BYTES = 32;

/**
 * HMAC-SHA256 of a canonical key under the server secret, as 64 lower-case hex characters.
 * Throws a ConfigurationError when the secret is shorter than {@link MIN_DIGEST_SECRET_BYTES}.
 */
export function keyDigest(key: string, secret: string | Uint8Array): string {
  return createHmac('sha256', checkedSecret(secret)).update(key).digest('hex');
}

/**
 * {@link keyDigest} with the secret checked and imported once: for the validate hot path, where
 * importing the secret on every call was a measurable share of the digest's cost.
 * Throws a ConfigurationError when the secret is too short.
 */
export function keyDigester(secret: string | Uint8Array): (key: string) => string {
  const keyObject: KeyObject = createSecretKey(checkedSecret(secret));
  return (key) => createHmac('sha256', keyObject).update(key).digest('hex');
}

function checkedSecret(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? Buffer.from(secret) : secret;
  if (bytes.byteLength < MIN_DIGEST_SECRET_BYTES) {
    throw new ConfigurationError('secret', `must be at least ${MIN_DIGEST_SECRET_BYTES} bytes`);
  }
  return bytes;
}
