/**
 * The trial watch on the real MongoDB: trials arrive through every path (the license service's
 * registration at issue, an activation's sighting, billing's hook with the card), in any order,
 * repeated, and the trials that processes without a detector recorded are judged by the
 * worker's sweep. The network census comes from validations, as the detector feeds it.
 */
import fc from 'fast-check';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS } from '../../lib/abuse/detection-thresholds.js';
import { evaluateTrialCycling, type TrialProfile } from '../../lib/abuse/evaluate-trial-cycling.js';
import { normalizeEmail } from '../../lib/abuse/normalize-email.js';
import type { TrialRegistration } from '../../lib/abuse/trial-registration.js';
import type { LicenseFacts } from '../../lib/service/license-facts.js';
import { TrialCyclingWatch } from '../../lib/service/trial-cycling-watch.js';
import { MongoTrialRegistrationStore } from '../../lib/store/mongo-trial-registration-store.js';
import { sweepPendingTrials } from '../../worker/trials/trial-watch-module.js';
import { streamEntries, validationEvent } from '../support/abuse-events.js';
import { gmailVariant, gmailVariation, personNames, shuffle, STUDENT_DOMAINS } from '../support/trial-people.js';
import { mongoUrl, uniqueName } from '../setup/services.js';

let client: MongoClient;
let db: Db;
beforeAll(async () => {
  client = await new MongoClient(mongoUrl()).connect();
  db = client.db(uniqueName('trials'));
});
afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

const CAMPUS = '198.51.100.20';
const HOME = '192.0.2.77';
const START = Date.UTC(2026, 8, 1, 9);
const NOW = new Date(START + 20 * 86_400_000);

async function startWatch() {
  const registrations = new MongoTrialRegistrationStore({ db, collectionPrefix: `${uniqueName('t')}_` });
  await registrations.ensureIndexes();
  return { registrations, watch: new TrialCyclingWatch({ registrations }) };
}

/** Facts of a paid license of `customerId` (or of a trial started at `trialStartedAt`). */
const factsOf = (licenseId: string, customerId: string | null, trialStartedAt: Date | null = null): LicenseFacts => ({
  licenseId,
  customerId,
  thresholds: DEFAULT_DETECTION_THRESHOLDS,
  licensedDomains: null,
  trialStartedAt,
});

/** `count` paying customers of the campus validating from its NAT address, through the detector's census path. */
async function campusBackground(watch: TrialCyclingWatch, count: number): Promise<void> {
  const facts = new Map(Array.from({ length: count }, (_, i) => [`lic_paid_${i}`, factsOf(`lic_paid_${i}`, `cus_paid_${i}`)] as const));
  const events = [...facts.keys()].flatMap((licenseId, i) => [validationEvent(licenseId, START + i * 1_000, { ip: CAMPUS }), validationEvent(licenseId, START + i * 1_000 + 500, { ip: CAMPUS })]);
  const pending = watch.collect(streamEntries(events), facts);
  await watch.observe(pending, NOW);
  pending.commit();
  await watch.flushCensus();
}

interface Trial {
  readonly licenseId: string;
  readonly customerId: string;
  readonly email: string;
  readonly device: string;
  readonly ip: string;
  readonly startedAt: Date;
}

/** The ways a trial reaches the store: billing's hook alone, or the license service then an activation (then perhaps the hook). */
const PATHS = [['hook'], ['issue', 'activation'], ['issue', 'activation', 'hook'], ['activation', 'issue']] as const;

const scenario = fc.record({
  names: personNames,
  variations: fc.array(gmailVariation, { minLength: 5, maxLength: 5 }),
  cyclerOnCampus: fc.boolean(),
  unrelatedOnCampus: fc.integer({ min: 15, max: 60 }),
  startOrder: fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
  paths: fc.array(fc.integer({ min: 0, max: PATHS.length - 1 }), { minLength: 10, maxLength: 10 }),
  repeats: fc.array(fc.nat({ max: 29 }), { maxLength: 8 }),
  seed: fc.integer(),
});

