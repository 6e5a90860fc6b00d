/**
 * The abuse detector end to end: the real server records validations posted over HTTP, the real
 * worker (cases module + detector module) consumes its event streams, and the admin API shows
 * the cases. Every scenario runs in one session against one server and one worker, with the
 * default thresholds (design.md), and the test states exactly which subjects end up flagged.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../../lib/abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS } from '../../../lib/abuse/detection-thresholds.js';
import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { loadPlanCatalogue } from '../../../lib/plans/plan-catalogue.js';
import { MongoAdminTokenStore } from '../../../lib/store/mongo-admin-token-store.js';
import { MongoSignalStore } from '../../../lib/store/mongo-signal-store.js';
import { createAdminToken } from '../../../server/auth/admin-auth.js';
import { serverWiring } from '../../../server/main.js';
import { createAbuseDetectorModule } from '../../../worker/abuse/abuse-detector-module.js';
import { readStreamLag } from '../../../worker/abuse/stream-lag.js';
import { DEFAULT_CONSUMER_GROUP } from '../../../worker/abuse/stream-consumer.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { COUNTRY_IPS } from '../../fixtures/country-ips.js';
import { addressesIn, repeated, sendValidations, type TrafficRequest } from '../../support/abuse-traffic.js';
import { startTestServer } from '../../support/server-fixture.js';
import { startTestWorker } from '../../support/worker-fixture.js';

/** Plans of the scenarios; none overrides a threshold, so the defaults apply throughout. */
const SCENARIO_PLANS = loadPlanCatalogue({
  plans: [
    { id: 'open', rank: 1, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null } },
    { id: 'web', rank: 2, limits: { maxActivations: null, maxDomains: 2, validationsPerMonth: null } },
    { id: 'office', rank: 3, limits: { maxActivations: 500, maxDomains: null, validationsPerMonth: null } },
    { id: 'starter', rank: 4, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null }, trialDays: 14 },
  ],
});

const WAIT_LIMIT_MS = 90_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers freely
type Json = any;

