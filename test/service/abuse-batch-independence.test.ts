/**
 * Invariant (design.md, "Detection"): the same validation events give the same signals, values
 * and evidence, and the same window state in Redis, however the stream is cut into batches,
 * whichever consumer of a partition takes each batch, and with batches delivered again after a
 * crash (whole, or overlapping the entries already applied). Checked on the real Lua scripts
 * against the test Redis, with every window rule (velocity, geo spread, domain spoofing, key
 * guessing, distributed key guessing, seat sharing) able to fire: thresholds are lowered so that a few hundred events cross them, and
 * one license is hot enough to pass the 100 validations from which a slot counts its IPs.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AbuseSignal } from '../../lib/abuse/abuse-signal.js';
import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '../../lib/abuse/detection-thresholds.js';
import type { StreamEntry } from '../../lib/abuse/event-batch-processor.js';
import { partitionOf } from '../../lib/events/stream-partition.js';
import { routingKeyOf, type ValidationEvent } from '../../lib/events/validation-event.js';
import { AbuseDetector } from '../../lib/service/abuse-detector.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';
import { validationEvent } from '../support/abuse-events.js';
import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';
import { redisUrl, uniqueName } from '../setup/services.js';

const PARTITIONS = 4;
const NOW = new Date('2026-03-02T12:00:00.000Z');
/** Events span 08:50 to 10:10 (so slot and hour boundaries fall inside), a few out of time order. */
const START = Date.parse('2026-03-02T08:50:00.000Z');
const THRESHOLDS: DetectionThresholds = {
  ...DEFAULT_DETECTION_THRESHOLDS,
  validationsPerHour: 80,
  distinctIpsPerHour: 6,
  countriesPerDay: 5,
  missesPerNetwork: 8,
  networksPerGroup: 6,
  missesPerNetworkGroup: 10,
};

let fixture: KeywardFixture;
let redis: Redis;
let licenses: { hot: string; open: string; web: string; seats: string };

beforeAll(async () => {
  fixture = await startKeyward();
  redis = new Redis(redisUrl());
  const issue = async (planId: string) => {
    const result = await fixture.keyward.licenses.issue({ planId, periodEndsAt: new Date('2027-01-01T00:00:00Z') });
    if (!result.ok) throw new Error(result.refusal.code);
    return result.value.record.license.id;
  };
  licenses = { hot: await issue('open'), open: await issue('open'), web: await issue('web'), seats: await issue('pro') };
  const activated = await fixture.keyward.licenses.apply(licenses.web, { type: 'activate', kind: 'domain', value: 'example.com' });
  if (!activated.ok) throw new Error(activated.refusal.code);
});

afterAll(async () => {
  await redis.quit();
  await fixture.close();
});

/** Real public addresses by country (a host in the same /24 as geoip-lite's sample), and miss networks. */
const countryIp = fc.tuple(fc.constantFrom(...COUNTRY_IPS), fc.integer({ min: 1, max: 254 })).map(([[, ip], host]) => (ip.includes(':') ? ip : ip.replace(/\.\d+$/, `.${host}`)));
const officeIp = fc.constantFrom('2.161.10.20', '2.161.10.21', '3.14.10.99', '10.0.0.8', '::ffff:192.168.1.4');
const missIp = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map((host) => `91.200.12.${host}`),
  fc.integer({ min: 1, max: 9 }).map((host) => `2a00:1450:4001:81b::${host}`),
  countryIp,
);
/** A distributed sweep: one or two keys from each of many /24s of one /16. */
const sweepIp = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 254 })).map(([network, host]) => `45.83.${network}.${host}`);
const userAgent = fc.constantFrom(null, 'python-requests/2.31.0', 'keyward-client/1.4.2 (node 20)', 'curl/8.5.0');
const browser = fc.constantFrom(
  {},
  { domain: 'example.com', origin: 'https://www.example.com', referer: 'https://example.com/app' },
  { domain: 'example.com', referer: 'https://pirate-1.net/page' },
  { domain: 'warez.io', origin: 'https://warez.io' },
  { origin: 'http://localhost:3000' },
);

type EventSpec = {
  kind: 'hot' | 'open' | 'web' | 'seats' | 'miss' | 'sweep';
  offset: number;
  ip: string;
  fingerprint: string | null;
  headers: Partial<ValidationEvent>;
  malformed: boolean;
  userAgent: string | null;
};

