import { describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { evaluateTrialCycling, type TrialProfile } from '../../lib/abuse/evaluate-trial-cycling.js';
import { normalizeEmail } from '../../lib/abuse/normalize-email.js';

describe('normalizeEmail', () => {
  it.each([
    ['J.Doe+trial3@gmail.com', 'jdoe@gmail.com'],
    ['jdoe@googlemail.com', 'jdoe@gmail.com'],
    ['j.d.o.e@GMAIL.com ', 'jdoe@gmail.com'],
    ['Jane.Doe+news@example.com', 'jane.doe@example.com'],
    ['jane.doe@outlook.com', 'jane.doe@outlook.com'],
    ['jane-work@yahoo.com', 'jane@yahoo.com'],
    ['jane+x@yahoo.com', 'jane+x@yahoo.com'],
    ['no-at-sign', null],
    ['@example.com', null],
    ['a@b@c.com', null],
    ['+tag@example.com', null],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });
});

const profile = (n: number, overrides: Partial<TrialProfile> = {}): TrialProfile => ({
  licenseId: `lic_${n}`,
  customerId: `cus_${n}`,
  emailNormalized: `user${n}@example.com`,
  cardFingerprint: `card_${n}`,
  deviceFingerprints: [],
  ips: [],
  startedAt: new Date(Date.UTC(2026, 2, 1, 10, n)),
  ...overrides,
});

describe('evaluateTrialCycling', () => {
  it('links a new trial to earlier trials of other customers sharing its card, earliest first', () => {
    const farm = Array.from({ length: 10 }, (_, i) => profile(i, { cardFingerprint: 'card_shared' }));
    const verdict = evaluateTrialCycling(farm[9]!, farm, DEFAULT_DETECTION_THRESHOLDS);
    expect(verdict).toMatchObject({ flagged: true, value: 9, threshold: 1, severity: 100 });
    expect(verdict.linked.map((link) => link.customerId)).toEqual(['cus_0', 'cus_1', 'cus_2', 'cus_3', 'cus_4', 'cus_5', 'cus_6', 'cus_7', 'cus_8']);
    expect(verdict.linked[0]).toEqual({ customerId: 'cus_0', licenseId: 'lic_0', sharedBy: ['card'] });
  });

  it.each([
    ['card', { cardFingerprint: 'card_1' }, ['card']],
    ['e-mail with gmail dots and tag', { emailNormalized: 'user1@example.com' }, ['email']],
    ['device', { deviceFingerprints: ['dev_x'] }, ['device']],
  ] as const)('one earlier trial sharing its %s is enough', (_, shared, sharedBy) => {
    const earlier = profile(1, { deviceFingerprints: ['dev_x'] });
    const verdict = evaluateTrialCycling(profile(2, shared), [earlier], DEFAULT_DETECTION_THRESHOLDS);
    expect(verdict).toMatchObject({ flagged: true, value: 1, linked: [{ customerId: 'cus_1', sharedBy }] });
  });

  it('needs three customers linked by IP alone (offices and NAT share IPs)', () => {
    const ip = '203.0.113.9';
    const earlier = [1, 2, 3].map((n) => profile(n, { ips: [ip] }));
    const trial = profile(9, { ips: [ip] });
    expect(evaluateTrialCycling(trial, earlier.slice(0, 2), DEFAULT_DETECTION_THRESHOLDS)).toMatchObject({ flagged: false, linked: [{}, {}] });
    expect(evaluateTrialCycling(trial, earlier, DEFAULT_DETECTION_THRESHOLDS)).toMatchObject({ flagged: true, value: 3, threshold: 3 });
  });

  it.each([
    ['the same customer', profile(1, { customerId: 'cus_9', cardFingerprint: 'card_9' })],
    ['a later trial', profile(12, { cardFingerprint: 'card_9' })],
    ['a trial over a year older', profile(1, { cardFingerprint: 'card_9', startedAt: new Date('2024-01-01T00:00:00Z') })],
    ['nothing shared', profile(1)],
  ])('ignores %s', (_, other) => {
    expect(evaluateTrialCycling(profile(9), [other], DEFAULT_DETECTION_THRESHOLDS).flagged).toBe(false);
  });

  it('merges what links one customer with several earlier trials', () => {
    const earlier = [profile(1, { customerId: 'cus_x', cardFingerprint: 'card_9' }), profile(2, { customerId: 'cus_x', deviceFingerprints: ['d'] })];
    const verdict = evaluateTrialCycling(profile(9, { deviceFingerprints: ['d'] }), earlier, DEFAULT_DETECTION_THRESHOLDS);
    expect(verdict.linked).toEqual([{ customerId: 'cus_x', licenseId: 'lic_1', sharedBy: ['card', 'device'] }]);
  });
});
