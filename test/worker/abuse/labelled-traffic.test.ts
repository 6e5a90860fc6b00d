/**
 * Labelled realistic traffic, end to end: seeded random mixtures of legitimate licenses (heavy
 * enterprise keys behind a few NAT addresses, CI farms on dozens of cloud addresses, customers
 * behind one carrier NAT, travellers, IPv6 privacy addresses, licensed subdomains and ports,
 * local development, seats used as sold, typing mistakes, deleted keys and old clients) and
 * abusers (shared, resold, spoofed, guessing, distributed guessing, seat-sharing keys), interleaved, posted to the real server over HTTP with real
 * per-country addresses, consumed by the real worker with the default thresholds. Prints each
 * abuse kind's recall and the false-positive rate over legitimate licenses, and holds both.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../../lib/abuse/abuse-signal.js';
import { allStreamKeys } from '../../../lib/events/stream-partition.js';
import { generateKey } from '../../../lib/keys/generate-key.js';
import { loadPlanCatalogue } from '../../../lib/plans/plan-catalogue.js';
import { MongoSignalStore } from '../../../lib/store/mongo-signal-store.js';
import { serverWiring } from '../../../server/main.js';
import { createAbuseDetectorModule } from '../../../worker/abuse/abuse-detector-module.js';
import { readStreamLag } from '../../../worker/abuse/stream-lag.js';
import { DEFAULT_CONSUMER_GROUP } from '../../../worker/abuse/stream-consumer.js';
import { casesModule } from '../../../worker/cases/cases-module.js';
import { COUNTRY_IPS } from '../../fixtures/country-ips.js';
import { addressesIn, addressesOfCountry, privacyAddresses, seededRandom, sendValidations, shuffled, type TrafficRequest } from '../../support/abuse-traffic.js';
import { startTestServer } from '../../support/server-fixture.js';
import { startTestWorker } from '../../support/worker-fixture.js';

const PLANS = loadPlanCatalogue({
  plans: [
    { id: 'open', rank: 1, limits: { maxActivations: null, maxDomains: null, validationsPerMonth: null } },
    { id: 'web', rank: 2, limits: { maxActivations: null, maxDomains: 3, validationsPerMonth: null } },
    { id: 'pro', rank: 3, limits: { maxActivations: 3, maxDomains: null, validationsPerMonth: null } },
  ],
});
const SEED = Number(process.env['TRAFFIC_SEED'] ?? 20_261_204);
const WAIT_LIMIT_MS = 180_000;
const ip = (country: string) => COUNTRY_IPS.find(([code]) => code === country)![1];

/** What a license or network is, and (for abusers) the signal it must raise. */
type Label = { readonly kind: string; readonly abuse: AbuseSignal['kind'] | null };