const eventSpec = (kinds: readonly EventSpec['kind'][], from: number, to: number): fc.Arbitrary<EventSpec> =>
  fc
    .record({
      kind: fc.constantFrom(...kinds),
      offset: fc.integer({ min: from * 60_000, max: to * 60_000 }),
      ip: fc.oneof(countryIp, officeIp),
      missIp,
      sweepIp,
      userAgent,
      fingerprint: fc.option(fc.integer({ min: 0, max: 30 }).map((n) => `machine-${n}`), { nil: null }),
      headers: browser,
      malformed: fc.boolean(),
    })
    .map(({ missIp: miss, sweepIp: sweep, ...spec }) => (spec.kind === 'miss' ? { ...spec, ip: miss } : spec.kind === 'sweep' ? { ...spec, ip: sweep } : spec));

/**
 * A mixture: a burst on the hot key around the 09:30 slot boundary (often past 100 validations a
 * slot), a key sweep around 09:15 (across the 09:15 slot boundary), a sweep spread over the /24s
 * of one /16 around 09:40 (across the 09:40 boundary), and background traffic of every kind over
 * the whole span.
 */
const mixture: fc.Arbitrary<EventSpec[]> = fc
  .tuple(
    fc.array(eventSpec(['hot'], 32, 48), { minLength: 60, maxLength: 230, size: 'max' }),
    fc.array(eventSpec(['miss'], 20, 32), { minLength: 0, maxLength: 40, size: 'max' }),
    fc.array(eventSpec(['sweep'], 36, 46), { minLength: 0, maxLength: 40, size: 'max' }),
    fc.array(eventSpec(['hot', 'open', 'web', 'seats', 'miss', 'sweep'], 0, 80), { minLength: 20, maxLength: 100, size: 'max' }),
  )
  .map((parts) => parts.flat());

/** Events mostly in time order (the stream's), with the jitter of several servers' clocks. */
function eventsOf(specs: readonly EventSpec[]): ValidationEvent[] {
  const ordered = [...specs].sort((a, b) => a.offset - b.offset);
  return ordered.map((spec, i) => {
    const at = START + spec.offset + (i % 7 === 3 ? -90_000 : 0);
    const eid = `evt-${String(i).padStart(6, '0')}-0000000000000000`;
    if (spec.kind === 'miss' || spec.kind === 'sweep') return validationEvent(null, at, { ip: spec.ip, code: spec.malformed ? 'MALFORMED_KEY' : 'NOT_FOUND', eid, userAgent: spec.userAgent });
    if (spec.kind === 'seats') {
      // A 3-seat key: machines 0-2 hold its seats, the others are answered NOT_ACTIVATED.
      const seated = spec.fingerprint !== null && Number(spec.fingerprint.slice('machine-'.length)) < 3;
      return validationEvent(licenses.seats, at, { ip: spec.ip, fingerprint: spec.fingerprint, eid, code: seated ? 'VALID' : 'NOT_ACTIVATED' });
    }
    return validationEvent(licenses[spec.kind], at, { ip: spec.ip, fingerprint: spec.fingerprint, eid, ...spec.headers });
  });
}

/** Each partition's entries, in stream order. */
function partitionsOf(events: readonly ValidationEvent[]): StreamEntry[][] {
  const parts: StreamEntry[][] = Array.from({ length: PARTITIONS }, () => []);
  events.forEach((event, i) => parts[partitionOf(routingKeyOf(event), PARTITIONS)]!.push({ id: `${1_000 + i}-0`, event }));
  return parts;
}

interface Delivery {
  /** Batch sizes, cycled. */
  readonly sizes: readonly number[];
  /** Per batch: which consumer takes it, and whether it crashes before acknowledging (then the batch, grown by the next one, is delivered again). */
  readonly consumers: readonly number[];
  readonly crashes: readonly boolean[];
}

const delivery: fc.Arbitrary<Delivery> = fc.record({
  sizes: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 6 }),
  consumers: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 6 }),
  crashes: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
});

function detectorOf(names: { keyPrefix: string; collectionPrefix: string }, onSignal?: (signal: AbuseSignal) => Promise<void>): AbuseDetector {
  return new AbuseDetector({
    db: fixture.db,
    redis,
    licenses: fixture.keyward.licenses,
    plans: fixture.keyward.plans,
    ...names,
    thresholds: THRESHOLDS,
    clock: () => NOW,
    ...(onSignal ? { onSignal } : {}),
  });
}

/** One event at a time, one consumer, no crash. */
async function oneAtATime(parts: readonly StreamEntry[][]): Promise<{ keyPrefix: string; collectionPrefix: string }> {
  const names = { keyPrefix: uniqueName('indep'), collectionPrefix: `${uniqueName('indep')}_` };
  const detector = detectorOf(names);
  for (const [partition, entries] of parts.entries()) for (const entry of entries) await detector.process(partition, [entry]);
  return names;
}

