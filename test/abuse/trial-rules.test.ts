import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { evaluateTrialCycling, networkLinkWeight, trialNetworkOf, type TrialProfile } from '../../lib/abuse/evaluate-trial-cycling.js';
import { normalizeEmail } from '../../lib/abuse/normalize-email.js';
import { gmailVariant, gmailVariation, personNames as names, shuffle, STUDENT_DOMAINS } from '../support/trial-people.js';

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

describe('network links and shared networks', () => {
  it('weighs a network link by the unrelated customers on the network: 1 alone, ½ at five, under 0.1 at fifty', () => {
    expect(networkLinkWeight(0)).toBe(1);
    expect(networkLinkWeight(5)).toBe(0.5);
    expect(networkLinkWeight(50)).toBeLessThan(0.1);
  });

  it('compares an IPv4 address as it is, and IPv6 addresses by their /64 (privacy addresses change within it)', () => {
    expect(trialNetworkOf('203.0.113.9')).toBe('203.0.113.9');
    expect(trialNetworkOf('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(trialNetworkOf('2001:db8:1:2:aaaa::1')).toBe(trialNetworkOf('2001:db8:1:2:bbbb::2'));
    expect(trialNetworkOf('2001:db8:1:2::1')).not.toBe(trialNetworkOf('2001:db8:1:3::1'));
  });

  it('links two trials from the same household over IPv6 privacy addresses', () => {
    const earlier = [1, 2, 3].map((n) => profile(n, { ips: [`2001:db8:77:1:${n}::${n}`] }));
    const verdict = evaluateTrialCycling(profile(9, { ips: ['2001:db8:77:1:9::9'] }), earlier, DEFAULT_DETECTION_THRESHOLDS);
    expect(verdict).toMatchObject({ flagged: true, value: 3, linked: [{ sharedBy: ['ip'], weight: 1 }, {}, {}] });
  });

  it('does not flag three trials behind a network that 40 unrelated customers use, and shows what each link weighed', () => {
    const campus = '198.51.100.20';
    const earlier = [1, 2, 3].map((n) => profile(n, { ips: [campus] }));
    const verdict = evaluateTrialCycling(profile(9, { ips: [campus] }), earlier, DEFAULT_DETECTION_THRESHOLDS, new Map([[campus, 40]]));
    expect(verdict).toEqual({ flagged: false, linked: earlier.map((trial) => ({ customerId: trial.customerId, licenseId: trial.licenseId, sharedBy: ['ip'], weight: 0.11 })) });
  });
});

describe('trial cycling properties', () => {
  const campus = '198.51.100.20';
  const start = Date.UTC(2026, 8, 1, 9);

  /** Five students with their own mailboxes and laptops behind the campus NAT, and one person cycling five Gmail variants (home or campus). */
  const scenario = fc.record({
    names,
    variations: fc.array(gmailVariation, { minLength: 5, maxLength: 5 }),
    cyclerOnCampus: fc.boolean(),
    unrelatedOnCampus: fc.integer({ min: 20, max: 2_000 }),
    gaps: fc.array(fc.integer({ min: 1, max: 10 * 86_400_000 }), { minLength: 10, maxLength: 10 }),
    order: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
  });

  const build = (base: typeof scenario extends fc.Arbitrary<infer T> ? T : never) => {
    const variants = base.variations.map((variation) => gmailVariant(base.names[10]!, variation));
    const times = base.gaps.reduce<number[]>((all, gap) => [...all, (all.at(-1) ?? start) + gap], []);
    const students = Array.from({ length: 5 }, (_, i) =>
      profile(i, {
        customerId: `cus_student_${i}`,
        emailNormalized: normalizeEmail(`${base.names[i]!}@${STUDENT_DOMAINS[i % STUDENT_DOMAINS.length]!}`),
        cardFingerprint: null,
        deviceFingerprints: [`laptop-${base.names[i]!}`],
        ips: [campus],
        startedAt: new Date(times[base.order[i]! % 10]! + i),
      }),
    );
    const cycler = variants.map((email, i) =>
      profile(10 + i, {
        customerId: `cus_cycler_${i}`,
        emailNormalized: normalizeEmail(email),
        cardFingerprint: null,
        deviceFingerprints: [`vm-${i}`],
        ips: [base.cyclerOnCampus ? campus : '192.0.2.77'],
        startedAt: new Date(times[base.order[5 + i]! % 10]! + 5 + i),
      }),
    );
    return { students, cycler };
  };

  it('five students behind one campus address are never flagged; one person with five Gmail variants is, on any network', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), (input, seed) => {
        const { students, cycler } = build(input);
        const all = shuffle([...students, ...cycler], seed);
        const census = new Map([[campus, input.unrelatedOnCampus]]);
        for (const student of students) expect(evaluateTrialCycling(student, all, DEFAULT_DETECTION_THRESHOLDS, census).flagged).toBe(false);
        // The census is what clears them: counted as a quiet address, the last student would be flagged.
        const lastStudent = [...students].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0]!;
        expect(evaluateTrialCycling(lastStudent, all, DEFAULT_DETECTION_THRESHOLDS).flagged).toBe(true);
        const byStart = [...cycler].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
        byStart.forEach((trial, i) => {
          const verdict = evaluateTrialCycling(trial, all, DEFAULT_DETECTION_THRESHOLDS, census);
          if (i === 0) expect(verdict.flagged).toBe(false);
          else expect(verdict).toMatchObject({ flagged: true, value: i, threshold: 1 });
          for (const link of verdict.linked) if (link.customerId.startsWith('cus_cycler')) expect(link.sharedBy).toContain('email');
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same verdict whatever the order of the earlier trials and with duplicates among them', () => {
    fc.assert(
      fc.property(scenario, fc.integer(), fc.integer(), (input, seedA, seedB) => {
        const { students, cycler } = build(input);
        const all = [...students, ...cycler];
        const census = new Map([[campus, input.unrelatedOnCampus]]);
        const withDuplicates = shuffle([...all, ...all.slice(0, seedB % all.length)], seedB);
        for (const trial of all) {
          expect(evaluateTrialCycling(trial, withDuplicates, DEFAULT_DETECTION_THRESHOLDS, census)).toEqual(
            evaluateTrialCycling(trial, shuffle(all, seedA), DEFAULT_DETECTION_THRESHOLDS, census),
          );
        }
      }),
      { numRuns: 200 },
    );
  });

  it('still flags five identities behind one address that nobody else uses (a cycling ring with fresh e-mails)', () => {
    const ring = [1, 2, 3, 4, 5].map((n) => profile(n, { ips: ['192.0.2.77'], deviceFingerprints: [`vm-${n}`] }));
    expect(evaluateTrialCycling(ring[4]!, ring, DEFAULT_DETECTION_THRESHOLDS, new Map([['192.0.2.77', 0]]))).toMatchObject({ flagged: true, value: 4, threshold: 3 });
  });
});
