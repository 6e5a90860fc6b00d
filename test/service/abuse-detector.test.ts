import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import type { ValidationEvent } from '../../lib/events/validation-event.js';
import { AbuseDetector } from '../../lib/service/abuse-detector.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';
import { streamEntries, validationEvent } from '../support/abuse-events.js';
import { startKeyward, TEST_PLANS, type KeywardFixture } from '../support/keyward-fixture.js';
import { redisUrl, uniqueName } from '../setup/services.js';

const NOW = new Date('2026-03-02T12:00:00.000Z');
const HOUR = Date.parse('2026-03-02T09:00:00.000Z');
const PLANS = {
  plans: [
    ...TEST_PLANS.plans,
    { id: 'enterprise', rank: 9, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null }, abuseThresholds: { validationsPerHour: 20_000 } },
  ],
};

let fixture: KeywardFixture;
let redis: Redis;
let keyPrefix: string;
let reported: AbuseSignal[];
let detector: AbuseDetector;

beforeEach(async () => {
  fixture = await startKeyward({ plans: PLANS });
  redis = new Redis(redisUrl());
  keyPrefix = uniqueName('abuse');
  reported = [];
  detector = new AbuseDetector({
    db: fixture.db,
    redis,
    licenses: fixture.keyward.licenses,
    plans: fixture.keyward.plans,
    keyPrefix,
    clock: () => NOW,
    onSignal: async (signal) => void reported.push(signal),
  });
  await detector.ensureIndexes();
});

