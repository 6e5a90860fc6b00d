/** Validation events for the consumer tests: a mix of codes, licenses and networks. */
import type { ValidationEvent } from '../../../lib/events/validation-event.js';

/** The i-th test event; `fingerprint` carries `i`. */
export function testEvent(i: number, at = Date.parse('2026-03-01T12:00:00.000Z') + i): ValidationEvent {
  const kind = i % 10;
  return {
    at,
    licenseId: kind <= 1 ? null : `lic_${i % 37}`,
    keyDigest: kind === 0 ? null : i.toString(16).padStart(64, '0'),
    ip: `198.51.${i % 7}.${i % 250}`,
    origin: null,
    referer: null,
    domain: null,
    fingerprint: `fp-${i}`,
    product: 'toolbox',
    userAgent: 'Toolbox/2.1',
    code: kind === 0 ? 'MALFORMED_KEY' : kind === 1 ? 'NOT_FOUND' : 'VALID',
  };
}