/**
 * Cut into batches, partitions interleaved, batches spread over three consumers (each with its
 * own caches). A crashing consumer stores the batch's windows and signals, then fails in
 * onSignal before acknowledging: the next consumer gets the batch again, joined to the next one
 * (the stream redelivers pending entries first, then reads on).
 */
async function batched(parts: readonly StreamEntry[][], plan: Delivery): Promise<{ keyPrefix: string; collectionPrefix: string }> {
  const names = { keyPrefix: uniqueName('indep'), collectionPrefix: `${uniqueName('indep')}_` };
  let crashNext = false;
  const crashing = async () => {
    if (crashNext) {
      crashNext = false;
      throw new Error('consumer crashed before acknowledging');
    }
  };
  const consumers = [detectorOf(names, crashing), detectorOf(names, crashing), detectorOf(names, crashing)];
  const cursors = parts.map(() => 0);
  let step = 0;
  while (cursors.some((cursor, partition) => cursor < parts[partition]!.length)) {
    for (const [partition, entries] of parts.entries()) {
      if (cursors[partition]! >= entries.length) continue;
      const size = plan.sizes[step % plan.sizes.length]!;
      const batch = entries.slice(cursors[partition], cursors[partition]! + size);
      const consumer = consumers[plan.consumers[step % plan.consumers.length]!]!;
      crashNext = plan.crashes[step % plan.crashes.length]!;
      step += 1;
      try {
        await consumer.process(partition, batch);
        cursors[partition]! += batch.length;
      } catch {
        // Redelivered to the next consumer, with the entries read since.
        const again = entries.slice(cursors[partition], cursors[partition]! + batch.length + size);
        crashNext = false;
        await consumers[(plan.consumers[step % plan.consumers.length]! + 1) % consumers.length]!.process(partition, again);
        cursors[partition]! += again.length;
      }
    }
  }
  return names;
}

/** Every window hash (no TTLs) and every stored signal of a run. */
async function outcome(names: { keyPrefix: string; collectionPrefix: string }): Promise<{ windows: Record<string, Record<string, string>>; signals: AbuseSignal[] }> {
  const keys = (await redis.keys(`${names.keyPrefix}:*`)).filter((key) => !key.endsWith(':checkpoint')).sort();
  const windows: Record<string, Record<string, string>> = {};
  for (const key of keys) windows[key.slice(names.keyPrefix.length)] = await redis.hgetall(key);
  const signals = await detectorOf(names).signals.list({ limit: 10_000 });
  if (keys.length > 0) await redis.del(...keys, ...(await redis.keys(`${names.keyPrefix}:*`)));
  await fixture.db.collection(`${names.collectionPrefix}abuse_signals`).drop().catch(() => undefined);
  return { windows, signals: signals.sort((a, b) => a.id.localeCompare(b.id)) };
}

describe('abuse detection is independent of batch cuts, consumers and redeliveries', () => {
  it('gives the same windows, signals, values and evidence as one event at a time', async () => {
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(mixture, delivery, async (specs, plan) => {
        const parts = partitionsOf(eventsOf(specs));
        const reference = await outcome(await oneAtATime(parts));
        const cut = await outcome(await batched(parts, plan));
        for (const signal of reference.signals) kinds.add(signal.kind);
        expect(cut.signals.map((s) => `${s.id} ${s.value}`)).toEqual(reference.signals.map((s) => `${s.id} ${s.value}`));
        expect(cut.windows).toEqual(reference.windows);
        // One signal at a time, as JSON, so that a failure shows the field that differs.
        cut.signals.forEach((signal, i) => expect(JSON.stringify(signal)).toBe(JSON.stringify(reference.signals[i])));
        expect(cut.signals).toEqual(reference.signals);
      }),
      {
        numRuns: Number(process.env['INDEP_RUNS'] ?? 8),
        endOnFailure: true,
        // To replay a failure: INDEP_SEED and INDEP_PATH from fast-check's report.
        ...(process.env['INDEP_SEED'] === undefined ? {} : { seed: Number(process.env['INDEP_SEED']), path: process.env['INDEP_PATH'] ?? '0' }),
      },
    );
    // The property is only as strong as the rules it reached.
    expect([...kinds].sort()).toEqual(['distributed_key_guessing', 'domain_spoofing', 'geo_spread', 'key_guessing', 'seat_sharing', 'velocity']);
  }, 600_000);
});
