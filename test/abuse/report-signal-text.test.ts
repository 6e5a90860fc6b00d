/**
 * Plain-language signal lines: what an analyst reads instead of rule fields. Every line names the
 * measured value in words; geo spread names its countries; a kind added later still reads as a
 * sentence, never an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { SIGNAL_KINDS } from '../../lib/abuse/abuse-signal.js';
import { describeSignal, formatCount, kindLabel } from '../../lib/abuse/report-signal-text.js';
import { formatAge, formatTime } from '../../lib/abuse/report-time.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';

const hour = { start: new Date('2026-11-01T10:00:00Z'), end: new Date('2026-11-01T11:00:00Z') };
const day = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') };

describe('describeSignal', () => {
  it.each([
    [
      { kind: 'velocity', value: 1_600, threshold: 1_000, window: hour, evidence: { details: { distinctIps: 106 } } },
      '1,600 validations in one hour from 106 addresses (more than 1,000 is unusual).',
    ],
    [
      {
        kind: 'geo_spread',
        value: 25,
        threshold: 20,
        window: day,
        evidence: { countries: ['US', 'DE', 'BR', 'FR', 'IT', 'ES', 'NL'].map((value) => ({ value, count: 3 })) },
      },
      'Used from 25 countries in one day: US, DE, BR, FR, IT and 20 more (20 or more is unusual).',
    ],
    [
      { kind: 'domain_spoofing', value: 2, threshold: 1, window: day, evidence: { referrers: [{ value: 'copycat.example', count: 1 }] } },
      '2 requests in one day came from web sites the license does not cover (copycat.example).',
    ],
    [
      { kind: 'trial_cycling', value: 3, threshold: 1, evidence: { linkedCustomers: [{ customerId: 'cus_1', sharedBy: ['card'] }, { customerId: 'cus_2', sharedBy: ['card', 'email'] }] } },
      'A new trial shares card, email with 3 earlier trials (cus_1, cus_2).',
    ],
    [
      { kind: 'key_guessing', value: 80, threshold: 30, window: { start: hour.start, end: new Date(hour.start.getTime() + 600_000) }, evidence: { details: { distinctIps: 40 } } },
      '80 unknown or malformed keys tried in 10 minutes from 40 addresses (30 or more is unusual).',
    ],
    [
      {
        kind: 'distributed_key_guessing',
        value: 42,
        threshold: 20,
        window: { start: hour.start, end: new Date(hour.start.getTime() + 600_000) },
        evidence: {
          networks: [{ value: '45.83.1.0/24', count: 5 }, { value: '45.83.2.0/24', count: 4 }],
          userAgents: [{ value: 'python-requests/2.31.0', count: 130 }],
          details: { misses: 130, networks: 42 },
        },
      },
      '130 unknown or malformed keys tried in 10 minutes from 42 networks of one provider block, a few each (45.83.1.0/24, 45.83.2.0/24 and 40 more) by "python-requests/2.31.0" (20 networks or more is a sweep).',
    ],
    [{ kind: 'payment_dispute', value: 1, threshold: 1 }, 'The customer disputed a payment for this license with their bank.'],
    [
      { kind: 'seat_sharing', value: 12, threshold: 5, window: day, evidence: { topIps: [{ value: '203.0.113.9', count: 4 }] } },
      'Rule "seat sharing" measured 12 in one day against a threshold of 5 (top addresses: 203.0.113.9).',
    ],
  ])('%o reads %s', (facts, line) => {
    expect(describeSignal(facts)).toBe(line);
  });

  it('for any kind, value and evidence: one line, no exception, the value in words', () => {
    const kind = fc.oneof(fc.constantFrom(...SIGNAL_KINDS, 'seat_sharing', 'distributed_key_guessing'), fc.string({ maxLength: 30 }));
    const counted = fc.array(fc.record({ value: fc.string({ minLength: 1, maxLength: 40 }), count: fc.nat(10_000) }), { maxLength: 30 });
    fc.assert(
      fc.property(kind, fc.nat(10_000_000), fc.nat(10_000_000), counted, (kindName, value, threshold, topIps) => {
        const line = describeSignal({ kind: kindName, value, threshold, window: day, evidence: { topIps } });
        expect(line).not.toContain('\n');
        expect(line.length).toBeGreaterThan(10);
        if (kindName !== 'payment_dispute') expect(line).toContain(formatCount(kindName === 'trial_cycling' ? Math.max(value, 0) : value));
      }),
    );
  });

  it('names the countries geoip-lite gives real addresses, most frequent first, and counts the rest', () => {
    const countries = COUNTRY_IPS.map(([country], i) => ({ value: country, count: 100 - i }));
    const line = describeSignal({ kind: 'geo_spread', value: countries.length, threshold: 20, window: day, evidence: { countries } });
    expect(line).toContain(`${countries.slice(0, 5).map(({ value }) => value).join(', ')} and ${countries.length - 5} more`);
  });
});

describe('kindLabel', () => {
  it('names known kinds and tidies unknown ones', () => {
    expect(kindLabel('geo_spread')).toBe('Geo spread');
    expect(kindLabel('distributed_key_guessing')).toBe('Distributed key guessing');
    expect(kindLabel('')).toBe('Unnamed rule');
  });
});

describe('times', () => {
  it('reads as a UTC date and time in words, and as an age', () => {
    expect(formatTime(new Date('2026-11-02T05:00:00Z'))).toBe('2 Nov 2026, 05:00 UTC');
    expect(formatAge(new Date('2026-11-02T02:00:00Z'), new Date('2026-11-02T05:10:00Z'))).toBe('3 hours ago');
    expect(formatAge(new Date('2026-11-02T05:10:00Z'), new Date('2026-11-02T05:10:20Z'))).toBe('just now');
  });
});
