/**
 * Keys at rest: AES-256-GCM, so that a key can be shown again to its owner while a copy of the
 * database alone reveals nothing. Lookups never decrypt: they go by {@link keyDigest}.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../errors/keyward-error.js';

/** Encrypts and decrypts keys with one 256-bit secret. */
export interface KeyCipher {
  /** `v1.<base64url(iv ‖ tag ‖ ciphertext)>`, a fresh IV each time. */
  encrypt(key: string): string;
  /** The key, or throws when the blob was not made with this secret or was altered. */
  decrypt(blob: string): string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Builds a cipher from a 32-byte secret (raw bytes, or 64 hex / 43-44 base64 characters). */
export function createKeyCipher(secret: string | Uint8Array): KeyCipher {
  const key = decodeSecret(secret);
  return {
    encrypt(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    decrypt(blob) {
      const [version, payload] = blob.split('.');
      if (version !== VERSION || payload === undefined) throw new ConfigurationError('keyCiphertext', 'is not a Keyward v1 ciphertext');
      const bytes = Buffer.from(payload, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}

function decodeSecret(secret: string | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof secret !== 'string') bytes = Buffer.from(secret);
  else if (/^[0-9a-fA-F]{64}$/.test(secret)) bytes = Buffer.from(secret, 'hex');
  else bytes = Buffer.from(secret, 'base64');
  if (bytes.length !== 32) {
    throw new ConfigurationError('encryptionKey', 'must be 32 random bytes, given as 64 hex or 44 base64 characters');
  }
  return bytes;
}