function trialsOf(input: typeof scenario extends fc.Arbitrary<infer T> ? T : never): { students: Trial[]; cycler: Trial[] } {
  const at = (i: number) => new Date(START + 86_400_000 * (1 + (input.startOrder[i]! % 10)) + i);
  const students = Array.from({ length: 5 }, (_, i) => ({
    licenseId: `lic_student_${i}`,
    customerId: `cus_student_${i}`,
    email: `${input.names[i]!}@${STUDENT_DOMAINS[i % STUDENT_DOMAINS.length]!}`,
    device: `laptop-${input.names[i]!}`,
    ip: CAMPUS,
    startedAt: at(i),
  }));
  const cycler = input.variations.map((variation, i) => ({
    licenseId: `lic_cycler_${i}`,
    customerId: `cus_cycler_${i}`,
    email: gmailVariant(input.names[10]!, variation),
    device: `vm-${i}`,
    ip: input.cyclerOnCampus ? CAMPUS : HOME,
    startedAt: at(5 + i),
  }));
  return { students, cycler };
}

const registrationOf = (trial: Trial, known: { email: boolean; seen: boolean }): TrialRegistration => ({
  licenseId: trial.licenseId,
  customerId: trial.customerId,
  email: known.email ? trial.email : null,
  cardFingerprint: null,
  deviceFingerprint: known.seen ? trial.device : null,
  ip: known.seen ? trial.ip : null,
  stripeSubscriptionId: null,
  startedAt: trial.startedAt,
});

const profileOf = (trial: Trial): TrialProfile => ({
  licenseId: trial.licenseId,
  customerId: trial.customerId,
  emailNormalized: normalizeEmail(trial.email),
  cardFingerprint: null,
  deviceFingerprints: [trial.device],
  ips: [trial.ip],
  startedAt: trial.startedAt,
});

