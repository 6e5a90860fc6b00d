/** Lookup digests: keys are stored and found by an HMAC of their canonical form, never in plain. */
import { createHmac } from 'node:crypto';
import { ConfigurationError } from '../errors/keyward-error.js';

/** Shortest accepted digest secret, in bytes (the HMAC-SHA256 block of security). */
export const MIN_DIGEST_SECRET_BYTES = 32;

/**
 * HMAC-SHA256 of a canonical key under the server secret, as 64 lower-case hex characters.
 * Throws a ConfigurationError when the secret is shorter than {@link MIN_DIGEST_SECRET_BYTES}.
 */
export function keyDigest(key: string, secret: string | Uint8Array): string {
  const length = typeof secret === 'string' ? Buffer.byteLength(secret) : secret.byteLength;
  if (length < MIN_DIGEST_SECRET_BYTES) {
    throw new ConfigurationError('secret', `must be at least ${MIN_DIGEST_SECRET_BYTES} bytes`);
  }
  return createHmac('sha256', secret).update(key).digest('hex');
}