describe('abuse detection end to end', () => {
  it('flags each abuse pattern on its subject, leaves heavy legitimate use alone, and acts on a decision', { timeout: 240_000 }, async () => {
    const server = await startTestServer({ plans: SCENARIO_PLANS }, serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    const worker = await startTestWorker(
      { mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix, plans: SCENARIO_PLANS },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 })],
      { dropDatabase: false },
    );
    const client = await new MongoClient(server.config.mongoUrl).connect();
    const db = client.db(server.config.mongoDb);
    const { token } = await createAdminToken(new MongoAdminTokenStore({ db }), { name: 'reviewer', scope: 'write' }, new Date());
    const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    };
    const licenses = server.server.keyward.licenses;
    const issue = async (planId: string, extra: { customerId?: string; trial?: boolean } = {}) => {
      const issued = await licenses.issue({ planId, periodEndsAt: new Date(Date.now() + 30 * 86_400_000), ...extra });
      if (!issued.ok) throw new Error(`issue on ${planId}: ${issued.refusal.code}`);
      return { id: issued.value.record.license.id, key: issued.value.key, createdAt: issued.value.record.license.createdAt };
    };

    try {
      // Geo spread: one key validated from 30 countries (threshold: 20 per UTC day).
      const geo = await issue('open');
      const geoTraffic: TrafficRequest[] = repeated(COUNTRY_IPS.map(([, ip], i) => ({ key: geo.key, ip, fingerprint: `pc-${i}` })), 2);

      // Velocity: 3,000 validations from 150 addresses in one hour (thresholds: > 1,000 and ≥ 50 IPs).
      const burst = await issue('open');
      const burstIps = addressesIn('2.28.10', 150);
      const burstTraffic = repeated(Array.from({ length: 1_500 }, (_, i) => ({ key: burst.key, ip: burstIps[i % burstIps.length]!, fingerprint: `copy-${i % 300}` })), 2);

      // Domain spoofing: a key licensed for shop.example used by other sites (threshold: 1 per day).
      const shop = await issue('web');
      expect((await server.post('/v1/licenses/activate', { key: shop.key, domain: 'shop.example' }, { 'x-forwarded-for': '2.21.10.20' })).status).toBe(200);
      const shopTraffic: TrafficRequest[] = [
        ...Array.from({ length: 20 }, () => ({ key: shop.key, ip: '2.21.10.20', domain: 'shop.example', origin: 'https://shop.example' })),
        { key: shop.key, ip: '2.35.10.20', domain: 'shop.example', origin: 'https://copycat.example' },
        { key: shop.key, ip: '2.35.10.21', domain: 'mirror.example', referer: 'https://mirror.example/pricing' },
      ];

      // Key guessing: 80 well-formed unknown keys from one /24 (threshold: 30 misses per 10 minutes).
      const guessIps = addressesIn('45.83.64', 40);
      const guessTraffic = Array.from({ length: 80 }, (_, i) => ({ key: generateKey(), ip: guessIps[i % guessIps.length]! }));

      // Legitimate heavy use: a 500-seat office key, 3,000 validations from 5 office addresses in two countries.
      const office = await issue('office');
      const officeIps = [...addressesIn('2.161.10', 3), ...addressesIn('2.7.10', 2)];
      const desks = Array.from({ length: 25 }, (_, i) => `desk-${i}`);
      for (const [i, desk] of desks.entries()) {
        const activated = await server.post('/v1/licenses/activate', { key: office.key, fingerprint: desk }, { 'x-forwarded-for': officeIps[i % officeIps.length]! });
        expect(activated.status).toBe(200);
      }
      const officeTraffic = Array.from({ length: 3_000 }, (_, i) => ({ key: office.key, ip: officeIps[i % officeIps.length]!, fingerprint: desks[i % desks.length]!, domain: 'acme-corp.example' }));

      // Trial farm: 10 customers, one card, one machine; and one honest trial with its own card.
      const farm = [];
      for (let i = 0; i < 10; i++) farm.push({ ...(await issue('starter', { customerId: `cus_farm_${i}`, trial: true })), customerId: `cus_farm_${i}` });
      const honest = { ...(await issue('starter', { customerId: 'cus_honest', trial: true })), customerId: 'cus_honest' };
      for (const [i, trial] of [...farm, honest].entries()) {
        await worker.context.hooks.onTrialStarted!({
          licenseId: trial.id,
          customerId: trial.customerId,
          email: `${trial.customerId}@mail.example`,
          cardFingerprint: trial === honest ? 'card_honest' : 'card_farm',
          deviceFingerprint: null,
          ip: null,
          stripeSubscriptionId: null,
          startedAt: new Date(trial.createdAt.getTime() + i),
        });
      }
      const trialTraffic: TrafficRequest[] = [
        ...farm.flatMap((trial) => Array.from({ length: 3 }, () => ({ key: trial.key, ip: '5.188.10.20', fingerprint: 'farm-pc' }))),
        ...Array.from({ length: 3 }, () => ({ key: honest.key, ip: '2.84.10.20', fingerprint: 'honest-pc' })),
      ];

      const answers = await sendValidations(server.url, [...geoTraffic, ...shopTraffic, ...guessTraffic, ...trialTraffic, ...burstTraffic, ...officeTraffic]);
      // The spoofing request that names the licensed domain passes; the one that claims mirror.example does not.
      expect(answers).toEqual({
        '200 VALID': geoTraffic.length + shopTraffic.length - 1 + trialTraffic.length + burstTraffic.length + officeTraffic.length,
        '200 DOMAIN_NOT_ALLOWED': 1,
        '200 NOT_FOUND': guessTraffic.length,
      });

      await waitForDrain(worker.context.redis, allStreamKeys(partitions, streamPrefix));

      const signals = await new MongoSignalStore({ db }).list({ limit: 1_000 });
      const flagged = kindsBySubject(signals);
      const farmIds = farm.map((trial) => trial.id);
      expect(flagged).toEqual(
        new Map<string, string[]>([
          [geo.id, ['geo_spread']],
          [burst.id, ['velocity']],
          [shop.id, ['domain_spoofing']],
          ['45.83.64.0/24', ['key_guessing']],
          // Every farm trial after the first is linked to an earlier one by the card.
          ...farmIds.slice(1).map((id): [string, string[]] => [id, ['trial_cycling']]),
        ]),
      );
      const threshold = DEFAULT_DETECTION_THRESHOLDS;
      const only = (subject: string) => signals.filter((signal) => subjectOf(signal) === subject);
      // A signal is stored with its current value on every batch that touches its window.
      expect(only(geo.id)[0]!.threshold).toBe(threshold.countriesPerDay);
      expect(only(geo.id)[0]!.value).toBeGreaterThanOrEqual(threshold.countriesPerDay);
      const countries = only(geo.id)[0]!.evidence.countries!.map((country) => country.value);
      expect(countries).toHaveLength(only(geo.id)[0]!.value);
      expect(COUNTRY_IPS.map(([country]) => country)).toEqual(expect.arrayContaining(countries));
      expect(Math.max(...only(burst.id).map((signal) => signal.value))).toBeGreaterThan(threshold.validationsPerHour);
      expect(only(shop.id)[0]!.evidence.details).toBeDefined();
      expect(only('45.83.64.0/24')[0]!.value).toBeGreaterThanOrEqual(threshold.missesPerNetwork);
      const lastFarm = only(farmIds.at(-1)!)[0]!;
      expect(lastFarm.evidence.linkedCustomers!.map((linked) => linked.customerId).sort()).toEqual(farm.slice(0, -1).map((trial) => trial.customerId).sort());
      expect(lastFarm.evidence.linkedCustomers![0]!.sharedBy).toContain('card');

      // Cases: one per flagged subject, each scored; none for the office key or the honest trial.
      const listed = await admin('GET', '/v1/admin/cases?limit=50');
      expect(listed.status).toBe(200);
      const cases = listed.body.data as Array<{ id: string; subject: { licenseId?: string; network?: string }; score: number; kinds: string[]; status: string }>;
      expect(new Map(cases.map((found) => [found.subject.licenseId ?? found.subject.network!, found.kinds]))).toEqual(flagged);
      for (const found of cases) expect(found.score, found.id).toBeGreaterThan(0);
      expect(cases.some((found) => found.subject.licenseId === office.id || found.subject.licenseId === honest.id)).toBe(false);

      // A reviewer suspends the burst key: its next validation is SUSPENDED and the audit trail names the reviewer.
      const burstCase = cases.find((found) => found.subject.licenseId === burst.id)!;
      const decided = await admin('POST', `/v1/admin/cases/${burstCase.id}/decisions`, { action: 'suspend', reason: 'key shared with 150 addresses in an hour' });
      expect(decided.status).toBe(200);
      expect(decided.body.case).toMatchObject({ status: 'actioned', decision: { action: 'suspend', reviewer: expect.stringMatching(/^admin:tok_/) } });
      expect((await server.post('/v1/licenses/validate', { key: burst.key }, { 'x-forwarded-for': burstIps[0]! })).body['code']).toBe('SUSPENDED');
      const audit = await admin('GET', `/v1/admin/licenses/${burst.id}/audit`);
      const last = (audit.body.data as Array<{ command: string; cause: { actor: string; reason?: string } }>).at(-1);
      expect(last).toMatchObject({ command: 'suspend', cause: { actor: decided.body.case.decision.reviewer } });
    } finally {
      await worker.stop();
      const redis = new Redis(server.config.redisUrl);
      const keys = await redis.keys(`${streamPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await client.close();
    }
  });
});

/** The subject of a signal as one string: license id or network. */
function subjectOf(signal: AbuseSignal): string {
  return signal.subject.type === 'license' ? signal.subject.licenseId : signal.subject.network;
}

/** Signal kinds per subject, each list sorted. */
function kindsBySubject(signals: readonly AbuseSignal[]): Map<string, string[]> {
  const kinds = new Map<string, Set<string>>();
  for (const signal of signals) kinds.set(subjectOf(signal), (kinds.get(subjectOf(signal)) ?? new Set()).add(signal.kind));
  return new Map([...kinds].map(([subject, set]) => [subject, [...set].sort()]));
}

/** Polls until every partition's consumer group has nothing pending and nothing undelivered. */
async function waitForDrain(redis: Parameters<typeof readStreamLag>[0], streamKeys: readonly string[]): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const lags = await Promise.all(streamKeys.map((key) => readStreamLag(redis, key, DEFAULT_CONSUMER_GROUP)));
    if (lags.every((lag) => lag.pending === 0 && lag.undelivered === 0)) return;
    if (Date.now() > deadline) throw new Error(`the worker did not drain the event streams within ${WAIT_LIMIT_MS} ms; backlog per partition: ${JSON.stringify(lags)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