describe('labelled realistic traffic', () => {
  it('catches every abuser of each kind and flags under 1 % of legitimate licenses', { timeout: 600_000 }, async () => {
    const random = seededRandom(SEED);
    const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    const server = await startTestServer({ plans: PLANS }, serverWiring);
    const { streamPrefix, partitions } = server.config.events;
    const worker = await startTestWorker(
      { mongoDb: server.config.mongoDb, events: { streamPrefix, partitions }, queuePrefix: server.config.queuePrefix, plans: PLANS },
      [casesModule, createAbuseDetectorModule({ claimIdleMs: 1_000 })],
      { dropDatabase: false },
    );
    const client = await new MongoClient(server.config.mongoUrl).connect();
    const db = client.db(server.config.mongoDb);
    const labels = new Map<string, Label>();
    const traffic: TrafficRequest[] = [];
    const issue = async (planId: string, label: Label) => {
      const issued = await server.server.keyward.licenses.issue({ planId, periodEndsAt: new Date(Date.now() + 30 * 86_400_000) });
      if (!issued.ok) throw new Error(`issue on ${planId}: ${issued.refusal.code}`);
      labels.set(issued.value.record.license.id, label);
      return issued.value.key;
    };
    const activate = async (key: string, body: { fingerprint?: string; domain?: string }, from: string) => {
      const answer = await server.post('/v1/licenses/activate', { key, ...body }, { 'x-forwarded-for': from });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    };
    const legit = (kind: string): Label => ({ kind, abuse: null });
    /** Each distributed sweep's network group, and how many of its networks it used. */
    const sweeps = new Map<string, number>();

    try {
      // Heavy enterprise keys: 900-1,400 validations an hour from 3 NAT addresses in 2-3 countries.
      for (let i = 0; i < 4; i += 1) {
        const key = await issue('open', legit('enterprise NAT'));
        const nat = [`${ip('DE').replace(/\.\d+$/, '')}.${40 + i}`, `${ip('US').replace(/\.\d+$/, '')}.${40 + i}`, `${ip(i % 2 === 0 ? 'GB' : 'FR').replace(/\.\d+$/, '')}.${40 + i}`];
        traffic.push(...Array.from({ length: between(900, 1_400) }, (_, n) => ({ key, ip: nat[n % 3]!, fingerprint: `desk-${i}-${n % 400}` })));
      }
      // CI farms: dozens of cloud addresses of one provider (one country), hundreds of runs.
      for (let i = 0; i < 3; i += 1) {
        const key = await issue('open', legit('CI farm'));
        const runners = addressesIn(`3.14.${20 + i}`, between(30, 45));
        traffic.push(...Array.from({ length: between(500, 1_000) }, (_, n) => ({ key, ip: runners[n % runners.length]!, fingerprint: `runner-${i}-${n % 60}` })));
      }
      // Customers behind one carrier NAT: ten keys sharing the same two public addresses.
      const carrier = addressesOfCountry(ip('IN'), 2);
      for (let i = 0; i < 10; i += 1) {
        const key = await issue('open', legit('carrier NAT'));
        traffic.push(...Array.from({ length: between(10, 30) }, (_, n) => ({ key, ip: carrier[n % 2]!, fingerprint: `phone-${i}` })));
      }
      // Travellers: one laptop in 3-6 countries.
      for (let i = 0; i < 6; i += 1) {
        const key = await issue('open', legit('traveller'));
        const visited = shuffled(COUNTRY_IPS, random).slice(0, between(3, 6));
        traffic.push(...Array.from({ length: between(20, 40) }, (_, n) => ({ key, ip: visited[n % visited.length]![1], fingerprint: `laptop-${i}` })));
      }
      // IPv6 privacy addresses: a new interface id per connection, one /64.
      for (let i = 0; i < 6; i += 1) {
        const key = await issue('open', legit('IPv6 privacy'));
        const addresses = privacyAddresses(`2a02:8109:b6c0:${(0x1000 + i).toString(16)}`, 40, random);
        traffic.push(...addresses.map((address) => ({ key, ip: address, fingerprint: `mac-${i}` })));
      }
      // Licensed sites on their subdomains, ports and www.
      for (let i = 0; i < 6; i += 1) {
        const domain = `shop-${i}.example`;
        const key = await issue('web', legit('licensed subdomains and ports'));
        await activate(key, { domain }, ip('NL'));
        const origins = [`https://${domain}`, `https://app.${domain}:8443`, `https://www.${domain}`, `https://cdn.eu.${domain}`];
        traffic.push(...Array.from({ length: 20 }, (_, n) => ({ key, ip: addressesOfCountry(ip('NL'), 20)[n]!, domain, origin: origins[n % 4]!, referer: `${origins[n % 4]!}/checkout?step=${n}` })));
      }
      // Local development of a licensed site.
      for (let i = 0; i < 5; i += 1) {
        const domain = `dev-${i}.example`;
        const key = await issue('web', legit('local development'));
        await activate(key, { domain }, ip('SE'));
        const origins = ['http://localhost:3000', 'http://127.0.0.1:8000', 'http://[::1]:5173', 'http://192.168.1.20:8080', 'http://10.0.0.5', 'http://myapp.localhost:4200'];
        traffic.push(...origins.flatMap((origin) => Array.from({ length: 3 }, () => ({ key, ip: ip('SE'), domain, origin, referer: `${origin}/`, fingerprint: `dev-box-${i}` }))));
      }
      // Seats used as sold: 3 machines activated, and one new laptop answered NOT_ACTIVATED before its activation.
      for (let i = 0; i < 6; i += 1) {
        const key = await issue('pro', legit('seats as sold'));
        for (let m = 0; m < 3; m += 1) await activate(key, { fingerprint: `ws-${i}-${m}` }, ip('CA'));
        traffic.push(...Array.from({ length: 30 }, (_, n) => ({ key, ip: ip('CA'), fingerprint: `ws-${i}-${n % 3}` })), { key, ip: ip('CA'), fingerprint: `new-laptop-${i}` });
      }
      // Typing mistakes and deleted keys: one or two misses from each of many networks, by the real client.
      const client = 'keyward-client/1.4.2 (node 20.19; linux)';
      for (const [, sample] of COUNTRY_IPS) traffic.push(...Array.from({ length: between(1, 2) }, () => ({ key: generateKey(), ip: sample, userAgent: client })));
      // A big carrier's /16: customers in 8-12 of its /24s mistype or run a deleted key, 1-3 times each.
      for (let n = 0; n < between(8, 12); n += 1) {
        traffic.push(...Array.from({ length: between(1, 3) }, () => ({ key: generateKey(), ip: `${ip('IN').split('.').slice(0, 2).join('.')}.${(n * 17) % 256}.${between(1, 254)}`, userAgent: client })));
      }
      // An old client with a deleted key behind an office NAT, retrying on every launch.
      const deleted = generateKey();
      traffic.push(...Array.from({ length: 12 }, () => ({ key: deleted, ip: ip('JP'), userAgent: 'keyward-client/0.9.1' })));

      // Abusers. Shared keys: 1,100-1,300 validations an hour from 60-100 addresses.
      for (let i = 0; i < 2; i += 1) {
        const key = await issue('open', { kind: 'shared', abuse: 'velocity' });
        const users = [...addressesOfCountry(ip('BR'), 50), ...addressesOfCountry(ip('ZA'), between(10, 50))];
        traffic.push(...Array.from({ length: between(1_100, 1_300) }, (_, n) => ({ key, ip: users[n % users.length]!, fingerprint: `user-${n % 90}` })));
      }
      // Resold keys: 24-30 countries in a day.
      for (let i = 0; i < 2; i += 1) {
        const key = await issue('open', { kind: 'resold', abuse: 'geo_spread' });
        const buyers = shuffled(COUNTRY_IPS, random).slice(0, between(24, 30));
        traffic.push(...buyers.flatMap(([, address], n) => [{ key, ip: address, fingerprint: `buyer-${n}` }, { key, ip: address, fingerprint: `buyer-${n}` }]));
      }
      // Spoofed: a site's key copied onto other sites, claiming the licensed domain.
      const pirates = ['https://free_keys.mirror.example.net', 'https://warez.example.org', 'https://[2a00:1450:4001:81b::200e]'];
      for (let i = 0; i < 3; i += 1) {
        const domain = `real-${i}.example`;
        const key = await issue('web', { kind: 'spoofed', abuse: 'domain_spoofing' });
        await activate(key, { domain }, ip('IT'));
        traffic.push(...Array.from({ length: 10 }, () => ({ key, ip: ip('IT'), domain, origin: `https://${domain}` })));
        traffic.push(...Array.from({ length: between(2, 6) }, (_, n) => ({ key, ip: ip('RU'), domain, origin: pirates[(i + n) % 3]! })));
      }
      // Key guessing: 40-60 random keys from one /24.
      for (let i = 0; i < 2; i += 1) {
        const network = `45.83.${64 + i}`;
        labels.set(`${network}.0/24`, { kind: 'guessing', abuse: 'key_guessing' });
        traffic.push(...Array.from({ length: between(40, 60) }, (_, n) => ({ key: generateKey(), ip: `${network}.${(n % 30) + 1}` })));
      }
      // Distributed key guessing: 40-60 /24s of one /16 (and /64s of one IPv6 /32), 1-5 random keys each.
      for (const [group, networkOf] of [
        ['185.220.0.0/16', (n: number) => `185.220.${n * 3}.${between(1, 254)}`],
        ['2a0e:97c0::/32', (n: number) => `2a0e:97c0:${(0x100 + n).toString(16)}:1::${between(1, 0xffff).toString(16)}`],
      ] as const) {
        labels.set(group, { kind: 'distributed guessing', abuse: 'distributed_key_guessing' });
        const networks = between(40, 60);
        sweeps.set(group, networks);
        for (let n = 0; n < networks; n += 1) {
          traffic.push(...Array.from({ length: between(1, 5) }, () => ({ key: generateKey(), ip: networkOf(n), userAgent: 'python-requests/2.31.0' })));
        }
      }
      // Seat sharing: a 3-seat key on 8-10 machines.
      for (let i = 0; i < 2; i += 1) {
        const key = await issue('pro', { kind: 'seat sharing', abuse: 'seat_sharing' });
        for (let m = 0; m < 3; m += 1) await activate(key, { fingerprint: `shared-${i}-${m}` }, ip('AU'));
        const machines = between(8, 10);
        traffic.push(...Array.from({ length: 60 }, (_, n) => ({ key, ip: addressesOfCountry(ip('AU'), 60)[n]!, fingerprint: `shared-${i}-${n % machines}` })));
      }

      await sendValidations(server.url, shuffled(traffic, random));
      await waitForDrain(worker.context.redis, allStreamKeys(partitions, streamPrefix));

      const signals = await new MongoSignalStore({ db }).list({ limit: 10_000 });
      const raised = new Map<string, Set<string>>();
      for (const signal of signals) {
        const subject = signal.subject.type === 'license' ? signal.subject.licenseId : signal.subject.network;
        raised.set(subject, (raised.get(subject) ?? new Set()).add(signal.kind));
      }
      const byKind = new Map<string, { total: number; hit: number }>();
      let legitimate = 0;
      const falsePositives: string[] = [];
      for (const [subject, label] of labels) {
        const tally = byKind.get(label.kind) ?? { total: 0, hit: 0 };
        tally.total += 1;
        const kinds = raised.get(subject) ?? new Set<string>();
        if (label.abuse === null) {
          legitimate += 1;
          if (kinds.size > 0) falsePositives.push(`${label.kind} ${subject}: ${[...kinds].join(', ')}`);
        } else if (kinds.has(label.abuse)) tally.hit += 1;
        byKind.set(label.kind, tally);
      }
      const unlabelled = [...raised.keys()].filter((subject) => !labels.has(subject));
      const recall = [...byKind].filter(([kind]) => [...labels.values()].some((label) => label.kind === kind && label.abuse !== null));
      console.log(`labelled traffic (seed ${SEED}): ${traffic.length} validations, ${labels.size} subjects`);
      console.table(recall.map(([kind, { total, hit }]) => ({ kind, abusers: total, caught: hit, recall: `${((100 * hit) / total).toFixed(0)} %` })));
      console.log(`false positives: ${falsePositives.length} of ${legitimate} legitimate licenses (${((100 * falsePositives.length) / legitimate).toFixed(2)} %)${falsePositives.length > 0 ? `: ${falsePositives.join('; ')}` : ''}`);

      for (const [kind, { total, hit }] of recall) expect(hit, `recall of ${kind}`).toBe(total);
      expect(falsePositives.length / legitimate).toBeLessThan(0.01);
      // Nothing flagged outside the labelled subjects (no background network of typos).
      expect(unlabelled).toEqual([]);
      // A distributed sweep is one case, its networks in the evidence, not a case per /24.
      for (const [group, networks] of sweeps) {
        const found = signals.filter((signal) => signal.kind === 'distributed_key_guessing' && signal.subject.type === 'network' && signal.subject.network === group);
        expect(Math.max(...found.map((signal) => signal.evidence.networks?.length ?? 0)), group).toBe(networks);
        expect(found.every((signal) => signal.evidence.userAgents?.[0]?.value === 'python-requests/2.31.0')).toBe(true);
      }
      const cases = await db.collection<{ subject: AbuseSignal['subject']; timeline: { kind: string }[] }>('abuse_cases').find({ 'timeline.kind': 'distributed_key_guessing' }).toArray();
      expect(cases.map(({ subject }) => (subject.type === 'network' ? subject.network : subject.licenseId)).sort()).toEqual([...sweeps.keys()].sort());
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
