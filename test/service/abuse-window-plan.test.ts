import { describe, expect, it } from 'vitest';

import type { LicenseFacts } from '../../lib/service/license-facts.js';
import { planWindows } from '../../lib/service/abuse-window-plan.js';
import { CountryLookup } from '../../lib/service/country-lookup.js';
import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { streamEntries, validationEvent } from '../support/abuse-events.js';

const countries = new CountryLookup();
const facts = new Map<string, LicenseFacts | null>([
  ['lic_web', { licenseId: 'lic_web', customerId: 'cus_1', thresholds: DEFAULT_DETECTION_THRESHOLDS, licensedDomains: ['example.com'], trialStartedAt: null }],
]);
const ms = (iso: string) => Date.parse(iso);

describe('planWindows', () => {
  it.each([
    ['the same half hour', '2026-03-02T09:30:00.000Z', '2026-03-02T09:59:59.999Z', 1],
    ['either side of the half hour', '2026-03-02T09:29:59.999Z', '2026-03-02T09:30:00.000Z', 2],
  ])('puts two validations in %s into %d velocity slot(s)', (_, a, b, buckets) => {
    const plan = planWindows(streamEntries([validationEvent('lic_1', a), validationEvent('lic_1', b)]), facts, countries);
    expect(plan.subjects.filter((subject) => subject.rule === 'velocity')).toHaveLength(buckets);
  });

  it('sums a batch per bucket: validations, IPs, a fingerprint sample in stream order, and every validation by country', () => {
    const at = '2026-03-02T09:15:00.000Z';
    const events = [
      validationEvent('lic_1', at, { ip: '2.161.10.20', fingerprint: 'm1' }),
      validationEvent('lic_1', at, { ip: '2.161.10.20', fingerprint: 'm1' }),
      validationEvent('lic_1', at, { ip: '::ffff:2.161.10.21', fingerprint: 'm2' }),
      validationEvent('lic_1', at, { ip: '10.0.0.1' }),
    ];
    const plan = planWindows(streamEntries(events), facts, countries);
    const [hour, geo] = plan.increments;
    expect(hour).toMatchObject({
      bucket: `h:lic_1:${ms('2026-03-02T09:00:00Z')}`,
      counters: new Map([['n', 4]]),
      read: ['n', 'd'],
      slotMs: 1_800_000,
    });
    expect(hour!.groups).toEqual([
      { counter: 'd', cap: 1000, countFrom: 100, increments: new Map([['i:2.161.10.20', 2], ['i:::ffff:2.161.10.21', 1], ['i:10.0.0.1', 1]]) },
      { counter: '', cap: 200, runs: [['p:m1', 2], ['p:m2', 1], ['', 1]] },
    ]);
    expect(geo).toMatchObject({ bucket: `g:lic_1:${ms('2026-03-02T00:00:00Z')}`, counters: new Map([['n', 4]]), slotMs: 43_200_000 });
    expect(geo!.groups).toEqual([
      { counter: 'cd', cap: 300, countFrom: 0, increments: new Map([['c:DE', 3]]) },
      { counter: 'xp', cap: 300, countFrom: 0, increments: new Map([['x:10.0.0.1', 1]]) },
    ]);
    expect(plan.lastEvents).toEqual([{ at: ms(at), index: 3 }, { at: ms(at), index: 3 }]);
  });

  it('samples at most the first 200 events of a slot in one batch, and keeps first and last in stream order', () => {
    const events = Array.from({ length: 250 }, (_, i) => validationEvent('lic_1', ms('2026-03-02T09:15:00Z') - i, { fingerprint: `m${i % 2}` }));
    const [hour] = planWindows(streamEntries(events), facts, countries).increments;
    const sample = hour!.groups.find((group) => group.counter === '');
    expect(sample && 'runs' in sample ? sample.runs.reduce((total, [, n]) => total + n, 0) : 0).toBe(200);
    expect(hour).toMatchObject({ first: ms('2026-03-02T09:15:00Z'), last: ms('2026-03-02T09:15:00Z') - 249 });
  });

  it('counts misses by network and by network group in 5-minute slots, and spoofed requests by license and day', () => {
    const events = [
      validationEvent(null, '2026-03-02T09:09:59.999Z', { ip: '91.200.12.7', code: 'MALFORMED_KEY' }),
      validationEvent(null, '2026-03-02T09:10:00.000Z', { ip: '91.200.12.8' }),
      validationEvent(null, '2026-03-02T09:10:00.000Z', { ip: '2001:db8:1:2::99' }),
      validationEvent('lic_web', '2026-03-02T23:59:59.999Z', { domain: 'example.com', origin: 'https://pirate.net' }),
      validationEvent('lic_web', '2026-03-02T23:59:59.999Z', { domain: 'example.com', origin: 'https://example.com' }),
    ];
    const plan = planWindows(streamEntries(events), facts, countries);
    expect(plan.subjects.filter((subject) => subject.rule !== 'velocity' && subject.rule !== 'geo_spread').map((subject) => subject.bucket)).toEqual([
      `m:91.200.12.0/24:${ms('2026-03-02T09:05:00Z')}`,
      `k:91.200.0.0/16:${ms('2026-03-02T09:05:00Z')}`,
      `m:91.200.12.0/24:${ms('2026-03-02T09:10:00Z')}`,
      `k:91.200.0.0/16:${ms('2026-03-02T09:10:00Z')}`,
      `m:2001:db8:1:2::/64:${ms('2026-03-02T09:10:00Z')}`,
      `k:2001:db8::/32:${ms('2026-03-02T09:10:00Z')}`,
      `s:lic_web:${ms('2026-03-02T00:00:00Z')}`,
    ]);
    const group = plan.increments[plan.subjects.findIndex((subject) => subject.bucket === `k:91.200.0.0/16:${ms('2026-03-02T09:10:00Z')}`)]!;
    expect([...group.counters]).toEqual([['n', 1], ['nf', 1]]);
    expect(group.groups.map((g) => ('increments' in g ? [g.counter, [...g.increments]] : null))).toEqual([
      ['wd', [['w:91.200.12.0/24', 1]]],
      ['d', [['i:91.200.12.8', 1]]],
      ['ad', [['a:toolkit/1.0', 1]]],
    ]);
    const spoof = plan.increments[plan.subjects.findIndex((subject) => subject.rule === 'domain_spoofing')]!;
    expect([...spoof.counters]).toEqual([['n', 1], ['o:ORIGIN_MISMATCH', 1]]);
  });
});
