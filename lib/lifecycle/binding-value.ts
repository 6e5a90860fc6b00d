/** Normalising what a seat is bound to, so that the same machine or site always matches. */
import { createHash } from 'node:crypto';
import type { ActivationKind } from './license.js';

/** Longest accepted fingerprint. */
export const MAX_FINGERPRINT_LENGTH = 256;

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A domain as licensed: lower case, without scheme, credentials, port, path, trailing dot or a
 * leading `www.`; `null` when the input is not a host name.
 */
export function normaliseDomain(input: string): string | null {
  let host = input.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  host = host.replace(/[/?#].*$/, '');
  host = host.replace(/^.*@/, '');
  host = host.replace(/:\d+$/, '');
  host = host.replace(/\.$/, '');
  host = host.replace(/^www\./, '');
  if (host.length === 0 || host.length > 253) return null;
  return host.split('.').every((label) => HOST_LABEL.test(label)) ? host : null;
}

/** A fingerprint as stored: trimmed; `null` when empty, too long or not printable. */
export function normaliseFingerprint(input: string): string | null {
  const value = input.trim();
  if (value.length === 0 || value.length > MAX_FINGERPRINT_LENGTH) return null;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(value) ? null : value;
}

/** Normalises a binding value of either kind. */
export function normaliseBinding(kind: ActivationKind, value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return kind === 'domain' ? normaliseDomain(value) : normaliseFingerprint(value);
}

/** Deterministic activation id: the same seat on the same license always has the same id. */
export function activationIdFor(licenseId: string, kind: ActivationKind, value: string): string {
  return `act_${createHash('sha256').update(`${licenseId}\u0000${kind}\u0000${value}`).digest('hex').slice(0, 16)}`;
}
