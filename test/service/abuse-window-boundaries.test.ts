/**
 * Invariant: a burst or sweep is caught wherever it falls on the clock. Velocity, geo spread,
 * key guessing and distributed key guessing use windows that start at every slot (half their length), so any burst no longer
 * than a slot lies whole inside one window: its signal has the value it would have if the burst
 * sat in the middle of one fixed bucket, for any offset across the slot and hour boundaries and
 * any batch cuts. Real Redis, the real Lua script, real per-country addresses.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '../../lib/abuse/detection-thresholds.js';
import type { ValidationEvent } from '../../lib/events/validation-event.js';
import { AbuseDetector } from '../../lib/service/abuse-detector.js';
import { WINDOW_GEOMETRY, type WindowRule } from '../../lib/service/abuse-window-plan.js';
import { COUNTRY_IPS } from '../fixtures/country-ips.js';
import { streamEntries, validationEvent } from '../support/abuse-events.js';
import { startKeyward, type KeywardFixture } from '../support/keyward-fixture.js';
import { redisUrl, uniqueName } from '../setup/services.js';

const THRESHOLDS: DetectionThresholds = { ...DEFAULT_DETECTION_THRESHOLDS, validationsPerHour: 120, distinctIpsPerHour: 10 };
const DAY = Date.parse('2026-03-02T00:00:00.000Z');

let fixture: KeywardFixture;
let redis: Redis;

beforeAll(async () => {
  fixture = await startKeyward();
  redis = new Redis(redisUrl());
});

afterAll(async () => {
  await redis.quit();
  await fixture.close();
});

async function issue(): Promise<string> {
  const result = await fixture.keyward.licenses.issue({ planId: 'open', periodEndsAt: new Date('2027-01-01T00:00:00Z') });
  if (!result.ok) throw new Error(result.refusal.code);
  return result.value.record.license.id;
}

/** The burst of each rule: `count` events spread evenly over `spanMs` from `start`. */
function burst(rule: WindowRule, subject: string, start: number, spanMs: number, count: number): ValidationEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const at = start + Math.floor((i * spanMs) / count);
    const [, ip] = COUNTRY_IPS[i % COUNTRY_IPS.length]!;
    switch (rule) {
      case 'velocity':
        return validationEvent(subject, at, { ip: ip.includes(':') ? ip : ip.replace(/\.\d+$/, `.${(i % 50) + 1}`) });
      case 'geo_spread':
        return validationEvent(subject, at, { ip });
      case 'distributed_key_guessing':
        // Two keys from each of 24 /24s of one /16.
        return validationEvent(null, at, { ip: `45.83.${i % 24}.${(i % 7) + 1}`, code: i % 5 === 0 ? 'MALFORMED_KEY' : 'NOT_FOUND' });
      default:
        return validationEvent(null, at, { ip: `91.200.12.${(i % 20) + 1}`, code: i % 5 === 0 ? 'MALFORMED_KEY' : 'NOT_FOUND' });
    }
  });
}

/** The largest value among the rule's signals after processing `events` in batches of `size`. */
async function largestSignal(rule: WindowRule, events: readonly ValidationEvent[], size: number): Promise<number> {
  const detector = new AbuseDetector({
    db: fixture.db,
    redis,
    licenses: fixture.keyward.licenses,
    plans: fixture.keyward.plans,
    keyPrefix: uniqueName('edge'),
    collectionPrefix: `${uniqueName('edge')}_`,
    thresholds: THRESHOLDS,
    clock: () => new Date(DAY + 86_400_000),
  });
  const entries = streamEntries(events);
  for (let i = 0; i < entries.length; i += size) await detector.process(5, entries.slice(i, i + size));
  const signals = (await detector.signals.list({ kind: rule, limit: 1_000 })).map((signal) => signal.value);
  await detector.signals.collection.drop();
  return Math.max(0, ...signals);
}

describe('windows that straddle a boundary', () => {
  it.each([
    // rule, events in the burst, span (at most one slot)
    ['velocity', 150, WINDOW_GEOMETRY.velocity.slotMs],
    ['geo_spread', 30, WINDOW_GEOMETRY.geo_spread.slotMs],
    ['key_guessing', 36, WINDOW_GEOMETRY.key_guessing.slotMs],
    ['distributed_key_guessing', 48, WINDOW_GEOMETRY.distributed_key_guessing.slotMs],
  ] as const)('catch a %s burst of %d events whole, wherever it starts', async (rule, count, spanMs) => {
    const subject = rule === 'key_guessing' || rule === 'distributed_key_guessing' ? 'network' : await issue();
    // Just past the threshold: split in two halves by a fixed bucket, neither half would be.
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 * WINDOW_GEOMETRY[rule].slotMs }), fc.integer({ min: 1, max: 60 }), async (offset, size) => {
        const events = burst(rule, subject === 'network' ? subject : await issue(), DAY + 6 * 3_600_000 + offset, spanMs - 1, count);
        const value = await largestSignal(rule, events, size);
        // Distributed key guessing counts the sweep's networks (24), the others its events.
        expect(value).toBe(rule === 'geo_spread' ? COUNTRY_IPS.length : rule === 'distributed_key_guessing' ? 24 : count);
      }),
      { numRuns: rule === 'velocity' ? 6 : 10 },
    );
  }, 300_000);

  it('the old fixed hour would have missed the velocity burst split by the hour boundary', async () => {
    // 150 validations from 09:45 to 10:15: about 75 in each clock hour, neither past 120.
    const events = burst('velocity', await issue(), DAY + 9.75 * 3_600_000, 30 * 60_000 - 1, 150);
    const perClockHour = new Map<number, number>();
    for (const event of events) perClockHour.set(Math.floor(event.at / 3_600_000), (perClockHour.get(Math.floor(event.at / 3_600_000)) ?? 0) + 1);
    expect(perClockHour.size).toBe(2);
    for (const count of perClockHour.values()) expect(count).toBeLessThanOrEqual(THRESHOLDS.validationsPerHour);
    expect(await largestSignal('velocity', events, 40)).toBe(150);
  });
});
