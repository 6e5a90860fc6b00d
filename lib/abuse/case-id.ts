/**
 * Case ids, deterministic per subject: every signal about the same license (or network) finds
 * the same case without a lookup index, and two workers creating it at once collide on `_id`
 * instead of making two cases.
 */
import type { SignalSubject } from './abuse-signal.js';

/** FNV-1a 64-bit: a short, stable, dependency-free hash for ids (not a secret). */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * The case id of a subject: `case_<licenseId>` for a license (e.g. `case_lic_01j…`), and
 * `case_net_<16 hex of FNV-1a of the network>` for a network (the network itself may hold
 * `:` and `/`, which ids in URLs should not).
 */
export function caseIdOf(subject: SignalSubject): string {
  return subject.type === 'license' ? `case_${subject.licenseId}` : `case_net_${fnv1a64(subject.network.toLowerCase())}`;
}