describe('TrialCyclingWatch on MongoDB', () => {
  it(
    'judges students behind a campus NAT and one person cycling Gmail variants alike, whatever the path, order and repeats of their registrations',
    { timeout: 600_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async (input) => {
          const { registrations, watch } = await startWatch();
          await campusBackground(watch, input.unrelatedOnCampus);
          const { students, cycler } = trialsOf(input);
          const all = [...students, ...cycler];
          const steps = all.flatMap((trial, i) => PATHS[input.paths[i]!]!.map((step) => ({ trial, step })));
          for (const repeat of input.repeats) steps.push(steps[repeat % steps.length]!);

          const emitted: AbuseSignal[] = [];
          for (const { trial, step } of shuffle(steps, input.seed)) {
            if (step === 'hook') emitted.push(...(await watch.register(registrationOf(trial, { email: true, seen: true }), NOW)));
            else if (step === 'issue') await registrations.register([registrationOf(trial, { email: true, seen: false })], NOW);
            else await registrations.addSightings([{ licenseId: trial.licenseId, customerId: trial.customerId, startedAt: trial.startedAt, deviceFingerprints: [trial.device], ips: [trial.ip] }], NOW);
          }
          const swept = await sweepPendingTrials({ watch, signals: { upsert: async () => undefined }, batchSize: 4 }, NOW);
          emitted.push(...swept.signals);
          expect(await registrations.findPending(10)).toEqual([]);

          const latest = new Map<string, AbuseSignal>();
          for (const signal of emitted) latest.set(signal.subject.type === 'license' ? signal.subject.licenseId : '', signal);
          // Students: never flagged.
          for (const student of students) expect(latest.has(student.licenseId)).toBe(false);
          // The cycler: every trial after the first, with one more linked customer each.
          const byStart = [...cycler].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
          expect(latest.has(byStart[0]!.licenseId)).toBe(false);
          byStart.slice(1).forEach((trial, i) => {
            expect(latest.get(trial.licenseId)).toMatchObject({ kind: 'trial_cycling', value: i + 1, threshold: 1 });
          });
          // And exactly the verdicts of the pure rule on everything, with the census as counted.
          const profiles = all.map(profileOf);
          const census = new Map([[CAMPUS, input.unrelatedOnCampus]]);
          for (const profile of profiles) {
            const verdict = evaluateTrialCycling(profile, profiles, DEFAULT_DETECTION_THRESHOLDS, census);
            const signal = latest.get(profile.licenseId);
            expect(signal === undefined ? { flagged: false, linked: verdict.linked } : { flagged: true, value: signal.value, linked: signal.evidence.linkedCustomers }).toEqual(
              verdict.flagged ? { flagged: true, value: verdict.value, linked: verdict.linked } : { flagged: false, linked: verdict.linked },
            );
          }
        }),
        { numRuns: 20 },
      );
    },
  );

  it('counts the campus customers from validations once per customer, and the students weigh almost nothing there', async () => {
    const { registrations, watch } = await startWatch();
    await campusBackground(watch, 40);
    // The same validations again (a redelivered batch, another day's launches): still 40 customers.
    await campusBackground(watch, 40);
    expect(await registrations.census.countDocuments({ network: CAMPUS })).toBe(40);
    expect(await registrations.unrelatedCustomersOn([CAMPUS], new Set(['cus_paid_0']), new Date(START))).toEqual(new Map([[CAMPUS, 39]]));
    for (let i = 0; i < 5; i++) {
      await registrations.register([{ licenseId: `lic_s${i}`, customerId: `cus_s${i}`, email: `s${i}@student.uni-example.edu`, cardFingerprint: null, deviceFingerprint: `laptop-${i}`, ip: CAMPUS, stripeSubscriptionId: null, startedAt: new Date(START + i * 60_000) }], NOW);
    }
    const [last] = await registrations.getMany(['lic_s4']);
    const verdict = await watch.judge(last!, NOW);
    expect(verdict).toMatchObject({ flagged: false, linked: [{ sharedBy: ['ip'], weight: 0.11 }, {}, {}, {}] });
  });

  it('looks at no more new census pairs than its queue holds (10,000), writes them in the background, and takes the rest later', async () => {
    const registrations = new MongoTrialRegistrationStore({ db, collectionPrefix: `${uniqueName('t')}_` });
    await registrations.ensureIndexes();
    const watch = new TrialCyclingWatch({ registrations, censusWritesPerSecond: 1_000_000 });
    const facts = new Map(Array.from({ length: 12_000 }, (_, i) => [`lic_${i}`, factsOf(`lic_${i}`, `cus_${i}`)] as const));
    const events = [...facts.keys()].map((licenseId, i) => validationEvent(licenseId, START, { ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` }));
    const first = watch.collect(streamEntries(events), facts);
    expect(first.census.size).toBe(10_000);
    await watch.observe(first, NOW);
    await watch.flushCensus();
    expect(await registrations.census.countDocuments({})).toBe(10_000);
    const second = watch.collect(streamEntries(events), facts);
    expect(second.census.size).toBe(2_000);
    await watch.observe(second, NOW);
    await watch.flushCensus();
    expect(await registrations.census.countDocuments({})).toBe(12_000);
  });

  it('forgets census entries older than its window', async () => {
    const { registrations, watch } = await startWatch();
    await campusBackground(watch, 3);
    expect(await watch.pruneCensus(new Date(START + 10 * 86_400_000))).toBe(0);
    expect(await watch.pruneCensus(new Date(START + 31 * 86_400_000))).toBe(3);
    expect(await registrations.census.countDocuments({})).toBe(0);
  });

  it('leaves a trial marked again during a sweep pending for the next one', async () => {
    const { registrations, watch } = await startWatch();
    const trial = { licenseId: 'lic_a', customerId: 'cus_a', email: 'a@example.com', cardFingerprint: null, deviceFingerprint: null, ip: null, stripeSubscriptionId: null, startedAt: new Date(START) };
    await registrations.register([trial], new Date(START + 1_000));
    const batch = await watch.evaluatePending(NOW, 10);
    await registrations.addSightings([{ licenseId: 'lic_a', customerId: 'cus_a', startedAt: new Date(START), deviceFingerprints: ['pc'], ips: [] }], new Date(START + 2_000));
    await batch.clear();
    expect((await registrations.findPending(10)).map((pending) => pending.profile.licenseId)).toEqual(['lic_a']);
  });
});