afterEach(async () => {
  const keys = await redis.keys(`${keyPrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await fixture.close();
});

async function issue(planId: string, extra: { trial?: boolean; customerId?: string } = {}): Promise<string> {
  const result = await fixture.keyward.licenses.issue({ planId, periodEndsAt: new Date('2027-01-01T00:00:00Z'), ...extra });
  if (!result.ok) throw new Error(result.refusal.code);
  return result.value.record.license.id;
}

/** Processes events in batches of `size` on partition 3, as one stream partition would deliver them. */
async function processInBatches(events: readonly ValidationEvent[], size = 500): Promise<void> {
  const entries = streamEntries(events);
  for (let i = 0; i < entries.length; i += size) await detector.process(3, entries.slice(i, i + size));
}

describe('AbuseDetector', () => {
  it('flags a shared key validated from 30 countries in a day, counting private addresses apart', async () => {
    const licenseId = await issue('open');
    const events = COUNTRY_IPS.flatMap(([, ip], i) => [0, 1].map((n) => validationEvent(licenseId, HOUR + i * 60_000 + n, { ip })));
    events.push(validationEvent(licenseId, HOUR + 3_000_000, { ip: '10.0.0.8' }), validationEvent(licenseId, HOUR + 3_000_001, { ip: '::ffff:192.168.1.4' }));
    await processInBatches(events, 25);

    const signals = await detector.signals.list({ licenseId, kind: 'geo_spread' });
    expect(signals).toHaveLength(1);
    const [signal] = signals;
    expect(signal).toMatchObject({
      id: `sig_geo_spread_${licenseId}_${Date.parse('2026-03-02T00:00:00Z')}`,
      value: 30,
      threshold: 20,
      window: { start: new Date('2026-03-02T00:00:00Z'), end: new Date('2026-03-03T00:00:00Z') },
      evidence: { details: { countries: 30, privateAddresses: 2, unknownAddresses: 0 }, firstSeen: new Date(HOUR) },
    });
    expect(signal!.evidence.countries!.map((country) => country.value).sort()).toEqual(COUNTRY_IPS.map(([country]) => country).sort());
    expect(reported.map((s) => s.id)).toContain(signal!.id);
  });

  it('flags a burst of 3,000 validations in an hour from 300 IPs as velocity, in each sliding hour it overflows', async () => {
    const licenseId = await issue('open');
    const events = Array.from({ length: 3000 }, (_, i) => validationEvent(licenseId, HOUR + i * 1000, { ip: `81.${2 + (i % 3)}.${i % 100}.9`, fingerprint: `fp_${i % 40}` }));
    await processInBatches(events);

    // 09:00-10:00 holds all 3,000; 09:30-10:30 the last 1,200 (past the threshold on its own).
    const [later, signal, ...others] = await detector.signals.list({ licenseId, kind: 'velocity' });
    expect(others).toEqual([]);
    expect(signal).toMatchObject({ value: 3000, threshold: 1000, window: { start: new Date(HOUR), end: new Date(HOUR + 3_600_000) } });
    expect(signal!.evidence.details).toEqual({ validations: 3000, distinctIps: 300, validationsFromIpsPastCap: 0 });
    expect(signal!.evidence.fingerprints).toHaveLength(20);
    expect(signal!.evidence.topIps).toHaveLength(20);
    expect(signal!.evidence.topIps![0]).toEqual({ value: '81.2.0.9', count: 10 });
    expect(signal!.evidence.firstSeen).toEqual(new Date(HOUR));
    expect(signal!.evidence.lastSeen).toEqual(new Date(HOUR + 2_999_000));
    expect(later).toMatchObject({ value: 1200, window: { start: new Date(HOUR + 1_800_000) } });
  });

  it('flags a burst straddling the hour boundary whole, in the hour that starts at the half hour', async () => {
    const licenseId = await issue('open');
    const start = HOUR + 40 * 60_000; // 09:40 to 10:20, 800 validations on each side of 10:00
    const events = Array.from({ length: 1600 }, (_, i) => validationEvent(licenseId, start + i * 1500, { ip: `81.2.${i % 200}.9` }));
    await processInBatches(events);

    const [signal, ...others] = await detector.signals.list({ licenseId, kind: 'velocity' });
    expect(others).toEqual([]);
    expect(signal).toMatchObject({ value: 1600, threshold: 1000, window: { start: new Date(HOUR + 1_800_000), end: new Date(HOUR + 5_400_000) } });
    expect(signal!.evidence.details).toMatchObject({ validations: 1600, distinctIps: 200 });
  });

  it('keeps a 500-seat enterprise key validating from 5 offices in 2 countries quiet', async () => {
    const licenseId = await issue('open');
    const offices = ['2.161.10.20', '2.161.10.21', '2.161.11.7', '3.14.10.20', '3.14.10.99'];
    const events = Array.from({ length: 6000 }, (_, i) => validationEvent(licenseId, HOUR + Math.floor(i * 0.6) * 1000, { ip: offices[i % 5]!, fingerprint: `seat_${i % 500}` }));
    await processInBatches(events);

    expect(await detector.signals.list({ licenseId })).toEqual([]);
    expect(reported).toEqual([]);
  });

  it('flags a 3-seat key used from 8 machines (NOT_ACTIVATED on the unseated ones), and leaves a key used as sold alone', async () => {
    const shared = await issue('pro');
    const sold = await issue('pro');
    const seatsOf = (licenseId: string, machines: number, seats: number) =>
      Array.from({ length: 160 }, (_, i) =>
        validationEvent(licenseId, HOUR + i * 60_000, { ip: COUNTRY_IPS[i % 4]![1], fingerprint: `machine-${i % machines}`, code: i % machines < seats ? 'VALID' : 'NOT_ACTIVATED' }),
      );
    // The key used as sold: 3 seated machines, and one new laptop answered NOT_ACTIVATED until it was activated.
    const asSold = [...seatsOf(sold, 3, 3), validationEvent(sold, HOUR + 5_000, { fingerprint: 'new-laptop', code: 'NOT_ACTIVATED' })];
    await processInBatches([...seatsOf(shared, 8, 3), ...asSold].sort((a, b) => a.at - b.at), 37);

    const [signal, ...others] = await detector.signals.list({ licenseId: shared, kind: 'seat_sharing' });
    expect(others).toEqual([]);
    expect(signal).toMatchObject({ value: 5, threshold: 2, evidence: { details: { seats: 3, unseatedMachines: 5, unseatedMachinesAllowed: 2, notActivatedAnswers: 100 } } });
    expect(signal!.evidence.fingerprints!.map((f) => f.value)).toEqual(['machine-3', 'machine-4', 'machine-5', 'machine-6', 'machine-7']);
    expect(await detector.signals.list({ licenseId: sold })).toEqual([]);
  });

  it('follows the plan: an enterprise plan allows a burst that the default flags', async () => {
    const licenseId = await issue('enterprise');
    const events = Array.from({ length: 3000 }, (_, i) => validationEvent(licenseId, HOUR + i * 1000, { ip: `81.2.${i % 100}.9` }));
    await processInBatches(events);
    expect(await detector.signals.list({ licenseId, kind: 'velocity' })).toEqual([]);
  });

  it('flags spoofed referrers and origins on a domain-bound key, and leaves its own site alone', async () => {
    const licenseId = await issue('web');
    const activated = await fixture.keyward.licenses.apply(licenseId, { type: 'activate', kind: 'domain', value: 'example.com' });
    expect(activated.ok).toBe(true);
    const events = [
      ...Array.from({ length: 50 }, (_, i) => validationEvent(licenseId, HOUR + i, { domain: 'example.com', origin: 'https://www.example.com', referer: 'https://example.com/app' })),
      ...Array.from({ length: 12 }, (_, i) => validationEvent(licenseId, HOUR + 100 + i, { domain: 'example.com', referer: `https://pirate-${i % 2}.net/page`, ip: `45.1.1.${i}` })),
      validationEvent(licenseId, HOUR + 200, { domain: 'warez.io', origin: 'https://warez.io' }),
    ];
    await processInBatches(events, 20);

    const [signal, ...others] = await detector.signals.list({ licenseId, kind: 'domain_spoofing' });
    expect(others).toEqual([]);
    expect(signal).toMatchObject({ value: 13, threshold: 1, evidence: { details: { spoofedRequests: 13, REFERER_MISMATCH: 12, NOT_LICENSED: 1 } } });
    expect(signal!.evidence.referrers).toEqual([
      { value: 'pirate-0.net', count: 6 },
      { value: 'pirate-1.net', count: 6 },
      { value: 'warez.io', count: 1 },
    ]);
  });

  it('flags a trial farm of 10 accounts sharing a card, with the linked customers', async () => {
    const trials = [];
    for (let i = 0; i < 10; i += 1) {
      const licenseId = await issue('pro', { trial: true, customerId: `cus_farm${i}` });
      trials.push(licenseId);
      await detector.registerTrial({
        licenseId,
        customerId: `cus_farm${i}`,
        email: `Jo.Doe+t${i}@gmail.com`.replace('Jo.Doe', i % 2 === 0 ? 'Jo.Doe' : 'jodoe'),
        cardFingerprint: 'card_shared',
        deviceFingerprint: null,
        ip: null,
        stripeSubscriptionId: `sub_${i}`,
        startedAt: new Date(Date.parse('2026-03-01T00:00:00Z') + i * 3_600_000),
      });
    }
    await detector.registerTrial({ licenseId: trials[9]!, customerId: 'cus_farm9', email: null, cardFingerprint: 'card_shared', deviceFingerprint: null, ip: null, stripeSubscriptionId: null, startedAt: new Date('2026-03-01T09:00:00Z') });

    const last = await detector.signals.list({ licenseId: trials[9]!, kind: 'trial_cycling' });
    expect(last).toHaveLength(1);
    expect(last[0]).toMatchObject({ value: 9, threshold: 1, severity: 100 });
    expect(last[0]!.evidence.linkedCustomers!.map((c) => c.customerId)).toEqual(Array.from({ length: 9 }, (_, i) => `cus_farm${i}`));
    expect(last[0]!.evidence.linkedCustomers![1]).toEqual({ customerId: 'cus_farm1', licenseId: trials[1], sharedBy: ['card', 'email'] });
    expect(await detector.signals.list({ licenseId: trials[0]!, kind: 'trial_cycling' })).toEqual([]);
    expect(await detector.signals.list({ kind: 'trial_cycling' })).toHaveLength(9);
    expect(await detector.registrations.collection.countDocuments()).toBe(10);
  });

  it('links a trial to an earlier one through a device fingerprint seen in its validations', async () => {
    const first = await issue('pro', { trial: true, customerId: 'cus_a' });
    const second = await issue('pro', { trial: true, customerId: 'cus_b' });
    const base = { email: null, cardFingerprint: null, deviceFingerprint: null, ip: null, stripeSubscriptionId: null };
    await detector.registerTrial({ ...base, licenseId: first, customerId: 'cus_a', startedAt: new Date('2026-02-01T00:00:00Z') });
    await detector.registerTrial({ ...base, licenseId: second, customerId: 'cus_b', startedAt: new Date('2026-03-01T00:00:00Z') });
    await processInBatches([validationEvent(first, HOUR, { fingerprint: 'machine-42', ip: '81.2.0.1' }), validationEvent(second, HOUR + 1, { fingerprint: 'machine-42', ip: '81.9.9.9' })]);

    const [signal] = await detector.signals.list({ licenseId: second, kind: 'trial_cycling' });
    expect(signal).toMatchObject({ value: 1, evidence: { linkedCustomers: [{ customerId: 'cus_a', licenseId: first, sharedBy: ['device'] }] } });
    expect(await detector.signals.list({ licenseId: first })).toEqual([]);
  });

  it('flags a key-guessing sweep from one /24, but not a few typos from another network', async () => {
    const sweep = Array.from({ length: 40 }, (_, i) =>
      validationEvent(null, HOUR + i * 5000, { ip: `91.200.12.${i % 8}`, code: i % 4 === 0 ? 'MALFORMED_KEY' : 'NOT_FOUND' }),
    );
    const typos = Array.from({ length: 5 }, (_, i) => validationEvent(null, HOUR + i, { ip: '2a00:1450:4001:81b::1' }));
    await processInBatches([...typos, ...sweep], 16);

    const [signal, ...others] = await detector.signals.list({ kind: 'key_guessing' });
    expect(others).toEqual([]);
    expect(signal).toMatchObject({
      id: `sig_key_guessing_91.200.12.0/24_${HOUR}`,
      subject: { type: 'network', network: '91.200.12.0/24' },
      value: 40,
      threshold: 30,
      evidence: { details: { misses: 40, notFound: 30, malformedKey: 10, distinctIps: 8 } },
    });
    expect(signal!.evidence.topIps).toHaveLength(8);
  });

  it('counts an event the sink appended twice (same eid, two entries) once, in one batch or across batches', async () => {
    const licenseId = await issue('open');
    const events = Array.from({ length: 10 }, (_, i) => validationEvent(licenseId, HOUR + i * 1000, { ip: `81.2.${i}.9`, eid: `event-id-${i}` }));
    // A retried sink batch: events 6-9 appended again, partly within the batch, partly in the next one.
    const entries = streamEntries([...events, ...events.slice(6, 8), ...events.slice(8)]);
    await detector.process(3, entries.slice(0, 12));
    await detector.process(3, entries.slice(12));

    const [hour] = await detector.windows.readBuckets(3, [`h:${licenseId}:${HOUR}`]);
    expect(hour).toMatchObject({ n: '10', 'i:81.2.9.9': '1' });
    expect(await detector.windows.checkpoint(3)).toBe(entries.at(-1)!.id);
  });

  it('counts a batch delivered twice, or overlapping an applied one, once', async () => {
    const licenseId = await issue('open');
    const events = Array.from({ length: 1500 }, (_, i) => validationEvent(licenseId, HOUR + i * 1000, { ip: `81.2.${i % 100}.9` }));
    const entries = streamEntries(events);
    await detector.process(3, entries.slice(0, 500));
    await detector.process(3, entries.slice(0, 500));
    await detector.process(3, entries.slice(0, 1200));
    await detector.process(3, entries);
    await detector.process(3, entries.slice(1000));

    const [hour] = await detector.windows.readBuckets(3, [`h:${licenseId}:${HOUR}`]);
    expect(hour).toMatchObject({ n: '1500', d: '100', 'i:81.2.0.9': '15' });
    expect(await detector.windows.checkpoint(3)).toBe(entries.at(-1)!.id);

    const before = await detector.signals.list({ licenseId });
    const restarted = new AbuseDetector({ db: fixture.db, redis, licenses: fixture.keyward.licenses, plans: fixture.keyward.plans, keyPrefix, clock: () => NOW });
    await restarted.process(3, entries.slice(1000));
    expect(await detector.signals.list({ licenseId })).toEqual(before);
    expect(before).toMatchObject([{ kind: 'velocity', value: 1500 }]);
  });
});
