/** Validation events and stream entries for abuse-detector tests and benchmarks. */
import { createHash } from 'node:crypto';

import type { StreamEntry } from '../../lib/abuse/event-batch-processor.js';
import type { ValidationEvent } from '../../lib/events/validation-event.js';

/** A VALID event of `licenseId` at `at` (ISO or ms), with whatever fields are overridden. */
export function validationEvent(licenseId: string | null, at: string | number, overrides: Partial<ValidationEvent> = {}): ValidationEvent {
  const code = overrides.code ?? (licenseId === null ? 'NOT_FOUND' : 'VALID');
  return {
    at: typeof at === 'number' ? at : Date.parse(at),
    licenseId,
    keyDigest: code === 'MALFORMED_KEY' ? null : createHash('sha256').update(`${licenseId ?? 'guess'}:${String(at)}`).digest('hex'),
    ip: '203.0.113.10',
    origin: null,
    referer: null,
    domain: null,
    fingerprint: null,
    product: 'toolkit',
    userAgent: 'toolkit/1.0',
    code,
    ...overrides,
  };
}

/** Stream entries for events, with ids `<at>-<n>` increasing in the given order from `sequenceStart`. */
export function streamEntries(events: readonly ValidationEvent[], sequenceStart = 0): StreamEntry[] {
  return events.map((event, index) => ({ id: `${event.at}-${sequenceStart + index}`, event }));
}
